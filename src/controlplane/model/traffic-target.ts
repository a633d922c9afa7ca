/**
 * SMI TrafficTarget (access.smi-spec.io/v1alpha3): which service accounts may
 * reach the workloads running as a destination service account, and on which
 * routes (HTTPRouteGroup matches, TCPRoutes). Field names follow the SMI spec.
 * Once any TrafficTarget names a destination, everything it does not allow is
 * denied there; destinations no TrafficTarget names stay open.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { SMI_ACCESS_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, StrictObject, StringEnum } from './schema-common.js';
import { duplicateErrors } from './semantics.js';

const IdentitySchema = (what: string) =>
  StrictObject({
    kind: StringEnum(['ServiceAccount'] as const, { description: 'Only ServiceAccount identities.' }),
    name: FormattedString('dns1123-subdomain', { description: `The ${what} service account (a Workload's spec.serviceAccount).` }),
    namespace: Type.Optional(FormattedString('dns1123-label', { description: "Its namespace; default: the TrafficTarget's namespace." })),
  });

export const TrafficTargetRuleSchema = StrictObject({
  kind: StringEnum(['HTTPRouteGroup', 'TCPRoute'] as const),
  name: FormattedString('dns1123-subdomain', { description: 'An HTTPRouteGroup or TCPRoute in this namespace.' }),
  matches: Type.Optional(
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'HTTPRouteGroup only: the names of the matches allowed (default: every match of the group).' }),
  ),
});

export const TrafficTargetSpecSchema = StrictObject({
  destination: IdentitySchema('destination'),
  rules: Type.Array(TrafficTargetRuleSchema, { minItems: 1, description: 'The routes the sources may use (any of them).' }),
  sources: Type.Array(IdentitySchema('source'), { minItems: 1, description: 'The identities allowed (any of them).' }),
});

export type TrafficTargetSpec = Static<typeof TrafficTargetSpecSchema>;
export type TrafficTargetRule = Static<typeof TrafficTargetRuleSchema>;
export type TrafficTargetIdentity = TrafficTargetSpec['sources'][number];

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as TrafficTargetSpec;
  const specPath = fieldPath(path, 'spec');
  const errors: FieldError[] = [];
  const namespace = resource.metadata.namespace;
  if (spec.destination.namespace !== undefined && spec.destination.namespace !== namespace) {
    errors.push({
      path: fieldPath(fieldPath(specPath, 'destination'), 'namespace'),
      message: `must be the TrafficTarget's own namespace ${JSON.stringify(namespace)} (SMI: a TrafficTarget lives with its destination)`,
    });
  }
  const rulesPath = fieldPath(specPath, 'rules');
  spec.rules.forEach((rule, i) => {
    const rulePath = indexPath(rulesPath, i);
    if (rule.kind === 'TCPRoute' && rule.matches !== undefined) {
      errors.push({ path: fieldPath(rulePath, 'matches'), message: 'only an HTTPRouteGroup rule names matches; a TCPRoute applies as a whole' });
    }
    if (rule.matches !== undefined) {
      errors.push(...duplicateErrors(rule.matches, (m) => m, (j) => indexPath(fieldPath(rulePath, 'matches'), j), 'match'));
    }
  });
  errors.push(...duplicateErrors(spec.rules, (r) => `${r.kind}/${r.name}`, (i) => fieldPath(indexPath(rulesPath, i), 'name'), 'rule'));
  const sourcesPath = fieldPath(specPath, 'sources');
  errors.push(...duplicateErrors(spec.sources, (s) => `${s.namespace ?? namespace}/${s.name}`, (i) => fieldPath(indexPath(sourcesPath, i), 'name'), 'source'));
  return errors;
}

function references(resource: Resource): Reference[] {
  const spec = resource.spec as TrafficTargetSpec;
  const namespace = resource.metadata.namespace;
  return spec.rules.map((rule, i) => ({ path: `spec.rules[${i}].name`, key: { kind: rule.kind, namespace, name: rule.name } }));
}

export const trafficTargetKind: KindInfo = {
  kind: 'TrafficTarget',
  apiVersion: SMI_ACCESS_API_VERSION,
  plural: 'traffictargets',
  shortNames: ['tt'],
  namespaced: true,
  description: 'SMI: allows source service accounts to reach a destination service account on the routes its rules name; everything else to that destination is denied.',
  specSchema: TrafficTargetSpecSchema,
  validateSemantics,
  references,
};
