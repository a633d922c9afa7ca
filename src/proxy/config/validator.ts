/**
 * Structural validation: one ajv instance, schemas compiled once at module load,
 * and ajv's errors turned into `ConfigError(path, reason)` with Envoy-style paths.
 * `allErrors: false` — the operator fixes one field at a time, the first failure wins.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ConfigError } from '../../lib/errors.js';
import { parseDuration } from './duration.js';
import { fieldPath, pointerToPath } from './path.js';
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
    if (error === undefined) throw new ConfigError(basePath, 'invalid');
    throw toConfigError(error, data, basePath);
  };
}

function toConfigError(error: ErrorObject, root: unknown, basePath: string): ConfigError {
  const path = pointerToPath(error.instancePath, root, basePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return new ConfigError(fieldPath(path, String(params['additionalProperty'])), 'unknown field');
    case 'required':
      return new ConfigError(fieldPath(path, String(params['missingProperty'])), 'required field is missing');
    case REJECT_KEYWORD:
      return new ConfigError(path, String(error.schema));
    case DURATION_KEYWORD:
      return new ConfigError(path, String(parseDuration(error.data)));
    case 'type':
      return new ConfigError(path, `expected ${String(params['type'])}, got ${describe(error.data)}`);
    case 'enum':
      return new ConfigError(path, `unsupported value ${describe(error.data)}; supported: ${(params['allowedValues'] as unknown[]).join(', ')}`);
    case 'const':
      return new ConfigError(path, `expected ${JSON.stringify(params['allowedValue'])}, got ${describe(error.data)}`);
    case 'minimum':
      return new ConfigError(path, `must be >= ${String(params['limit'])}, got ${describe(error.data)}`);
    case 'maximum':
      return new ConfigError(path, `must be <= ${String(params['limit'])}, got ${describe(error.data)}`);
    case 'minLength':
      return new ConfigError(path, 'must not be empty');
    case 'minItems':
      return new ConfigError(path, `must have at least ${String(params['limit'])} item(s)`);
    case 'discriminator':
      return discriminatorError(error, path);
    default:
      return new ConfigError(path, error.message ?? `failed ${error.keyword}`);
  }
}

/** `@type` missing, not a string, or not one of the messages this typed_config accepts. */
function discriminatorError(error: ErrorObject, path: string): ConfigError {
  const typePath = fieldPath(path, '@type');
  const tag = (error.params as { tagValue?: unknown }).tagValue;
  if (typeof tag !== 'string') return new ConfigError(typePath, `expected string, got ${describe(tag)}`);
  const branches = (error.parentSchema as { oneOf: Array<{ properties: { '@type': { const: string } } }> }).oneOf;
  const supported = branches.map((b) => b.properties['@type'].const).join(', ');
  return new ConfigError(typePath, `unsupported @type "${tag}"; supported: ${supported}`);
}

/** A short, readable rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return `${typeof value} ${String(value)}`;
}
