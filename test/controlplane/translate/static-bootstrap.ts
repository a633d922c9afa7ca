/**
 * What a Weft proxy's ADS client does with a snapshot, done by hand: resolves
 * each listener's RDS name to its RouteConfiguration and each EDS cluster to a
 * STATIC cluster with its ClusterLoadAssignment, giving a bootstrap the proxy's
 * own loader accepts.
 */
import type { XdsResources } from '../../../src/controlplane/translate/translate.js';

type Json = Record<string, unknown>;

export function toStaticBootstrap(xds: XdsResources): Json {
  const routes = new Map((xds.routes as Json[]).map((r) => [r['name'], r]));
  const assignments = new Map((xds.endpoints as Json[]).map((e) => [e['cluster_name'], e]));
  const listeners = (xds.listeners as Json[]).map((listener) => {
    const copy = structuredClone(listener) as { filter_chains: Array<{ filters: Array<{ typed_config: Json }> }> };
    for (const filter of copy.filter_chains[0]!.filters) {
      const rds = filter.typed_config['rds'] as { route_config_name: string } | undefined;
      if (rds === undefined) continue;
      delete filter.typed_config['rds'];
      filter.typed_config['route_config'] = routes.get(rds.route_config_name);
    }
    return copy;
  });
  const clusters = (xds.clusters as Json[]).map((cluster) => {
    if (cluster['type'] !== 'EDS') return cluster;
    const { eds_cluster_config: _eds, ...rest } = cluster;
    return { ...rest, type: 'STATIC', load_assignment: assignments.get(cluster['name']) };
  });
  return { static_resources: { listeners, clusters } };
}
