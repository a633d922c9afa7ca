/**
 * The `@type` URLs of the four xDS resource types Weft serves over ADS, and of
 * the typed configs a control plane has to look inside (the HTTP connection
 * manager, for its RDS reference). Shared by the proxy and the control plane.
 */
import { SECRET_TYPE_URL } from '../proxy/config/type-urls.js';

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const ROUTE_CONFIGURATION_TYPE_URL = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';
export const CLUSTER_TYPE_URL = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
export const CLUSTER_LOAD_ASSIGNMENT_TYPE_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

export type TypeUrl =
  | typeof LISTENER_TYPE_URL
  | typeof ROUTE_CONFIGURATION_TYPE_URL
  | typeof CLUSTER_TYPE_URL
  | typeof CLUSTER_LOAD_ASSIGNMENT_TYPE_URL;

/**
 * Every resource type, in the order a management server pushes them so that a
 * client never sees a reference before its target (Envoy's ADS guidance:
 * CDS, then EDS, then LDS, then RDS).
 */
export const TYPE_URLS_IN_PUSH_ORDER: readonly TypeUrl[] = [
  CLUSTER_TYPE_URL,
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
];

/** The xDS API name of each type (for logs and status). */
export const TYPE_SHORT_NAMES: Readonly<Record<TypeUrl, 'LDS' | 'RDS' | 'CDS' | 'EDS'>> = {
  [LISTENER_TYPE_URL]: 'LDS',
  [ROUTE_CONFIGURATION_TYPE_URL]: 'RDS',
  [CLUSTER_TYPE_URL]: 'CDS',
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: 'EDS',
};

export function isTypeUrl(value: string): value is TypeUrl {
  return Object.hasOwn(TYPE_SHORT_NAMES, value);
}

/** SDS: the `default` certificate and `ROOTCA` trust bundle of one proxy (envoy.service.secret.v3, over ADS). */
export { SECRET_TYPE_URL };

/** What the control plane's ADS server serves: the four config types and SDS secrets. */
export type ServedTypeUrl = TypeUrl | typeof SECRET_TYPE_URL;

/** Secrets first: a listener or cluster that names one must find it (Envoy warms them on SDS). */
export const SERVED_TYPE_URLS_IN_PUSH_ORDER: readonly ServedTypeUrl[] = [SECRET_TYPE_URL, ...TYPE_URLS_IN_PUSH_ORDER];

export const SERVED_TYPE_SHORT_NAMES: Readonly<Record<ServedTypeUrl, 'LDS' | 'RDS' | 'CDS' | 'EDS' | 'SDS'>> = { ...TYPE_SHORT_NAMES, [SECRET_TYPE_URL]: 'SDS' };

export function isServedTypeUrl(value: string): value is ServedTypeUrl {
  return Object.hasOwn(SERVED_TYPE_SHORT_NAMES, value);
}

/**
 * Listeners and clusters may be requested by wildcard; routes and assignments only by name.
 * Secrets too (a snapshot holds only the requesting proxy's own secrets).
 */
export function allowsWildcard(typeUrl: ServedTypeUrl): boolean {
  return typeUrl === LISTENER_TYPE_URL || typeUrl === CLUSTER_TYPE_URL || typeUrl === SECRET_TYPE_URL;
}

/** The typed-config URLs xDS resources nest, defined once beside the proxy's loader. */
export { HTTP_CONNECTION_MANAGER_TYPE_URL } from '../proxy/config/type-urls.js';
export { ROUTER_TYPE_URL } from '../proxy/filters/names.js';
