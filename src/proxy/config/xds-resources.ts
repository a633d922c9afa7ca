/**
 * Resources from an ADS server -> the internal config. Each Listener, Cluster,
 * RouteConfiguration, ClusterLoadAssignment and Secret is validated with the same
 * schemas and normalized by the same code as the static_resources of a
 * bootstrap; then they are merged with the static bootstrap into one Bootstrap:
 * RDS route configs become their HCM's routeConfig, EDS assignments their
 * cluster's endpoints. Error paths name the resource as /config_dump does, e.g.
 * `dynamic_listeners["http"].filter_chains[0]...`.
 *
 * Cluster references inside dynamic resources are not checked: over ADS a route
 * may arrive before its cluster, and the router answers 503 for a missing one.
 */
import { ConfigError } from '../../lib/errors.js';
import { normalizeCluster, normalizeLoadAssignment } from './normalize-cluster.js';
import { normalizeListener, type ListenerContext } from './normalize-listener.js';
import { normalizeRouteConfiguration } from './normalize-route.js';
import { adsSecretNames, normalizeSecret } from './normalize-tls.js';
import { fieldPath } from './path.js';
import { Cluster, ClusterLoadAssignment, type RawCluster, type RawClusterLoadAssignment } from './schema-cluster.js';
import { Listener, type RawListener } from './schema-listener.js';
import { RouteConfiguration as RouteConfigurationSchema, type RawRouteConfiguration } from './schema-route.js';
import { Secret as SecretSchema, type RawSecret } from './schema-tls.js';
import type { Bootstrap, ClusterConfig, EndpointConfig, ListenerConfig, RouteConfiguration, SecretConfig } from './types.js';
import { compileValidator, type Validator } from './validator.js';

const validateListener: Validator<RawListener> = compileValidator(Listener);
const validateCluster: Validator<RawCluster> = compileValidator(Cluster);
const validateRouteConfiguration: Validator<RawRouteConfiguration> = compileValidator(RouteConfigurationSchema);
const validateClusterLoadAssignment: Validator<RawClusterLoadAssignment> = compileValidator(ClusterLoadAssignment);
const validateSecret: Validator<RawSecret> = compileValidator(SecretSchema);

/** The resources of each type the ADS server sent, as proto3 JSON (snake_case field names), by resource name. */
export interface XdsResourceSet {
  listeners: ReadonlyMap<string, unknown>;
  clusters: ReadonlyMap<string, unknown>;
  routeConfigs: ReadonlyMap<string, unknown>;
  loadAssignments: ReadonlyMap<string, unknown>;
  /** SDS (`envoy.extensions.transport_sockets.tls.v3.Secret`). */
  secrets: ReadonlyMap<string, unknown>;
}

/** The /config_dump section names Envoy uses, which also prefix error paths. */
export const XDS_SECTIONS = {
  listeners: 'dynamic_listeners',
  clusters: 'dynamic_active_clusters',
  routeConfigs: 'dynamic_route_configs',
  loadAssignments: 'dynamic_endpoint_configs',
  secrets: 'dynamic_active_secrets',
} as const;

const DYNAMIC_LISTENER_CONTEXT: ListenerContext = { checkCluster: () => undefined, ads: true };

export function resourcePath(kind: keyof typeof XDS_SECTIONS, name: string): string {
  return `${XDS_SECTIONS[kind]}[${JSON.stringify(name)}]`;
}

export function parseListenerResource(doc: unknown, name: string): ListenerConfig {
  const path = resourcePath('listeners', name);
  validateListener(doc, path);
  checkName(doc.name, name, path);
  return normalizeListener({ ...doc, name }, path, DYNAMIC_LISTENER_CONTEXT);
}

export function parseClusterResource(doc: unknown, name: string): ClusterConfig {
  const path = resourcePath('clusters', name);
  validateCluster(doc, path);
  checkName(doc.name, name, path);
  return normalizeCluster(doc, path, { ads: true, isAdsCluster: false });
}

export function parseRouteConfigurationResource(doc: unknown, name: string): RouteConfiguration {
  const path = resourcePath('routeConfigs', name);
  validateRouteConfiguration(doc, path);
  checkName(doc.name, name, path);
  return normalizeRouteConfiguration(doc, path, DYNAMIC_LISTENER_CONTEXT.checkCluster);
}

export function parseLoadAssignmentResource(doc: unknown, name: string): EndpointConfig[] {
  const path = resourcePath('loadAssignments', name);
  validateClusterLoadAssignment(doc, path);
  checkName(doc.cluster_name, name, fieldPath(path, 'cluster_name'));
  return normalizeLoadAssignment(doc, 'EDS', path);
}

