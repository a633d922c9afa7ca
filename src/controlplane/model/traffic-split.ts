/**
 * SMI TrafficSplit (split.smi-spec.io/v1alpha4): weighs the traffic for a root
 * Service across backend Services. Field names follow the SMI spec exactly.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { SMI_SPLIT_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, ServiceName, StrictObject, StringEnum } from './schema-common.js';
import { duplicateErrors } from './semantics.js';
import { serviceKeyFromHost } from './service-host.js';

export const TrafficSplitSpecSchema = StrictObject({
  service: FormattedString('dns1123-subdomain', {
    description: 'The root Service clients address: its name, or its FQDN (name.namespace.svc.<trust domain>).',
  }),
  backends: Type.Array(
    StrictObject({
      service: ServiceName('A Service in this namespace.'),
      weight: Type.Integer({ minimum: 0, description: 'Relative weight (whole number); a backend gets weight / sum of weights.' }),
    }),
    { minItems: 1 },
  ),
  matches: Type.Optional(
    Type.Array(
      StrictObject({
        kind: StringEnum(['HTTPRouteGroup'] as const),
        name: FormattedString('dns1123-subdomain', { description: 'An HTTPRouteGroup in this namespace.' }),
      }),
      { description: 'Only requests matching these route groups are split; the rest go to the root Service.' },
    ),
  ),
});

export type TrafficSplitSpec = Static<typeof TrafficSplitSpecSchema>;

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as TrafficSplitSpec;
  const specPath = fieldPath(path, 'spec');
  const backendsPath = fieldPath(specPath, 'backends');
  const errors = duplicateErrors(spec.backends, (b) => b.service, (i) => fieldPath(indexPath(backendsPath, i), 'service'), 'backend service');
  if (spec.backends.every((b) => b.weight === 0)) {
    errors.push({ path: backendsPath, message: 'all weights are 0: at least one backend must have a positive weight' });
  }
  // SMI: splits are not self-referential, the root is the superset of its backends.
  const root = serviceKeyFromHost(spec.service, resource.metadata.namespace);
  spec.backends.forEach((backend, i) => {
    if (root !== undefined && root.namespace === resource.metadata.namespace && root.name === backend.service) {
      errors.push({ path: fieldPath(indexPath(backendsPath, i), 'service'), message: `must not be the root service ${JSON.stringify(spec.service)} itself` });
    }
  });
  if (spec.matches !== undefined) {
    const matchesPath = fieldPath(specPath, 'matches');
    errors.push(...duplicateErrors(spec.matches, (m) => m.name, (i) => fieldPath(indexPath(matchesPath, i), 'name'), 'match'));
  }
  return errors;
}

function references(resource: Resource): Reference[] {
  const spec = resource.spec as TrafficSplitSpec;
  const namespace = resource.metadata.namespace;
  const refs: Reference[] = [];
  const root = serviceKeyFromHost(spec.service, namespace);
  if (root !== undefined) refs.push({ path: 'spec.service', key: root });
  spec.backends.forEach((backend, i) => {
    refs.push({ path: `spec.backends[${i}].service`, key: { kind: 'Service', namespace, name: backend.service } });
  });
  spec.matches?.forEach((match, i) => {
    refs.push({ path: `spec.matches[${i}].name`, key: { kind: match.kind, namespace, name: match.name } });
  });
  return refs;
}

export const trafficSplitKind: KindInfo = {
  kind: 'TrafficSplit',
  apiVersion: SMI_SPLIT_API_VERSION,
  plural: 'trafficsplits',
  shortNames: ['ts'],
  namespaced: true,
  description: 'SMI: weighs the traffic addressed to a root Service across backend Services.',
  specSchema: TrafficSplitSpecSchema,
  validateSemantics,
  references,
};
