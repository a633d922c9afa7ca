/**
 * The schema of a whole resource document of one kind: the Kubernetes-style
 * envelope (apiVersion, kind, metadata, status) around the kind's spec.
 * `metadata.namespace` is checked in validate.ts, since its rule depends on the kind's scope.
 */
import { Type } from '@sinclair/typebox';
import type { KindInfo } from './kind-info.js';
import { FormattedString, StrictObject, StringEnum, StringMap } from './schema-common.js';

export const MetadataSchema = StrictObject({
  name: FormattedString('dns1123-subdomain'),
  namespace: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  // Set by the store; accepted so that a document read from the API can be applied again.
  resourceVersion: Type.Optional(Type.String()),
  creationTimestamp: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
});

export const ConditionSchema = StrictObject({
  type: Type.String({ minLength: 1, description: 'Accepted or Invalid.' }),
  status: StringEnum(['True', 'False', 'Unknown'] as const),
  reason: Type.String({ description: 'CamelCase reason, e.g. MissingReference.' }),
  message: Type.String(),
  lastTransitionTime: Type.String({ description: 'RFC 3339.' }),
});

export const StatusSchema = StrictObject(
  { conditions: Type.Array(ConditionSchema) },
  { description: 'Set by the control plane.' },
);

export function documentSchema(kind: KindInfo) {
  return StrictObject({
    apiVersion: Type.String(),
    kind: Type.String(),
    metadata: MetadataSchema,
    spec: kind.specSchema,
    status: Type.Optional(StatusSchema),
  });
}
