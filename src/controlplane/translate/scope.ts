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
import { reachableServiceKeys, type WorkloadSpec } from '../model/workload.js';
import type { ServiceSpec } from '../model/service.js';
import { compare, type MeshView, type Named } from './mesh-view.js';

export interface Scope {
  /** The services in the outbound config, sorted by (namespace, name). */
  readonly services: ReadonlyArray<Named<ServiceSpec>>;
  /** Equal for equal service lists; `*` for every service. */
  readonly key: string;
}

export function everyService(view: MeshView): Scope {
  return { services: view.services, key: '*' };
}

/** The scope of the sidecar of `workloadName` (every service when it is unregistered or sets no reachableServices). */
export function sidecarScope(view: MeshView, namespace: string, workloadName: string | undefined): Scope {
  const workload = workloadName === undefined ? undefined : view.workload(namespace, workloadName);
  const declared = workload === undefined ? undefined : declaredServices(view, workload);
  if (declared === undefined) return everyService(view);
  const services = withRouteTargets(view, declared);
  return { services, key: services.map((s) => `${s.namespace}/${s.name}`).join(',') };
}

function declaredServices(view: MeshView, workload: Named<WorkloadSpec>): Array<Named<ServiceSpec>> | undefined {
  return reachableServiceKeys(workload.spec, workload.namespace)?.flatMap(({ namespace, name }) => {
    const service = view.service(namespace, name);
    return service === undefined ? [] : [service];
  });
}

/** The declared services and the services their routes send to (split backends, mirror target), deduplicated and sorted. */
function withRouteTargets(view: MeshView, declared: ReadonlyArray<Named<ServiceSpec>>): Array<Named<ServiceSpec>> {
  const byKey = new Map<string, Named<ServiceSpec>>();
  const add = (service: Named<ServiceSpec> | undefined) => {
    if (service !== undefined) byKey.set(`${service.namespace}/${service.name}`, service);
  };
  for (const service of declared) {
    add(service);
    const split = view.splitFor(service.namespace, service.name);
    for (const backend of split?.spec.backends ?? []) add(view.service(split!.namespace, backend.service));
    const mirror = view.policyFor(service.namespace, service.name)?.mirror;
    if (mirror !== undefined) add(view.service(service.namespace, mirror.service));
  }
  return [...byKey.values()].sort((a, b) => compare(a.namespace, b.namespace) || compare(a.name, b.name));
}
