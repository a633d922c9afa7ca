/**
 * The check a snapshot passes before the cache publishes it: every route
 * configuration a listener's HTTP connection manager names over RDS is in the
 * snapshot, every EDS cluster has its ClusterLoadAssignment, and every
 * resource is filed under its own name. A client given a dangling reference
 * would wait for a resource that never comes (or warm a cluster forever).
 */
import type { EnvoyJson } from '../../xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SERVED_TYPE_SHORT_NAMES as TYPE_SHORT_NAMES,
} from '../../xds/type-urls.js';
import { resourceName, type Snapshot } from './snapshot.js';

export interface SnapshotProblem {
  /** Where, e.g. `LDS[echo].api_listener.api_listener.rds.route_config_name`. */
  path: string;
  reason: string;
}

export function snapshotProblems(snapshot: Snapshot): SnapshotProblem[] {
  const problems: SnapshotProblem[] = [];
  for (const [typeUrl, byName] of snapshot.resources) {
    for (const [name, { resource }] of byName) {
      const own = resourceName(typeUrl, resource);
      if (own !== name) {
        problems.push({ path: `${TYPE_SHORT_NAMES[typeUrl]}[${name}]`, reason: `is filed under ${JSON.stringify(name)} but names itself ${JSON.stringify(own)}` });
      }
    }
  }
  const routes = snapshot.resources.get(ROUTE_CONFIGURATION_TYPE_URL);
  for (const [name, { resource }] of snapshot.resources.get(LISTENER_TYPE_URL) ?? []) {
    for (const { path, hcm } of connectionManagers(resource)) {
      const rds = asObject(hcm['rds']);
      const routeName = rds?.['route_config_name'];
      if (typeof routeName === 'string' && !routes?.has(routeName)) {
        problems.push({ path: `LDS[${name}].${path}.rds.route_config_name`, reason: `names RouteConfiguration ${JSON.stringify(routeName)}, which the snapshot does not contain` });
      }
    }
  }
  const assignments = snapshot.resources.get(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL);
  for (const [name, { resource }] of snapshot.resources.get(CLUSTER_TYPE_URL) ?? []) {
    if (resource['type'] !== 'EDS') continue;
    const serviceName = asObject(resource['eds_cluster_config'])?.['service_name'];
    const assignmentName = typeof serviceName === 'string' && serviceName !== '' ? serviceName : name;
    if (!assignments?.has(assignmentName)) {
      problems.push({ path: `CDS[${name}]`, reason: `is an EDS cluster but the snapshot has no ClusterLoadAssignment ${JSON.stringify(assignmentName)}` });
    }
  }
  return problems;
}

/** Every HTTP connection manager in a listener: the API listener's and each filter chain's. */
function connectionManagers(listener: EnvoyJson): { path: string; hcm: EnvoyJson }[] {
  const found: { path: string; hcm: EnvoyJson }[] = [];
  const apiListener = asObject(asObject(listener['api_listener'])?.['api_listener']);
  if (apiListener?.['@type'] === HTTP_CONNECTION_MANAGER_TYPE_URL) found.push({ path: 'api_listener.api_listener', hcm: apiListener });
  const chains: [string, unknown][] = asArray(listener['filter_chains']).map((chain, i) => [`filter_chains[${i}]`, chain]);
  chains.push(['default_filter_chain', listener['default_filter_chain']]);
  for (const [chainPath, chain] of chains) {
    asArray(asObject(chain)?.['filters']).forEach((filter, i) => {
      const config = asObject(asObject(filter)?.['typed_config']);
      if (config?.['@type'] === HTTP_CONNECTION_MANAGER_TYPE_URL) found.push({ path: `${chainPath}.filters[${i}].typed_config`, hcm: config });
    });
  }
  return found;
}

function asObject(value: unknown): EnvoyJson | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as EnvoyJson) : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
