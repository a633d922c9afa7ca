/**
 * Envoy's `/clusters` text: one `cluster::host::stat::value` line per fact, the
 * shape scripts written for Envoy grep.
 */
import type { Cluster } from '../upstream/types.js';

export function dumpClustersText(clusters: readonly Cluster[]): string {
  let out = '';
  for (const cluster of clusters) {
    const name = cluster.name;
    const breakers = cluster.config.circuitBreakers;
    out += `${name}::default_priority::max_connections::${breakers.maxConnections}\n`;
    out += `${name}::default_priority::max_pending_requests::${breakers.maxPendingRequests}\n`;
    out += `${name}::default_priority::max_requests::${breakers.maxRequests}\n`;
    out += `${name}::default_priority::max_retries::${breakers.maxRetries}\n`;
    out += `${name}::added_via_api::false\n`;
    for (const host of cluster.hosts()) {
      const prefix = `${name}::${host.label}`;
      out += `${prefix}::rq_active::${host.activeRequests}\n`;
      out += `${prefix}::hostname::${host.hostname}\n`;
      out += `${prefix}::health_flags::${host.healthy() ? 'healthy' : '/failed_active_hc_or_outlier'}\n`;
      out += `${prefix}::weight::${host.weight}\n`;
    }
  }
  return out;
}
