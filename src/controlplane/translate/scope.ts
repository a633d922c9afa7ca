/**
 * Which services a proxy's outbound config holds: its scope.
 *
 * A sidecar whose Workload sets `reachableServices` gets only those services
 * (like Istio's Sidecar egress hosts or Kuma's reachableServices), plus the
 * services their routes send to: the backends of their TrafficSplit and their
 * mirror target. Without `reachableServices`, and for gateways and proxyless
 * clients, the scope is every service. Proxies with equal scopes get the same
 * shared outbound resources (translate.ts keys them by `Scope.key`).
 */
import { reachableServiceKeys } from '../model/workload.js';
import type { ServiceSpec } from '../model/service.js';
import { compare, type MeshView, type Named } from './mesh-view.js';

export interface Scope {
  /** The services in the outbound config, sorted by (namespace, name). */
  readonly services: ReadonlyArray<Named<ServiceSpec>>;
  /** Equal for equal service lists; `*` for every service. */
  readonly key: string;
  /**
   * `<namespace>/<name>` of every service the scope names, whether it exists or not
   * (so creating it can be tracked, dependencies.ts); undefined for every service.
   */
  readonly names?: ReadonlySet<string>;
}

export function everyService(view: MeshView): Scope {
  return { services: view.services, key: '*' };
}

/** The scope of the sidecar of `workloadName` (every service when it is unregistered or sets no reachableServices). */
export function sidecarScope(view: MeshView, namespace: string, workloadName: string | undefined): Scope {
  const workload = workloadName === undefined ? undefined : view.workload(namespace, workloadName);
  const declared = workload === undefined ? undefined : reachableServiceKeys(workload.spec, workload.namespace);
  if (declared === undefined) return everyService(view);
  const names = withRouteTargets(view, declared);
  const services = [...names].sort().flatMap((key) => {
    const [ns = '', name = ''] = key.split('/');
    const service = view.service(ns, name);
    return service === undefined ? [] : [service];
  }).sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
  return { services, key: services.map((s) => `${s.namespace}/${s.name}`).join(','), names };
}

/** `<namespace>/<name>` of the declared services and of the services their routes send to (split backends, mirror target). */
function withRouteTargets(view: MeshView, declared: ReadonlyArray<{ namespace: string; name: string }>): Set<string> {
  const names = new Set<string>();
  for (const { namespace, name } of declared) {
    names.add(`${namespace}/${name}`);
    const split = view.splitFor(namespace, name);
    for (const backend of split?.spec.backends ?? []) names.add(`${split!.namespace}/${backend.service}`);
    const mirror = view.policyFor(namespace, name)?.mirror;
    if (mirror !== undefined) names.add(`${namespace}/${mirror.service}`);
  }
  return names;
}
