/**
 * Which proxies a change to the stored resources can affect, so the controller
 * retranslates only those (go-control-plane leaves this to its caller; Istio's
 * pilot does the same with its "config scope" per push).
 *
 * Dependencies are keys of stored resources, `<Kind>/<namespace>/<name>`, and
 * only Workloads and Services are tracked: the policy, split and endpoints of
 * a service count as changes to that Service. A proxy whose snapshot may read
 * anything (an unscoped sidecar, a gateway, a proxyless client) depends on ALL,
 * and a change the index cannot attribute (a Mesh, a Gateway, an
 * HTTPRouteGroup) affects ALL proxies.
 */
import { ISSUED_CERTIFICATE_KIND } from '../ca/records.js';
import type { Resource } from '../model/resource.js';
import { serviceKeyFromHost } from '../model/service-host.js';
import type { TrafficPolicySpec } from '../model/traffic-policy.js';
import type { TrafficSplitSpec } from '../model/traffic-split.js';
import type { MeshView } from './mesh-view.js';
import { sidecarScope } from './scope.js';
import type { ProxyIdentity } from './translate.js';

export const ALL = 'all';

/** What a proxy's snapshot is a function of, or what a change touches: ALL, or resource keys. */
export type Dependencies = typeof ALL | ReadonlySet<string>;

export function dependencyKey(kind: 'Service' | 'Workload', namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

/**
 * The resources a proxy's snapshot reads. A scoped sidecar reads its Workload
 * (inbound, scope), the Services it backs (inbound filters) and the Services its
 * scope names: declared reachable, split backends, mirror targets (existing or
 * not, so creating one reaches it). Everything else (unscoped or unregistered sidecars included, whose
 * outbound config holds every service) reads ALL.
 */
export function proxyDependencies(view: MeshView, proxy: ProxyIdentity): Dependencies {
  if (proxy.kind !== 'sidecar' || proxy.workload === undefined) return ALL;
  const { namespace, workload: name } = proxy;
  const workload = view.workload(namespace, name);
  const scope = sidecarScope(view, namespace, name);
  if (workload === undefined || scope.names === undefined) return ALL;
  const keys = new Set([dependencyKey('Workload', namespace, name)]);
  for (const serviceKey of scope.names) keys.add(`Service/${serviceKey}`);
  for (const service of view.servicesOf(workload)) keys.add(dependencyKey('Service', service.namespace, service.name));
  return keys;
}

/**
 * The keys one stored resource's change touches, read in the views before and
 * after it (a Workload that moves between Services touches both).
 */
export function changeDependencies(resource: Resource, before: MeshView, after: MeshView): Dependencies {
  const { namespace, name } = resource.metadata;
  const keys = new Set<string>();
  switch (resource.kind) {
    case 'Service':
      keys.add(dependencyKey('Service', namespace, name));
      // Its selector decides which workloads it has: their inbound config changes.
      for (const view of [before, after]) {
        const service = view.service(namespace, name);
        for (const workload of service === undefined ? [] : view.workloadsOf(service)) keys.add(dependencyKey('Workload', workload.namespace, workload.name));
      }
      return keys;
    case 'Workload':
      keys.add(dependencyKey('Workload', namespace, name));
      // Its address and ports are the endpoints of the services it backs.
      for (const view of [before, after]) {
        const workload = view.workload(namespace, name);
        for (const service of workload === undefined ? [] : view.servicesOf(workload)) keys.add(dependencyKey('Service', service.namespace, service.name));
      }
      return keys;
    case 'TrafficPolicy':
      keys.add(dependencyKey('Service', namespace, (resource.spec as TrafficPolicySpec).targetRef.name));
      return keys;
    case ISSUED_CERTIFICATE_KIND:
      // A workload's certificate is in its own sidecar's secrets only (named after the Workload, records.ts).
      keys.add(dependencyKey('Workload', namespace, name));
      return keys;
    case 'TrafficSplit': {
      const root = serviceKeyFromHost((resource.spec as TrafficSplitSpec).service, namespace);
      if (root === undefined) return keys;
      keys.add(dependencyKey('Service', root.namespace, root.name));
      return keys;
    }
    default:
      return ALL;
  }
}

/** Proxy -> dependencies, and the reverse, to find the proxies a change affects. */
export class DependencyIndex {
  private readonly byProxy = new Map<string, Dependencies>();
  private readonly byKey = new Map<string, Set<string>>();
  private readonly dependOnAll = new Set<string>();

  set(proxy: string, dependencies: Dependencies): void {
    this.delete(proxy);
    this.byProxy.set(proxy, dependencies);
    if (dependencies === ALL) {
      this.dependOnAll.add(proxy);
      return;
    }
    for (const key of dependencies) {
      let proxies = this.byKey.get(key);
      if (proxies === undefined) this.byKey.set(key, (proxies = new Set()));
      proxies.add(proxy);
    }
  }

  delete(proxy: string): void {
    const previous = this.byProxy.get(proxy);
    if (previous === undefined) return;
    this.byProxy.delete(proxy);
    if (previous === ALL) {
      this.dependOnAll.delete(proxy);
      return;
    }
    for (const key of previous) {
      const proxies = this.byKey.get(key);
      proxies?.delete(proxy);
      if (proxies?.size === 0) this.byKey.delete(key);
    }
  }

  /** Every indexed proxy that depends on one of `changed` (all of them for ALL). */
  affected(changed: Dependencies): Set<string> {
    if (changed === ALL) return new Set(this.byProxy.keys());
    const proxies = new Set(this.dependOnAll);
    for (const key of changed) for (const proxy of this.byKey.get(key) ?? []) proxies.add(proxy);
    return proxies;
  }
}
