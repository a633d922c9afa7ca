/**
 * SMI TrafficTarget -> Envoy RBAC on a workload's inbound listener.
 *
 * A workload is a destination when a TrafficTarget in its namespace names its
 * service account. Then its inbound listener gets an ALLOW policy per
 * TrafficTarget (named `<namespace>/<name>`): principals are the sources'
 * SPIFFE IDs (`authenticated.principal_name.exact`,
 * `spiffe://<trust domain>/ns/<ns>/sa/<name>`), permissions the rules' routes.
 * Anything no policy allows is denied (403 / connection closed). A workload no
 * TrafficTarget names gets no RBAC filter at all: open, as SMI's permissive mode.
 *
 * Rules on an HTTP listener: an HTTPRouteGroup match becomes `url_path` (its
 * pathRegex, anchored at the start) and `header` permissions (methods,
 * headers) joined with and_rules; a TCPRoute allows every request when its
 * ports are empty or name a port the listener serves. On a TCP listener only
 * TCPRoutes apply (same port rule); an HTTPRouteGroup cannot be checked on raw
 * bytes and grants nothing there. Missing routes or match names grant nothing.
 * A policy left without permissions is dropped, so a TrafficTarget whose rules
 * grant nothing still closes the destination.
 */
import {
  NETWORK_RBAC_FILTER_NAME, NETWORK_RBAC_TYPE_URL, RBAC_FILTER_NAME, RBAC_TYPE_URL,
} from '../../proxy/filters/names.js';
import type { TrafficTargetRule, TrafficTargetSpec } from '../model/traffic-target.js';
import type { WorkloadSpec } from '../model/workload.js';
import type { JsonObject } from './envoy-values.js';
import type { MeshView, Named } from './mesh-view.js';
import { httpMatchParts } from './routes.js';

/** Stats of the inbound network RBAC filter: `inbound_tcp.rbac.allowed` / `.denied`. */
export const INBOUND_NETWORK_RBAC_STAT_PREFIX = 'inbound_tcp';

export type InboundProtocol = 'http' | 'tcp';

/** `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The RBAC rules for a workload's inbound listener, or undefined when no
 * TrafficTarget names its service account. `servicePorts`: the service ports
 * the listener serves (TCPRoute ports are service ports).
 */
export function inboundRbacRules(view: MeshView, workload: Named<WorkloadSpec>, protocol: InboundProtocol, servicePorts: readonly number[]): JsonObject | undefined {
  const targets = view.trafficTargetsFor(workload.namespace, workload.spec.serviceAccount);
  if (targets.length === 0) return undefined;
  const policies: JsonObject = {};
  for (const target of targets) {
    const permissions = target.spec.rules.flatMap((rule) => rulePermissions(view, target.namespace, rule, protocol, servicePorts));
    if (permissions.length === 0) continue;
    policies[`${target.namespace}/${target.name}`] = { permissions, principals: sourcePrincipals(view, target) };
  }
  return { action: 'ALLOW', policies };
}

/** `envoy.filters.http.rbac`, to run first on the inbound HTTP listener. */
export function httpRbacFilter(rules: JsonObject): JsonObject {
  return { name: RBAC_FILTER_NAME, typed_config: { '@type': RBAC_TYPE_URL, rules } };
}

/** `envoy.filters.network.rbac`, before the inbound TCP proxy. */
export function networkRbacFilter(rules: JsonObject): JsonObject {
  return { name: NETWORK_RBAC_FILTER_NAME, typed_config: { '@type': NETWORK_RBAC_TYPE_URL, stat_prefix: INBOUND_NETWORK_RBAC_STAT_PREFIX, rules } };
}

function sourcePrincipals(view: MeshView, target: Named<TrafficTargetSpec>): JsonObject[] {
  return target.spec.sources.map((source) => ({
    authenticated: { principal_name: { exact: spiffeId(view.trustDomain, source.namespace ?? target.namespace, source.name) } },
  }));
}

function rulePermissions(view: MeshView, namespace: string, rule: TrafficTargetRule, protocol: InboundProtocol, servicePorts: readonly number[]): JsonObject[] {
  if (rule.kind === 'TCPRoute') {
    const route = view.tcpRoute(namespace, rule.name);
    if (route === undefined) return [];
    const ports = route.matches.ports;
    return ports.length === 0 || servicePorts.some((p) => ports.includes(p)) ? [{ any: true }] : [];
  }
  if (protocol === 'tcp') return [];
  const group = view.routeGroup(namespace, rule.name);
  if (group === undefined) return [];
  const wanted = rule.matches === undefined ? undefined : new Set(rule.matches);
  return group.matches
    .filter((m) => wanted === undefined || wanted.has(m.name))
    .map((m) => {
      const { pathRegex, headers } = httpMatchParts(m);
      const parts: JsonObject[] = [
        ...(pathRegex === undefined ? [] : [{ url_path: { path: { safe_regex: { regex: pathRegex } } } }]),
        ...headers.map((header) => ({ header })),
      ];
      if (parts.length === 0) return { any: true };
      return parts.length === 1 ? parts[0]! : { and_rules: { rules: parts } };
    });
}
