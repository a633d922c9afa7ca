/**
 * An index over one set of mesh resources, built once per translation: which
 * workloads back a service, which policy and split apply to it. Every list is
 * sorted by (namespace, name), so translation never depends on input order.
 * Ties (two policies for one service) go to the first name in that order.
 * Specs are read as the model's validation leaves them (defaults applied).
 */
import { CA_KIND, ISSUED_CERTIFICATE_KIND, type CaRecordSpec, type IssuedCertificateSpec } from '../ca/records.js';
import { DEFAULT_TRUST_DOMAIN } from '../ca/identity.js';
import type { GatewaySpec } from '../model/gateway.js';
import type { MeshSpec } from '../model/mesh.js';
import type { HTTPRouteGroupSpec } from '../model/http-route-group.js';
import type { Resource } from '../model/resource.js';
import { serviceKeyFromHost } from '../model/service-host.js';
import type { ServiceSpec } from '../model/service.js';
import type { TrafficPolicySpec } from '../model/traffic-policy.js';
import type { TCPRouteSpec } from '../model/tcp-route.js';
import type { TrafficSplitSpec } from '../model/traffic-split.js';
import type { TrafficTargetSpec } from '../model/traffic-target.js';
import type { WorkloadSpec } from '../model/workload.js';

export interface Named<Spec> {
  name: string;
  namespace: string;
  spec: Spec;
}

export type ServicePort = ServiceSpec['ports'][number];

export interface MeshView {
  /** Every Service, sorted by (namespace, name). */
  readonly services: ReadonlyArray<Named<ServiceSpec>>;
  /** Every Gateway, sorted by (namespace, name). */
  readonly gateways: ReadonlyArray<Named<GatewaySpec>>;
  service(namespace: string, name: string): Named<ServiceSpec> | undefined;
  workload(namespace: string, name: string): Named<WorkloadSpec> | undefined;
  /** The workloads backing a service, sorted by name. */
  workloadsOf(service: Named<ServiceSpec>): ReadonlyArray<Named<WorkloadSpec>>;
  /** The services a workload backs, sorted by name. */
  servicesOf(workload: Named<WorkloadSpec>): ReadonlyArray<Named<ServiceSpec>>;
  policyFor(namespace: string, service: string): TrafficPolicySpec | undefined;
  /** The TrafficSplit whose root is this service. */
  splitFor(namespace: string, service: string): Named<TrafficSplitSpec> | undefined;
  routeGroup(namespace: string, name: string): HTTPRouteGroupSpec | undefined;
  tcpRoute(namespace: string, name: string): TCPRouteSpec | undefined;
  /** The SPIFFE trust domain: the first Mesh's, default `cluster.local`. */
  readonly trustDomain: string;
  /** The TrafficTargets whose destination is this service account, sorted by name. */
  trafficTargetsFor(namespace: string, serviceAccount: string): ReadonlyArray<Named<TrafficTargetSpec>>;
  /** The first Mesh's mTLS mode and trust domain; undefined without a Mesh (proxies talk plaintext). */
  readonly mtls: { mode: MeshSpec['mtls']['mode']; trustDomain: string } | undefined;
  /** The first Mesh's default access logging; undefined: none. */
  readonly accessLog: MeshSpec['accessLog'];
  /** The CA's stored state (trust bundle), when the control plane runs a CA. */
  readonly ca: CaRecordSpec | undefined;
  /** The certificate last issued to a workload's proxy. */
  issuedCertificate(namespace: string, workload: string): IssuedCertificateSpec | undefined;
}

type Kinded = Named<unknown> & { kind: string };


