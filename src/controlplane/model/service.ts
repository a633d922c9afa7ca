/**
 * Service: a named set of workloads and the ports it serves. Its endpoints
 * are the Workloads whose `spec.service` names it, plus, when it has a
 * selector, the Workloads in its namespace whose labels match it (so
 * `reviews-v2` can select the `version: v2` subset of `reviews`).
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { dns1123LabelProblem } from './formats.js';
import { MESH_API_VERSION, type KindInfo } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, Port, StrictObject, StringEnum, StringMap } from './schema-common.js';
import { duplicateErrors, labelMapErrors } from './semantics.js';

export const SERVICE_PROTOCOLS = ['http', 'http2', 'grpc', 'tcp'] as const;
export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];

export const ServicePortSchema = StrictObject({
  name: FormattedString('dns1123-label', { description: 'Unique within the Service.' }),
  port: Port('The port clients connect to.'),
  protocol: Type.Optional(
    StringEnum(SERVICE_PROTOCOLS, { default: 'http', description: 'Application protocol: http (HTTP/1.1), http2, grpc or tcp (opaque).' }),
  ),
  targetPort: Type.Optional(Port('The port the workloads listen on; defaults to port.')),
});

export const ServiceSpecSchema = StrictObject({
  ports: Type.Array(ServicePortSchema, { minItems: 1, description: 'The ports the Service serves.' }),
  selector: Type.Optional(StringMap({ description: 'Also selects the Workloads (in this namespace) whose labels include all of these.' })),
});

/** A validated Service spec: every port has its protocol. */
export interface ServiceSpec extends Static<typeof ServiceSpecSchema> {
  ports: Array<Static<typeof ServicePortSchema> & { protocol: ServiceProtocol }>;
}

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as ServiceSpec;
  const specPath = fieldPath(path, 'spec');
  const portsPath = fieldPath(specPath, 'ports');
  const errors: FieldError[] = [];
  // The name becomes a host name (<name>.<namespace>.svc...), so no dots.
  const nameProblem = dns1123LabelProblem(resource.metadata.name);
  if (nameProblem !== undefined) errors.push({ path: fieldPath(fieldPath(path, 'metadata'), 'name'), message: `a Service name must be a DNS label: ${nameProblem}` });
  errors.push(
    ...duplicateErrors(spec.ports, (p) => p.name, (i) => fieldPath(indexPath(portsPath, i), 'name'), 'port name'),
    ...duplicateErrors(spec.ports, (p) => p.port, (i) => fieldPath(indexPath(portsPath, i), 'port'), 'port'),
    ...labelMapErrors(spec.selector, fieldPath(specPath, 'selector')),
  );
  return errors;
}

export const serviceKind: KindInfo = {
  kind: 'Service',
  apiVersion: MESH_API_VERSION,
  plural: 'services',
  shortNames: ['svc'],
  namespaced: true,
  description: 'A named set of workloads and the ports it serves.',
  specSchema: ServiceSpecSchema,
  validateSemantics,
};
