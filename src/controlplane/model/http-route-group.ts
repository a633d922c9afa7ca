/**
 * SMI HTTPRouteGroup (specs.smi-spec.io/v1alpha4): named HTTP matches (path
 * regex, methods, header regexes) that TrafficSplits and access policies refer to.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { SMI_SPECS_API_VERSION, type KindInfo } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, StrictObject, StringEnum, StringMap } from './schema-common.js';
import { duplicateErrors } from './semantics.js';

export const HTTP_ROUTE_METHODS = ['*', 'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

export const HTTPMatchSchema = StrictObject({
  name: Type.String({ minLength: 1, description: 'Unique within the group; the key other resources use.' }),
  methods: Type.Optional(Type.Array(StringEnum(HTTP_ROUTE_METHODS), { minItems: 1, description: 'Methods matched; "*" is any (default: any).' })),
  pathRegex: Type.Optional(FormattedString('regex', { description: 'Regular expression anchored at the start of the path (default: any path).' })),
  headers: Type.Optional(StringMap({ valueFormat: 'regex', description: 'Header name to value regex; all must match.' })),
});

export const HTTPRouteGroupSpecSchema = StrictObject({
  matches: Type.Array(HTTPMatchSchema, { minItems: 1 }),
});

export type HTTPRouteGroupSpec = Static<typeof HTTPRouteGroupSpecSchema>;

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as HTTPRouteGroupSpec;
  const matchesPath = fieldPath(fieldPath(path, 'spec'), 'matches');
  return duplicateErrors(spec.matches, (m) => m.name, (i) => fieldPath(indexPath(matchesPath, i), 'name'), 'match name');
}

export const httpRouteGroupKind: KindInfo = {
  kind: 'HTTPRouteGroup',
  apiVersion: SMI_SPECS_API_VERSION,
  plural: 'httproutegroups',
  shortNames: ['htr'],
  namespaced: true,
  description: 'SMI: named HTTP matches (path regex, methods, headers) that other resources refer to.',
  specSchema: HTTPRouteGroupSpecSchema,
  validateSemantics,
};