export function buildMeshView(resources: readonly Resource[]): MeshView {
  const sorted: Kinded[] = resources
    .map((r) => ({ kind: r.kind, name: r.metadata.name, namespace: r.metadata.namespace, spec: r.spec }))
    .sort(compareNamed);
  const ofKind = <Spec>(kind: string) => sorted.filter((r) => r.kind === kind) as Array<Named<Spec>>;

  const services = ofKind<ServiceSpec>('Service');
  const workloads = ofKind<WorkloadSpec>('Workload');
  const serviceIndex = firstByKey(services, ownKey);
  const workloadIndex = firstByKey(workloads, ownKey);
  // Policies and splits are indexed by the service they apply to.
  const policies = firstByKey(ofKind<TrafficPolicySpec>('TrafficPolicy'), (p) => key(p.namespace, p.spec.targetRef.name));
  const splits = firstByKey(ofKind<TrafficSplitSpec>('TrafficSplit'), (s) => {
    const root = serviceKeyFromHost(s.spec.service, s.namespace);
    return root === undefined ? undefined : key(root.namespace, root.name);
  });
  const routeGroups = firstByKey(ofKind<HTTPRouteGroupSpec>('HTTPRouteGroup'), ownKey);
  const tcpRoutes = firstByKey(ofKind<TCPRouteSpec>('TCPRoute'), ownKey);
  // A TrafficTarget's destination lives in its own namespace (the model checks it).
  const targets = new Map<string, Array<Named<TrafficTargetSpec>>>();
  for (const target of ofKind<TrafficTargetSpec>('TrafficTarget')) {
    const k = key(target.namespace, target.spec.destination.name);
    targets.set(k, [...(targets.get(k) ?? []), target]);
  }
  const mesh = ofKind<MeshSpec>('Mesh')[0]?.spec;
  const issued = firstByKey(ofKind<IssuedCertificateSpec>(ISSUED_CERTIFICATE_KIND), ownKey);

  const workloadsByService = new Map<Named<ServiceSpec>, Array<Named<WorkloadSpec>>>();
  const servicesByWorkload = new Map<Named<WorkloadSpec>, Array<Named<ServiceSpec>>>();
  // Members by `spec.service`, and the namespace's workloads for selectors: O(services + workloads), not their product.
  const byService = groupBy(workloads, (w) => key(w.namespace, w.spec.service));
  const byNamespace = groupBy(workloads, (w) => w.namespace);
  for (const service of services) {
    const members = service.spec.selector === undefined
      ? byService.get(ownKey(service)) ?? []
      : (byNamespace.get(service.namespace) ?? []).filter((w) => w.spec.service === service.name || selects(service, w));
    workloadsByService.set(service, members);
    for (const member of members) {
      const backed = servicesByWorkload.get(member);
      if (backed === undefined) servicesByWorkload.set(member, [service]);
      else backed.push(service);
    }
  }

  return {
    services,
    gateways: ofKind<GatewaySpec>('Gateway'),
    service: (namespace, name) => serviceIndex.get(key(namespace, name)),
    workload: (namespace, name) => workloadIndex.get(key(namespace, name)),
    workloadsOf: (service) => workloadsByService.get(service) ?? [],
    servicesOf: (workload) => servicesByWorkload.get(workload) ?? [],
    policyFor: (namespace, service) => policies.get(key(namespace, service))?.spec,
    splitFor: (namespace, service) => splits.get(key(namespace, service)),
    routeGroup: (namespace, name) => routeGroups.get(key(namespace, name))?.spec,
    tcpRoute: (namespace, name) => tcpRoutes.get(key(namespace, name))?.spec,
    trustDomain: mesh?.trustDomain ?? DEFAULT_TRUST_DOMAIN,
    trafficTargetsFor: (namespace, serviceAccount) => targets.get(key(namespace, serviceAccount)) ?? [],
    mtls: mesh === undefined ? undefined : { mode: mesh.mtls?.mode ?? 'PERMISSIVE', trustDomain: mesh.trustDomain ?? DEFAULT_TRUST_DOMAIN },
    accessLog: mesh?.accessLog,
    ca: ofKind<CaRecordSpec>(CA_KIND)[0]?.spec,
    issuedCertificate: (namespace, workload) => issued.get(key(namespace, workload))?.spec,
  };
}

/**
 * As the model documents: a workload backs the service its `spec.service` names,
 * and every service in its namespace whose selector its labels match (this check).
 */
function selects(service: Named<ServiceSpec>, workload: Named<WorkloadSpec>): boolean {
  const selector = Object.entries(service.spec.selector ?? {});
  const labels = workload.spec.labels ?? {};
  return selector.length > 0 && selector.every(([label, value]) => labels[label] === value);
}

/** Items by key, each group in input order. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function ownKey(item: Named<unknown>): string {
  return key(item.namespace, item.name);
}

/** The first item per key (undefined: not indexed); the input is sorted, so the first name wins ties. */
function firstByKey<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, T> {
  const index = new Map<string, T>();
  for (const item of items) {
    const k = keyOf(item);
    if (k !== undefined && !index.has(k)) index.set(k, item);
  }
  return index;
}

function compareNamed(a: Kinded, b: Kinded): number {
  return compare(a.kind, b.kind) || compare(a.namespace, b.namespace) || compare(a.name, b.name);
}

/** Code-unit order, independent of the locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
