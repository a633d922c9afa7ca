/**
 * Structural validation: one ajv instance, schemas compiled once at module load,
 * and ajv's errors turned into `ConfigError(path, reason)` with Envoy-style paths.
 * `allErrors: false` — the operator fixes one field at a time, the first failure wins.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError } from '../../lib/errors.js';
import { parseDuration } from './duration.js';
import { displayPath, fieldPath, pointerToPath } from './path.js';
import { DURATION_KEYWORD, REJECT_KEYWORD, takeSharedSchemas } from './schema-common.js';

// Config is validated once per load, not per request: skip ajv's code optimizer (it
// triples compile time) and keep shared messages as separate functions (inlineRefs: false).
const ajv = new Ajv({ allErrors: false, strict: true, verbose: true, discriminator: true, inlineRefs: false, code: { optimize: false } });
ajv.addKeyword({ keyword: DURATION_KEYWORD, schemaType: 'boolean', errors: false, validate: (_: boolean, data: unknown) => typeof parseDuration(data) === 'number' });
ajv.addKeyword({ keyword: REJECT_KEYWORD, schemaType: 'string', errors: false, validate: () => false });

/** Throws ConfigError at the first field of `data` that does not match; `basePath` prefixes the reported paths. */
export type Validator<T> = (data: unknown, basePath: string) => asserts data is T;

export function compileValidator<S extends TSchema>(schema: S): Validator<Static<S>> {
  for (const shared of takeSharedSchemas()) ajv.addSchema(shared);
  const validate = ajv.compile(schema);
  return (data, basePath) => {
    if (validate(data)) return;
    const error = validate.errors?.[0];
    if (error === undefined) throw new ConfigError(displayPath(basePath), 'invalid');
    const { path, reason } = describeError(error, data, basePath);
    throw new ConfigError(displayPath(path), reason);
  };
}

interface Problem {
  path: string;
  reason: string;
}

function describeError(error: ErrorObject, root: unknown, basePath: string): Problem {
  const path = pointerToPath(error.instancePath, root, basePath);
  const params = error.params as Record<string, unknown>;
  const got = describe(error.data);
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: fieldPath(path, String(params['additionalProperty'])), reason: 'unknown field' };
    case 'required':
      return { path: fieldPath(path, String(params['missingProperty'])), reason: 'required field is missing' };
    case REJECT_KEYWORD:
      return { path, reason: String(error.schema) };
    case DURATION_KEYWORD:
      return { path, reason: String(parseDuration(error.data)) };
    case 'type':
      return { path, reason: `expected ${String(params['type'])}, got ${got}` };
    case 'enum':
      return { path, reason: `unsupported value ${got}; supported: ${(params['allowedValues'] as unknown[]).join(', ')}` };
    case 'const':
      return { path, reason: `expected ${JSON.stringify(params['allowedValue'])}, got ${got}` };
    case 'minimum':
      return { path, reason: `must be >= ${String(params['limit'])}, got ${got}` };
    case 'maximum':
      return { path, reason: `must be <= ${String(params['limit'])}, got ${got}` };
    case 'minLength':
      return { path, reason: 'must not be empty' };
    case 'minItems':
      return { path, reason: `must have at least ${String(params['limit'])} item(s)` };
    case 'discriminator':
      return describeTypeUrlError(error, path);
    default:
      return { path, reason: error.message ?? `failed ${error.keyword}` };
  }
}

/** `@type` not a string, or not one of the messages this typed_config accepts (see TypedConfigOneOf). */
function describeTypeUrlError(error: ErrorObject, path: string): Problem {
  const typePath = fieldPath(path, '@type');
  const tag = (error.params as { tagValue?: unknown }).tagValue;
  if (typeof tag !== 'string') return { path: typePath, reason: `expected string, got ${describe(tag)}` };
  const branches = (error.parentSchema as { oneOf: Array<{ properties: { '@type': { const: string } } }> }).oneOf;
  const supported = branches.map((b) => b.properties['@type'].const).join(', ');
  return { path: typePath, reason: `unsupported @type "${tag}"; supported: ${supported}` };
}

/** A short, readable rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 197)}...` : value);
  return `${typeof value} ${String(value)}`;
}
