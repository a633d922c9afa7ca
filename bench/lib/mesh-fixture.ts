/**
 * The mesh the xDS benchmark serves: M services with two workloads each, one
 * TrafficSplit (its root's traffic split over two services), a sidecar node
 * for each simulated client, and the one-service changes applied during the
 * run. Everything lives in one namespace.
 *
 * Scoping `scoped` (the default, a realistic fleet): the workloads of service i
 * declare `reachableServices` the next REACH services (i+1 ... i+REACH, wrapping),
 * so each sidecar holds a handful of services and each service is reachable
 * from the sidecars of REACH services. Scoping `all`: no reachableServices,
 * every sidecar may call every service (the unscoped worst case).
 */
import { MESH_API_VERSION, SMI_SPLIT_API_VERSION } from '../../src/controlplane/model/kinds.js';
import type { Resource } from '../../src/controlplane/model/resource.js';
import { OUTBOUND_ROUTE_CONFIG, outboundClusterName } from '../../src/controlplane/translate/names.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, type TypeUrl } from '../../src/xds/type-urls.js';

export const FIXTURE_NAMESPACE = 'default';
export const WORKLOADS_PER_SERVICE = 2;
const SERVICE_PORT = 8080;
const SPLIT_NAME = 'bench-split';
/** Services each workload reaches under `scoped`. */
export const REACH = 4;

export type Scoping = 'scoped' | 'all';
export const SCOPINGS: readonly Scoping[] = ['scoped', 'all'];

/** How a simulated sidecar introduces itself (controller.ts identifyProxy reads WORKLOAD and NAMESPACE). */
export interface SidecarNode {
  id: string;
  workload: string;
  namespace: string;
}

/** One change applied during the run, and the xDS resource it must change on the clients. */
export interface MeshChange {
  description: string;
  resource: Resource;
  watch: { typeUrl: TypeUrl; name: string };
}

const serviceName = (i: number) => `svc-${String(i).padStart(4, '0')}`;
const workloadName = (service: number, replica: number) => `${serviceName(service)}-${replica}`;
/** 10.<hi>.<lo>.<replica+1>: unique per workload for up to 65536 services. */
const workloadAddress = (service: number, replica: number) => `10.${service >> 8}.${service & 255}.${replica + 1}`;

function meta(name: string): Resource['metadata'] {
  return { name, namespace: FIXTURE_NAMESPACE };
}

function service(i: number): Resource {
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Service',
    metadata: meta(serviceName(i)),
    spec: { ports: [{ name: 'http', port: SERVICE_PORT, protocol: 'http' }] },
  };
}

function reachable(service: number, services: number): string[] {
  return Array.from({ length: Math.min(REACH, services - 1) }, (_, k) => serviceName((service + 1 + k) % services));
}

function workload(scoping: Scoping, services: number, service: number, replica: number, address = workloadAddress(service, replica)): Resource {
  return {
    apiVersion: MESH_API_VERSION,
    kind: 'Workload',
    metadata: meta(workloadName(service, replica)),
    spec: {
      address,
      ports: [{ name: 'http', port: SERVICE_PORT }],
      service: serviceName(service),
      ...(scoping === 'scoped' ? { reachableServices: reachable(service, services) } : {}),
    },
  };
}

/** Traffic for svc-0000 split between svc-0001 and svc-0002 (SMI: a backend may not be the root). */
function split(firstWeight: number): Resource {
  return {
    apiVersion: SMI_SPLIT_API_VERSION,
    kind: 'TrafficSplit',
    metadata: meta(SPLIT_NAME),
    spec: {
      service: serviceName(0),
      backends: [
        { service: serviceName(1), weight: firstWeight },
        { service: serviceName(2), weight: 100 - firstWeight },
      ],
    },
  };
}

/** Services first, then their workloads, then the split (so nothing refers to a missing resource). */
export function meshResources(services: number, scoping: Scoping): Resource[] {
  if (services < 3) throw new RangeError('the fixture needs at least 3 services (the TrafficSplit uses three)');
  const all: Resource[] = [];
  for (let i = 0; i < services; i++) all.push(service(i));
  for (let i = 0; i < services; i++) for (let r = 0; r < WORKLOADS_PER_SERVICE; r++) all.push(workload(scoping, services, i, r));
  all.push(split(50));
  return all;
}

/** Client i is the sidecar of workload i (round robin when there are more clients than workloads). */
export function sidecarNodes(clients: number, services: number): SidecarNode[] {
  const workloads = services * WORKLOADS_PER_SERVICE;
  return Array.from({ length: clients }, (_, i) => {
    const index = i % workloads;
    const name = workloadName(Math.floor(index / WORKLOADS_PER_SERVICE), index % WORKLOADS_PER_SERVICE);
    const replica = i < workloads ? '' : `~${i}`;
    return { id: `sidecar~${name}.${FIXTURE_NAMESPACE}${replica}`, workload: name, namespace: FIXTURE_NAMESPACE };
  });
}

/**
 * Change `k` of the run: even k moves one endpoint of a service spread over the
 * mesh (EDS), odd k flips the TrafficSplit's weights (RDS). Each differs from
 * the state before it.
 */
export function meshChange(k: number, services: number, scoping: Scoping): MeshChange {
  if (k % 2 === 1) {
    const firstWeight = (k - 1) % 4 === 0 ? 90 : 10;
    return {
      description: `TrafficSplit ${SPLIT_NAME} -> ${firstWeight}/${100 - firstWeight}`,
      resource: split(firstWeight),
      watch: { typeUrl: ROUTE_CONFIGURATION_TYPE_URL, name: OUTBOUND_ROUTE_CONFIG },
    };
  }
  const target = (k * 37 + 2) % services;
  const address = `10.255.${(k >> 8) & 255}.${k & 255}`;
  return {
    description: `Workload ${workloadName(target, 0)} address -> ${address}`,
    resource: workload(scoping, services, target, 0, address),
    watch: { typeUrl: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, name: outboundClusterName(serviceName(target), FIXTURE_NAMESPACE, SERVICE_PORT) },
  };
}