export function parseSecretResource(doc: unknown, name: string): SecretConfig {
  const path = resourcePath('secrets', name);
  validateSecret(doc, path);
  checkName(doc.name, name, path);
  return normalizeSecret(doc, path);
}

/** A resource is keyed by its own name; a mismatch means a broken server. */
function checkName(declared: string | undefined, name: string, path: string): void {
  if (declared !== undefined && declared !== name) throw new ConfigError(path, `the resource is named ${JSON.stringify(declared)}, not ${JSON.stringify(name)}`);
}

/**
 * The static bootstrap plus every dynamic resource, as one Bootstrap. Throws
 * ConfigError for the first bad resource. RDS/EDS names not received yet leave
 * an empty route config / endpoint list (see referencedNames).
 */
export function composeBootstrap(base: Bootstrap, resources: XdsResourceSet): Bootstrap {
  const staticClusters = new Set(base.clusters.map((c) => c.name));
  const dynamicClusters = [...resources.clusters].map(([name, doc]) => {
    if (staticClusters.has(name)) throw new ConfigError(resourcePath('clusters', name), `a static cluster is already named ${JSON.stringify(name)}`);
    return parseClusterResource(doc, name);
  });
  const assignments = new Map([...resources.loadAssignments].map(([name, doc]) => [name, parseLoadAssignmentResource(doc, name)]));
  const clusters = [...base.clusters, ...dynamicClusters].map((cluster) => {
    const endpoints = cluster.edsServiceName === undefined ? undefined : assignments.get(cluster.edsServiceName);
    return endpoints === undefined ? cluster : { ...cluster, endpoints };
  });

  const staticListeners = new Set(base.listeners.map((l) => l.name));
  const dynamicListeners = [...resources.listeners].map(([name, doc]) => {
    if (staticListeners.has(name)) throw new ConfigError(resourcePath('listeners', name), `a static listener is already named ${JSON.stringify(name)}`);
    return parseListenerResource(doc, name);
  });
  checkUniqueAddresses(base.listeners, dynamicListeners);
  const routeConfigs = new Map([...resources.routeConfigs].map(([name, doc]) => [name, parseRouteConfigurationResource(doc, name)]));
  const listeners = [...base.listeners, ...dynamicListeners].map((listener) => ({
    ...listener,
    filterChains: listener.filterChains.map((chain) => {
      const { filter } = chain;
      const routeConfig = filter.kind === 'http' && filter.rds !== undefined ? routeConfigs.get(filter.rds.routeConfigName) : undefined;
      return routeConfig === undefined ? chain : { ...chain, filter: { ...filter, routeConfig } };
    }),
  }));
  const staticSecrets = new Set(base.secrets.map((s) => s.name));
  const dynamicSecrets = [...resources.secrets].map(([name, doc]) => {
    if (staticSecrets.has(name)) throw new ConfigError(resourcePath('secrets', name), `a static secret is already named ${JSON.stringify(name)}`);
    return parseSecretResource(doc, name);
  });
  return { ...base, listeners, clusters, secrets: [...base.secrets, ...dynamicSecrets] };
}

/** A dynamic listener may not take the address of another listener (port 0 asks the OS for a fresh one each time). */
function checkUniqueAddresses(staticListeners: ListenerConfig[], dynamicListeners: ListenerConfig[]): void {
  const seen = new Map<string, string>();
  for (const listener of [...staticListeners, ...dynamicListeners]) {
    const { address, port } = listener.address;
    if (port === 0) continue;
    const key = `${address}:${port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(fieldPath(resourcePath('listeners', listener.name), 'address'), `${key} is already used by listener ${JSON.stringify(first)}`);
    }
    seen.set(key, listener.name);
  }
}

/** The RDS, EDS and SDS names a composed Bootstrap refers to: what the agent subscribes to. */
export function referencedNames(bootstrap: Bootstrap): { routeConfigs: string[]; loadAssignments: string[]; secrets: string[] } {
  const secrets = new Set<string>();
  for (const listener of bootstrap.listeners) for (const chain of listener.filterChains) for (const name of adsSecretNames(chain.tls)) secrets.add(name);
  for (const cluster of bootstrap.clusters) for (const name of adsSecretNames(cluster.tls)) secrets.add(name);
  const routeConfigs = new Set<string>();
  for (const listener of bootstrap.listeners) {
    for (const { filter } of listener.filterChains) if (filter.kind === 'http' && filter.rds !== undefined) routeConfigs.add(filter.rds.routeConfigName);
  }
  const loadAssignments = new Set<string>();
  for (const cluster of bootstrap.clusters) if (cluster.edsServiceName !== undefined) loadAssignments.add(cluster.edsServiceName);
  return { routeConfigs: [...routeConfigs].sort(), loadAssignments: [...loadAssignments].sort(), secrets: [...secrets].sort() };
}
