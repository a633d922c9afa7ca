/**
 * Routes to one service port: TrafficSplit weights (per HTTPRouteGroup match
 * when the split names matches), and TrafficPolicy's per-request settings
 * (timeout, retries, mirroring, hashing). Sidecar, proxyless and gateway route
 * configs all build their routes here.
 */
import type { HTTPRouteGroupSpec } from '../model/http-route-group.js';
import type { ServiceSpec } from '../model/service.js';
import type { TrafficPolicySpec } from '../model/traffic-policy.js';
import type { TrafficSplitSpec } from '../model/traffic-split.js';
import { envoyDuration, fractionalPercent, type JsonObject } from './envoy-values.js';
import type { MeshView, Named, ServicePort } from './mesh-view.js';
import { outboundClusterName } from './names.js';

/** The model's documented default for retries without retryOn. */
const DEFAULT_RETRY_ON = ['5xx', 'connect-failure', 'reset'] as const;
/** grpc-js-xds retries only on gRPC status names, so proxyless clients get this default instead. */
const DEFAULT_PROXYLESS_RETRY_ON = ['unavailable'] as const;
const ALL_METHODS = '*';

export interface RouteContext {
  view: MeshView;
  proxyless: boolean;
}

export interface WeightedCluster {
  name: string;
  weight: number;
}

/** http, http2 and grpc ports are routed by HTTP connection managers; tcp ports by TCP proxies. */
export function isHttpPort(port: ServicePort): boolean {
  return port.protocol !== 'tcp';
}

/** Routes for one service port, most specific first: split matches, then the default route. */
export function serviceRoutes(ctx: RouteContext, service: Named<ServiceSpec>, port: ServicePort): JsonObject[] {
  const split = ctx.view.splitFor(service.namespace, service.name);
  const backends = split === undefined ? undefined : splitBackends(ctx.view, split, port);
  if (split === undefined || backends === undefined) return [defaultRoute(ctx, service, port, undefined)];
  if (split.spec.matches === undefined || split.spec.matches.length === 0) return [defaultRoute(ctx, service, port, backends)];
  const matched = split.spec.matches.flatMap((ref) => {
    const group = ctx.view.routeGroup(split.namespace, ref.name);
    return group === undefined ? [] : routeGroupMatches(ref.name, group);
  });
  return [
    ...matched.map(({ name, match }) => ({ name, match, route: routeAction(ctx, service, port, backends) })),
    defaultRoute(ctx, service, port, undefined),
  ];
}

/** The action sending to `port` of `service`, or to `backends` when a split applies. */
export function routeAction(ctx: RouteContext, service: Named<ServiceSpec>, port: ServicePort, backends: WeightedCluster[] | undefined): JsonObject {
  const policy = ctx.view.policyFor(service.namespace, service.name);
  return {
    cluster: backends === undefined ? outboundClusterName(service.name, service.namespace, port.port) : undefined,
    weighted_clusters: backends === undefined ? undefined : { clusters: backends.map(({ name, weight }) => ({ name, weight })) },
    timeout: envoyDuration(policy?.timeouts?.request),
    retry_policy: retryPolicy(policy?.retries, ctx.proxyless),
    request_mirror_policies: mirrorPolicies(ctx.view, service, port, policy?.mirror),
    hash_policy: hashPolicy(policy?.loadBalancer?.hashOn),
  };
}

/** The split that applies to every request or connection: a TrafficSplit without matches (gateways and TCP honour these). */
export function unconditionalSplit(view: MeshView, service: Named<ServiceSpec>, port: ServicePort): WeightedCluster[] | undefined {
  const split = view.splitFor(service.namespace, service.name);
  if (split === undefined || (split.spec.matches ?? []).length > 0) return undefined;
  return splitBackends(view, split, port);
}

function defaultRoute(ctx: RouteContext, service: Named<ServiceSpec>, port: ServicePort, backends: WeightedCluster[] | undefined): JsonObject {
  return { name: 'default', match: { prefix: '/' }, route: routeAction(ctx, service, port, backends) };
}

/**
 * Each backend's cluster for the root's port (same number, else same name).
 * Backends without such a port or with weight 0 are left out; none left: undefined (no split).
 */
