/**
 * Validates a mesh resource document once, on its way into the control plane:
 * known apiVersion/kind, metadata (names, namespace, labels), the kind's spec
 * schema (closed objects, defaults applied), then the kind's semantic checks.
 * Every problem is reported with its field path, e.g. `spec.backends[1].weight`.
 * The control plane's own ajv instance; the proxy's bootstrap validator is separate.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { documentSchema } from './document.js';
import { displayPath, fieldPath, pointerToPath, type FieldError } from './field-error.js';
import { dns1123LabelProblem, findStringFormat, STRING_FORMATS } from './formats.js';
import { findKind, KINDS, type KindInfo } from './kinds.js';
import type { Resource } from './resource.js';
import { labelMapErrors } from './semantics.js';
import { isRecord } from '../../lib/is-record.js';

export type { FieldError } from './field-error.js';

export type ValidationResult = { ok: true; resource: Resource } | { ok: false; errors: FieldError[] };

export const DEFAULT_NAMESPACE = 'default';

// Documents are validated once per write, not per request: skip ajv's code optimizer.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, useDefaults: true, code: { optimize: false } });
// A Kubernetes annotation (see crd.ts): ajv allows unknown members wherever additionalProperties is not false anyway.
ajv.addVocabulary(['x-kubernetes-preserve-unknown-fields']);
for (const [name, format] of Object.entries(STRING_FORMATS)) {
  ajv.addFormat(name, { type: 'string', validate: (value: string) => format.check(value) === undefined });
}
const validatorByKind = new Map<KindInfo, ValidateFunction>(KINDS.map((kind) => [kind, ajv.compile(documentSchema(kind))]));

const SUPPORTED_KINDS = KINDS.map((k) => `${k.kind} (${k.apiVersion})`).join(', ');

/**
 * Checks `doc` (parsed JSON or YAML) and returns the resource with defaults
 * applied (namespace 'default', the kind's spec defaults); `doc` is not modified.
 */
export function validateResource(doc: unknown): ValidationResult {
  if (!isRecord(doc)) return fail([{ path: displayPath(''), message: `expected a resource object, got ${describe(doc)}` }]);
  const kindOrError = identifyKind(doc);
  if (!('kind' in kindOrError)) return fail([kindOrError]);
  const kind = kindOrError;

  const copy = structuredClone(doc);
  const validate = validatorByKind.get(kind) as ValidateFunction;
  if (!validate(copy)) return fail((validate.errors ?? []).map((error) => describeError(error, copy)));

  const candidate = copy as unknown as Resource;
  const namespaceOrError = resolveNamespace(kind, candidate.metadata.namespace);
  const errors: FieldError[] = [];
  if (typeof namespaceOrError !== 'string') errors.push(namespaceOrError);
  else candidate.metadata.namespace = namespaceOrError;
  errors.push(...labelMapErrors(candidate.metadata.labels, 'metadata.labels'));
  errors.push(...(kind.validateSemantics?.(candidate, '') ?? []));
  return errors.length === 0 ? { ok: true, resource: candidate } : fail(errors);
}

function fail(errors: FieldError[]): ValidationResult {
  return { ok: false, errors };
}

function identifyKind(doc: Record<string, unknown>): KindInfo | FieldError {
  const { kind: kindName, apiVersion } = doc;
  if (kindName === undefined) return { path: 'kind', message: `required field is missing; supported kinds: ${SUPPORTED_KINDS}` };
  if (typeof kindName !== 'string') return { path: 'kind', message: `expected string, got ${describe(kindName)}` };
  const kind = findKind(kindName);
  if (kind === undefined || kind.kind !== kindName) {
    const hint = kind === undefined ? '' : ` (did you mean ${kind.kind}?)`;
    return { path: 'kind', message: `unknown kind ${JSON.stringify(kindName)}${hint}; supported kinds: ${SUPPORTED_KINDS}` };
  }
  if (apiVersion === undefined) return { path: 'apiVersion', message: `required field is missing (${kind.kind} is ${kind.apiVersion})` };
  if (apiVersion !== kind.apiVersion) {
    return { path: 'apiVersion', message: `${kind.kind} is served as ${kind.apiVersion}, not ${describe(apiVersion)}` };
  }
  return kind;
}

/** The namespace to store, or the error: namespaced kinds default to 'default', cluster-scoped kinds have none. */
function resolveNamespace(kind: KindInfo, namespace: string | undefined): string | FieldError {
  const given = namespace ?? '';
  if (!kind.namespaced) {
    if (given === '') return '';
    return { path: 'metadata.namespace', message: `${kind.kind} is cluster-scoped: remove metadata.namespace` };
  }
  if (given === '') return DEFAULT_NAMESPACE;
  const problem = dns1123LabelProblem(given);
  return problem === undefined ? given : { path: 'metadata.namespace', message: problem };
}

function describeError(error: ErrorObject, root: unknown): FieldError {
  const path = pointerToPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  const got = describe(error.data);
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const hint = known.length === 0 ? 'no fields are allowed here' : `known fields: ${known.join(', ')}`;
      return { path: fieldPath(path, String(params['additionalProperty'])), message: `unknown field; ${hint}` };
    }
    case 'required':
      return { path: fieldPath(path, String(params['missingProperty'])), message: 'required field is missing' };
    case 'format': {
      const problem = findStringFormat(String(params['format']))?.check(String(error.data));
      return { path: displayPath(path), message: problem ?? `invalid ${String(params['format'])}` };
    }
    case 'type':
      return { path: displayPath(path), message: `expected ${String(params['type'])}, got ${got}` };
    case 'enum':
      return { path: displayPath(path), message: `unsupported value ${got}; supported: ${(params['allowedValues'] as unknown[]).join(', ')}` };
    case 'minimum':
      return { path: displayPath(path), message: `must be >= ${String(params['limit'])}, got ${got}` };
    case 'maximum':
      return { path: displayPath(path), message: `must be <= ${String(params['limit'])}, got ${got}` };
    case 'minLength':
      return { path: displayPath(path), message: 'must not be empty' };
    case 'minItems':
      return { path: displayPath(path), message: `must have at least ${String(params['limit'])} item(s)` };
    case 'minProperties':
      return { path: displayPath(path), message: `must set at least ${String(params['limit'])} field(s)` };
    case 'maxProperties':
      return { path: displayPath(path), message: `must set at most ${String(params['limit'])} field(s), got ${Object.keys(error.data as object).join(', ')}` };
    default:
      return { path: displayPath(path), message: error.message ?? `failed ${error.keyword}` };
  }
}


/** A short, readable rendering of a bad value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 97)}...` : value);
  return `${typeof value} ${String(value)}`;
}
