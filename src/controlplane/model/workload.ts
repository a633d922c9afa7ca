/**
 * Workload: one registered instance of a Service (a process and its sidecar),
 * with the address and ports the mesh reaches it on and the identity it runs
 * as. Like Kuma's Dataplane or Istio's WorkloadEntry.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, Port, ServiceName, StrictObject, StringMap } from './schema-common.js';
import { duplicateErrors, labelMapErrors } from './semantics.js';
import { serviceKeyFromHost } from './service-host.js';

export const WorkloadPortSchema = StrictObject({
  name: FormattedString('dns1123-label', { description: 'Matches the name of a port of the Service.' }),
  port: Port('The port the workload listens on.'),
});

export const WorkloadSpecSchema = StrictObject({
  address: FormattedString('host', { description: 'IP address or DNS name the mesh reaches the workload on.' }),
  ports: Type.Optional(Type.Array(WorkloadPortSchema, { default: [], description: 'The ports the workload serves (none for a client-only workload).' })),
  service: ServiceName('The Service (in this namespace) this workload belongs to.'),
  labels: Type.Optional(StringMap({ description: "Labels Service selectors match (e.g. version: v2)." })),
  serviceAccount: Type.Optional(
    FormattedString('dns1123-subdomain', {
      default: 'default',
      description: 'Identity: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>.',
    }),
  ),
  inboundPort: Type.Optional(Port('The inbound port of the workload\'s sidecar. When set, other sidecars reach the workload through it (with mTLS unless the Mesh disables it) instead of on its own ports.')),
  version: Type.Optional(Type.String({ minLength: 1, description: 'Version of the code, for metrics and dashboards.' })),
  zone: Type.Optional(Type.String({ minLength: 1, description: 'Locality, for zone-aware load balancing.' })),
  reachableServices: Type.Optional(
    Type.Array(
      FormattedString('dns1123-subdomain', {
        description: 'A Service this workload calls: `name` (this namespace), `name.namespace`, `name.namespace.svc` or the FQDN.',
      }),
      {
        description:
          "The Services this workload's sidecar may call (like Istio's Sidecar egress hosts or Kuma's reachableServices): " +
          'its outbound config holds only these (and the backends their TrafficSplits and mirrors send to). Absent: every Service.',
      },
    ),
  ),
});

/** A validated Workload spec: ports and serviceAccount defaulted. */
export interface WorkloadSpec extends Static<typeof WorkloadSpecSchema> {
  ports: Array<Static<typeof WorkloadPortSchema>>;
  serviceAccount: string;
}

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as WorkloadSpec;
  const specPath = fieldPath(path, 'spec');
  const portsPath = fieldPath(specPath, 'ports');
  return [
    ...duplicateErrors(spec.ports, (p) => p.name, (i) => fieldPath(indexPath(portsPath, i), 'name'), 'port name'),
    ...duplicateErrors(spec.ports, (p) => p.port, (i) => fieldPath(indexPath(portsPath, i), 'port'), 'port'),
    ...labelMapErrors(spec.labels, fieldPath(specPath, 'labels')),
    ...reachableServiceErrors(spec.reachableServices, resource.metadata.namespace, fieldPath(specPath, 'reachableServices')),
  ];
}

/** Each entry must name a mesh Service, once (by its key: `reviews` and `reviews.default` are the same one in `default`). */
function reachableServiceErrors(hosts: readonly string[] | undefined, namespace: string, path: string): FieldError[] {
  if (hosts === undefined) return [];
  const errors: FieldError[] = [];
  hosts.forEach((host, i) => {
    if (serviceKeyFromHost(host, namespace) === undefined) {
      errors.push({ path: indexPath(path, i), message: `${JSON.stringify(host)} is not a mesh Service host (name, name.namespace, name.namespace.svc[.domain])` });
    }
  });
  const keyOf = (host: string) => {
    const key = serviceKeyFromHost(host, namespace);
    return key === undefined ? `invalid:${host}` : `${key.namespace}/${key.name}`;
  };
  return [...errors, ...duplicateErrors(hosts, keyOf, (i) => indexPath(path, i), 'reachable service')];
}

/** The Service keys a workload's reachableServices name (undefined: every Service); entries that name no Service are left out. */
export function reachableServiceKeys(spec: WorkloadSpec, namespace: string): Array<{ namespace: string; name: string }> | undefined {
  return spec.reachableServices?.flatMap((host) => {
    const key = serviceKeyFromHost(host, namespace);
    return key === undefined ? [] : [{ namespace: key.namespace, name: key.name }];
  });
}

function references(resource: Resource): Reference[] {
  const spec = resource.spec as WorkloadSpec;
  const namespace = resource.metadata.namespace;
  return [
    { path: 'spec.service', key: { kind: 'Service', namespace, name: spec.service } },
    ...(spec.reachableServices ?? []).flatMap((host, i) => {
      const key = serviceKeyFromHost(host, namespace);
      return key === undefined ? [] : [{ path: `spec.reachableServices[${i}]`, key }];
    }),
  ];
}

export const workloadKind: KindInfo = {
  kind: 'Workload',
  apiVersion: MESH_API_VERSION,
  plural: 'workloads',
  shortNames: ['wl'],
  namespaced: true,
  description: 'One registered instance of a Service: its address, ports, labels and identity.',
  specSchema: WorkloadSpecSchema,
  validateSemantics,
  references,
};
