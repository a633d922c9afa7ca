/** Service ports to workload ports, and ClusterLoadAssignments (EDS) from the workloads backing a service. */
import { socketAddress, type JsonObject } from './envoy-values.js';
import type { WorkloadSpec } from '../model/workload.js';
import { compare, type Named, type ServicePort } from './mesh-view.js';

/**
 * The workload port a service port sends to: its `targetPort`; else the workload
 * port named like the service port; else the service port's own number.
 */
export function workloadPortFor(servicePort: ServicePort, workload: WorkloadSpec): number {
  if (servicePort.targetPort !== undefined) return servicePort.targetPort;
  return workload.ports.find((p) => p.name === servicePort.name)?.port ?? servicePort.port;
}

/**
 * `throughSidecars`: for sidecar clients, which reach a workload that declares
 * its sidecar's `inboundPort` there. One locality per zone (zone-less workloads share the empty locality), each
 * weighted by its endpoint count so that locality-aware clients (grpc-js-xds
 * skips localities without a weight) spread load evenly over endpoints. A
 * duplicate address:port is listed once: grpc-js-xds rejects duplicates.
 */
export function loadAssignment(clusterName: string, servicePort: ServicePort, workloads: ReadonlyArray<Named<WorkloadSpec>>, throughSidecars = false): JsonObject {
  const byZone = new Map<string, JsonObject[]>();
  const seen = new Set<string>();
  for (const workload of workloads) {
    // A sidecar client reaches a workload with a sidecar on the sidecar's inbound port (no traffic capture here).
    const port = (throughSidecars ? workload.spec.inboundPort : undefined) ?? workloadPortFor(servicePort, workload.spec);
    const hostPort = `${workload.spec.address}:${port}`;
    if (seen.has(hostPort)) continue;
    seen.add(hostPort);
    const zone = workload.spec.zone ?? '';
    byZone.set(zone, [...(byZone.get(zone) ?? []), { endpoint: { address: socketAddress(workload.spec.address, port), hostname: workload.name } }]);
  }
  const endpoints = [...byZone.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([zone, lbEndpoints]) => ({
      locality: zone === '' ? {} : { zone },
      lb_endpoints: lbEndpoints,
      load_balancing_weight: lbEndpoints.length,
    }));
  return { cluster_name: clusterName, endpoints };
}
