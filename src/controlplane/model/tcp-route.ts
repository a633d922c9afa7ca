/** SMI TCPRoute (specs.smi-spec.io/v1alpha4): L4 traffic to a list of ports (none = every port). */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { SMI_SPECS_API_VERSION, type KindInfo } from './kind-info.js';
import type { Resource } from './resource.js';
import { Port, StrictObject } from './schema-common.js';
import { duplicateErrors } from './semantics.js';

export const TCPRouteSpecSchema = StrictObject({
  matches: StrictObject({
    name: Type.Optional(Type.String({ minLength: 1 })),
    ports: Type.Optional(Type.Array(Port(), { default: [], description: 'Ports matched; empty matches every port of the Service.' })),
  }),
});

export interface TCPRouteSpec extends Static<typeof TCPRouteSpecSchema> {
  matches: { name?: string; ports: number[] };
}

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as TCPRouteSpec;
  const portsPath = fieldPath(fieldPath(fieldPath(path, 'spec'), 'matches'), 'ports');
  return duplicateErrors(spec.matches.ports, (port) => port, (i) => indexPath(portsPath, i), 'port');
}

export const tcpRouteKind: KindInfo = {
  kind: 'TCPRoute',
  apiVersion: SMI_SPECS_API_VERSION,
  plural: 'tcproutes',
  shortNames: ['tr'],
  namespaced: true,
  description: 'SMI: L4 TCP traffic to a list of ports.',
  specSchema: TCPRouteSpecSchema,
  validateSemantics,
};