function splitBackends(view: MeshView, split: Named<TrafficSplitSpec>, rootPort: ServicePort): WeightedCluster[] | undefined {
  const clusters = split.spec.backends.flatMap(({ service, weight }) => {
    const backend = view.service(split.namespace, service);
    const port = backend?.spec.ports.find((p) => p.port === rootPort.port) ?? backend?.spec.ports.find((p) => p.name === rootPort.name);
    if (backend === undefined || port === undefined || weight <= 0) return [];
    return [{ name: outboundClusterName(backend.name, backend.namespace, port.port), weight }];
  });
  return clusters.length === 0 ? undefined : clusters;
}

/** One SMI HTTPRouteGroup match as Envoy matchers: a full-match path regex (undefined: any path) and header matchers. */
export interface HttpMatchParts {
  pathRegex: string | undefined;
  headers: JsonObject[];
}

/**
 * SMI's pathRegex is anchored at the start of the path only, Envoy's safe_regex
 * must match the whole path: hence the trailing `.*`. Header value regexes must
 * match the whole value, as in Envoy. Methods become a `:method` regex.
 * Shared by routes (splits) and authorization (TrafficTarget rules).
 */
export function httpMatchParts(m: HTTPRouteGroupSpec['matches'][number]): HttpMatchParts {
  const methods = m.methods ?? [];
  return {
    pathRegex: m.pathRegex === undefined ? undefined : `(?:${m.pathRegex}).*`,
    headers: [
      ...(methods.length === 0 || methods.includes(ALL_METHODS) ? [] : [{ name: ':method', safe_regex_match: { regex: methods.join('|') } }]),
      ...Object.keys(m.headers ?? {}).sort().map((name) => ({ name, safe_regex_match: { regex: m.headers![name]! } })),
    ],
  };
}

function routeGroupMatches(groupName: string, group: HTTPRouteGroupSpec): Array<{ name: string; match: JsonObject }> {
  return group.matches.map((m) => {
    const { pathRegex, headers } = httpMatchParts(m);
    return {
      name: `${groupName}.${m.name}`,
      match: {
        prefix: pathRegex === undefined ? '/' : undefined,
        safe_regex: pathRegex === undefined ? undefined : { regex: pathRegex },
        headers: headers.length === 0 ? undefined : headers,
      },
    };
  });
}

function retryPolicy(retries: TrafficPolicySpec['retries'], proxyless: boolean): JsonObject | undefined {
  // Zero attempts means no retries (grpc-js-xds also rejects num_retries 0).
  if (retries === undefined || retries.attempts === 0) return undefined;
  const retryOn = retries.retryOn ?? (proxyless ? DEFAULT_PROXYLESS_RETRY_ON : DEFAULT_RETRY_ON);
  return {
    retry_on: retryOn.join(','),
    num_retries: retries.attempts,
    per_try_timeout: envoyDuration(retries.perTryTimeout),
  };
}

/** Mirrors go to the mirror service's port with the same number, else its first port. */
function mirrorPolicies(view: MeshView, service: Named<ServiceSpec>, port: ServicePort, mirror: TrafficPolicySpec['mirror']): JsonObject[] | undefined {
  if (mirror === undefined) return undefined;
  const target = view.service(service.namespace, mirror.service);
  const targetPort = target?.spec.ports.find((p) => p.port === port.port) ?? target?.spec.ports[0];
  if (target === undefined || targetPort === undefined) return undefined;
  return [{
    cluster: outboundClusterName(target.name, target.namespace, targetPort.port),
    runtime_fraction: { default_value: fractionalPercent(mirror.percent ?? 100) },
  }];
}

/** The model allows exactly one of header, cookie, sourceIp. */
function hashPolicy(hashOn: NonNullable<TrafficPolicySpec['loadBalancer']>['hashOn']): JsonObject[] | undefined {
  if (hashOn?.header !== undefined) return [{ header: { header_name: hashOn.header } }];
  if (hashOn?.cookie !== undefined) return [{ cookie: { name: hashOn.cookie } }];
  if (hashOn?.sourceIp === true) return [{ connection_properties: { source_ip: true } }];
  return undefined;
}
