/**
 * The set of clusters of the current config snapshot. An update keeps clusters
 * whose config is deep-equal (pools, health and ejection state intact), moves
 * clusters whose only change is their endpoint list onto the new list in
 * place, and replaces the rest; replaced and removed clusters drain until
 * `close()`.
 */
import type * as dns from 'node:dns';
import { lazyBuiltin } from '../../lib/lazy-builtin.js';
import { isDeepStrictEqual } from 'node:util';
import type { ClusterConfig } from '../config/types.js';
import { createCluster, isDnsCluster, type ClusterDeps, type ManagedCluster } from './cluster.js';
import { createSecretStore } from '../tls/secret-store.js';
import { defaultConnect } from './pool.js';
import type { Cluster, ClusterManager, ClusterManagerOptions, LookupFn } from './types.js';

function sameExceptEndpoints(a: ClusterConfig, b: ClusterConfig): boolean {
  return isDeepStrictEqual({ ...a, endpoints: [] }, { ...b, endpoints: [] });
}

class UpstreamClusterManager implements ClusterManager {
  private clusters = new Map<string, ManagedCluster>();
  private list: readonly ManagedCluster[] = [];
  /** Replaced or removed clusters whose connections may still be in use. */
  private readonly retired = new Set<ManagedCluster>();

  constructor(private readonly deps: ClusterDeps) {}

  get(name: string): Cluster | undefined {
    return this.clusters.get(name);
  }

  update(configs: readonly ClusterConfig[]): void {
    const next = new Map<string, ManagedCluster>();
    for (const config of configs) {
      // Names are unique after validation; a duplicate is ignored rather than started and leaked.
      if (next.has(config.name)) continue;
      const existing = this.clusters.get(config.name);
      if (existing !== undefined && isDeepStrictEqual(existing.config, config)) {
        next.set(config.name, existing);
      } else if (existing !== undefined && !isDnsCluster(config) && sameExceptEndpoints(existing.config, config)) {
        existing.replaceEndpoints(config);
        next.set(config.name, existing);
      } else {
        next.set(config.name, createCluster(config, this.deps));
      }
    }
    for (const retired of this.retired) if (retired.resources.activeConnections === 0) this.retired.delete(retired);
    for (const [name, cluster] of this.clusters) {
      if (next.get(name) === cluster) continue;
      cluster.shutdown(false);
      this.retired.add(cluster);
    }
    this.clusters = next;
    this.list = [...next.values()];
  }

  async ready(): Promise<void> {
    await Promise.all(this.list.map((c) => c.initialized));
  }

  all(): readonly Cluster[] {
    return this.list;
  }

  async close(): Promise<void> {
    for (const cluster of [...this.list, ...this.retired]) cluster.shutdown(true);
    this.clusters = new Map();
    this.list = [];
    this.retired.clear();
  }
}

/** node:dns only once a STRICT_DNS/LOGICAL_DNS cluster resolves (static clusters never load it). */
const nodeDns = lazyBuiltin<typeof dns>('node:dns');
const systemLookup: LookupFn = (hostname, options, callback) => nodeDns().lookup(hostname, options, callback);

export function createClusterManager(opts: ClusterManagerOptions): ClusterManager {
  return new UpstreamClusterManager({
    stats: opts.stats,
    now: opts.now ?? Date.now,
    random: opts.random ?? Math.random,
    lookup: opts.lookup ?? systemLookup,
    connect: opts.connect ?? defaultConnect,
    secrets: opts.secrets ?? createSecretStore(),
    ...(opts.onError !== undefined ? { onError: opts.onError } : {}),
  });
}
