/**
 * Envoy JSON <-> protobuf bytes for xDS resources.
 *
 * "Envoy JSON" is what Envoy's YAML/JSON configs and Weft's bootstrap use: the
 * proto field names, the proto3 JSON mapping for well-known types (durations
 * as "1.5s", Struct as plain JSON, wrappers as bare values, Any as an object
 * with `@type`), enums by name, 64-bit integers as strings or numbers.
 * protobufjs's own `fromObject` silently drops unknown fields and does not map
 * well-known types, so this module walks the schema itself: an unknown field,
 * an unknown enum value, an unknown `@type` or a value of the wrong kind is a
 * ConfigError naming the field's path. Decoding gives the same shape back
 * (fields left at their default are omitted, as on the wire).
 */
import type * as Protobuf from 'protobufjs';
import { ConfigError } from '../lib/errors.js';
import { xdsProtos } from './protos.js';
import { TYPE_URL_PREFIX } from './type-urls.js';

/** A JSON object in Envoy's field names; an Any carries `@type`. */
export type EnvoyJson = Record<string, unknown>;

/** `google.protobuf.Any` as gRPC message objects carry it. */
export interface EncodedAny {
  type_url: string;
  value: Uint8Array;
}

/** Encodes a resource as an Any. `json['@type']`, when present, must equal `typeUrl`. */
export function encodeResource(typeUrl: string, json: EnvoyJson): EncodedAny {
  const declared = json['@type'];
  if (declared !== undefined && declared !== typeUrl) {
    throw new ConfigError('@type', `is ${String(declared)} but the resource is encoded as ${typeUrl}`);
  }
  return encodeAnyValue(typeUrl, json, '');
}

/** Encodes an object that names its own type in `@type`. */
export function encodeAny(json: EnvoyJson): EncodedAny {
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string') throw new ConfigError('@type', 'is required on an Any');
  return encodeAnyValue(typeUrl, json, '');
}

/** Decodes an Any into Envoy JSON with `@type`. */
export function decodeAny(any: EncodedAny): EnvoyJson {
  const type = typeOfUrl(any.type_url, '@type');
  return { '@type': any.type_url, ...toJsonObject(type, type.decode(any.value)) };
}

/** Encodes a message of a loaded type (full name without the leading dot) from Envoy JSON. */
export function encodeMessage(typeName: string, json: EnvoyJson): Uint8Array {
  const type = lookupType(typeName, '');
  return type.encode(type.fromObject(toProtoValue(type, json, '') as Record<string, unknown>)).finish();
}

/** Decodes a message of a loaded type into Envoy JSON. */
export function decodeMessage(typeName: string, bytes: Uint8Array): EnvoyJson {
  const type = lookupType(typeName, '');
  return toJsonObject(type, type.decode(bytes));
}

/**
 * A `google.protobuf.Struct` as gRPC message objects carry it
 * (`{ fields: { key: { string_value: ... } } }`) as plain JSON, e.g. a node's metadata.
 */
export function structToJson(struct: unknown): EnvoyJson {
  if (!isPlainObject(struct)) return {};
  const type = lookupType('google.protobuf.Struct', '');
  return toJsonValue(type, type.fromObject(struct as Record<string, unknown>)) as EnvoyJson;
}

// ---- encoding: Envoy JSON -> protobufjs plain objects ----

function encodeAnyValue(typeUrl: string, json: EnvoyJson, path: string): EncodedAny {
  const type = typeOfUrl(typeUrl, joinPath(path, '@type'));
  const { '@type': _ignored, ...fields } = json;
  // Types with a special JSON form keep it under `value` when wrapped in an Any.
  const body = SPECIAL_JSON_TYPES.has(type.fullName) ? fields['value'] : fields;
  const value = type.encode(type.fromObject(toProtoValue(type, body, path) as Record<string, unknown>)).finish();
  return { type_url: typeUrl, value };
}

const SPECIAL_JSON_TYPES = new Set([
  '.google.protobuf.Duration',
  '.google.protobuf.Timestamp',
  '.google.protobuf.Struct',
  '.google.protobuf.Value',
  '.google.protobuf.ListValue',
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
]);

/** Converts the Envoy JSON for one message of `type` into the object protobufjs's fromObject expects. */
function toProtoValue(type: Protobuf.Type, json: unknown, path: string): unknown {
  switch (type.fullName) {
    case '.google.protobuf.Duration':
      return typeof json === 'string' ? parseDuration(json, path) : toProtoFields(type, json, path);
    case '.google.protobuf.Timestamp':
      return typeof json === 'string' ? parseTimestamp(json, path) : toProtoFields(type, json, path);
    case '.google.protobuf.Struct':
      return jsonToStruct(json, path);
    case '.google.protobuf.Value':
      return jsonToValue(json, path);
    case '.google.protobuf.ListValue':
      if (!Array.isArray(json)) throw new ConfigError(path, 'must be a list');
      return { values: json.map((item, i) => jsonToValue(item, `${path}[${i}]`)) };
    case '.google.protobuf.Any':
      return anyToProto(json, path);
    default:
      if (SPECIAL_JSON_TYPES.has(type.fullName)) {
        // A wrapper (UInt32Value, BoolValue, ...): a bare value, or `{ value }`.
        const field = type.fields['value']!;
        const bare = isPlainObject(json) ? json['value'] : json;
        return { value: toScalar(field, bare, path) };
      }
      return toProtoFields(type, json, path);
  }
}

function toProtoFields(type: Protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(json)) throw new ConfigError(path || type.name, `must be an object (${type.fullName.slice(1)})`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const fieldPath = joinPath(path, key);
    const field = type.fields[key];
    if (field === undefined) throw new ConfigError(fieldPath, `unknown field of ${type.fullName.slice(1)}`);
    if (value === null || value === undefined) continue;
    out[key] = toFieldValue(field, value, fieldPath);
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.fieldsArray.filter((field) => out[field.name] !== undefined).map((field) => field.name);
    if (set.length > 1) throw new ConfigError(path || type.name, `sets ${set.join(' and ')}, which are alternatives (${oneof.name}); set one`);
  }
  return out;
}

function toFieldValue(field: Protobuf.Field, value: unknown, path: string): unknown {
  if (field.map) {
    if (!isPlainObject(value)) throw new ConfigError(path, 'must be a map (object)');
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toSingleValue(field, item, `${path}.${key}`);
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new ConfigError(path, 'must be a list');
    return value.map((item, i) => toSingleValue(field, item, `${path}[${i}]`));
  }
  return toSingleValue(field, value, path);
}

function toSingleValue(field: Protobuf.Field, value: unknown, path: string): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null && 'fields' in resolved) return toProtoValue(resolved, value, path);
  if (resolved !== null) {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string' && Object.hasOwn(resolved.values, value)) return value;
    throw new ConfigError(path, `${JSON.stringify(value)} is not one of ${Object.keys(resolved.values).join(', ')}`);
  }
  return toScalar(field, value, path);
}

const INTEGER_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function toScalar(field: Protobuf.Field, value: unknown, path: string): unknown {
  const kind = field.type;
  if (kind === 'string') {
    if (typeof value !== 'string') throw new ConfigError(path, 'must be a string');
    return value;
  }
  if (kind === 'bool') {
    if (typeof value !== 'boolean') throw new ConfigError(path, 'must be true or false');
    return value;
  }
  if (kind === 'bytes') {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new ConfigError(path, 'must be base64 text');
    return value;
  }
  if (INTEGER_TYPES.has(kind)) {
    const ok = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
    if (!ok) throw new ConfigError(path, 'must be an integer');
    if (kind.endsWith('32')) return Number(value);
    return value;
  }
  // double, float
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw new ConfigError(path, 'must be a number');
}

function anyToProto(json: unknown, path: string): unknown {
  if (!isPlainObject(json)) throw new ConfigError(path, 'must be an object with @type');
  // Already encoded (e.g. cached bytes): pass through.
  if (json['@type'] === undefined && typeof json['type_url'] === 'string' && json['value'] instanceof Uint8Array) return json;
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string') throw new ConfigError(joinPath(path, '@type'), 'is required on an Any');
  return encodeAnyValue(typeUrl, json, path);
}

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

function parseDuration(text: string, path: string): { seconds: string; nanos: number } {
  const match = DURATION.exec(text);
  if (match === null) throw new ConfigError(path, `${JSON.stringify(text)} is not a duration such as "1.5s"`);
  const sign = match[1] === undefined ? 1 : -1;
  const nanos = Number((match[3] ?? '').padEnd(9, '0'));
  return { seconds: `${match[1] ?? ''}${match[2]}`, nanos: sign * nanos };
}

function parseTimestamp(text: string, path: string): { seconds: string; nanos: number } {
  const millis = Date.parse(text);
  if (Number.isNaN(millis)) throw new ConfigError(path, `${JSON.stringify(text)} is not an RFC 3339 timestamp`);
  const fraction = /\.(\d{1,9})/.exec(text)?.[1] ?? '';
  return { seconds: String(Math.floor(millis / 1000)), nanos: Number(fraction.padEnd(9, '0')) };
}

function jsonToStruct(json: unknown, path: string): { fields: Record<string, unknown> } {
  if (!isPlainObject(json)) throw new ConfigError(path, 'must be an object');
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = jsonToValue(value, `${path}.${key}`);
  return { fields };
}

// google.protobuf.Value comes from protobufjs's bundled descriptors, whose field names are camelCase.
function jsonToValue(json: unknown, path: string): Record<string, unknown> {
  if (json === null) return { nullValue: 'NULL_VALUE' };
  if (typeof json === 'number') return { numberValue: json };
  if (typeof json === 'string') return { stringValue: json };
  if (typeof json === 'boolean') return { boolValue: json };
  if (Array.isArray(json)) return { listValue: { values: json.map((item, i) => jsonToValue(item, `${path}[${i}]`)) } };
  if (isPlainObject(json)) return { structValue: jsonToStruct(json, path) };
  throw new ConfigError(path, `${typeof json} is not a JSON value`);
}

// ---- decoding: protobufjs messages -> Envoy JSON ----

/** Fields of a decoded message that are present on the wire, in Envoy JSON. */
function toJsonObject(type: Protobuf.Type, message: Protobuf.Message): EnvoyJson {
  const out: EnvoyJson = {};
  const record = message as unknown as Record<string, unknown>;
  for (const field of type.fieldsArray) {
    const value = record[field.name];
    if (value === undefined || value === null) continue;
    // Decoded messages carry empty defaults on their prototype; only own fields were on the wire.
    if (!Object.hasOwn(record, field.name)) continue;
    if (field.map) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) continue;
      const map: Record<string, unknown> = {};
      for (const [key, item] of entries) map[key] = toJsonSingle(field, item);
      out[field.name] = map;
    } else if (field.repeated) {
      const items = value as unknown[];
      if (items.length === 0) continue;
      out[field.name] = items.map((item) => toJsonSingle(field, item));
    } else {
      out[field.name] = toJsonSingle(field, value);
    }
  }
  return out;
}

function toJsonSingle(field: Protobuf.Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null && 'fields' in resolved) return toJsonValue(resolved, value as Protobuf.Message);
  if (resolved !== null) return resolved.valuesById[value as number] ?? value;
  return scalarToJson(field.type, value);
}

function scalarToJson(kind: string, value: unknown): unknown {
  if (kind === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  // 64-bit integers (numbers or Long objects) are decimal strings in proto3 JSON.
  if (INTEGER_TYPES.has(kind) && kind.endsWith('64')) return String(value);
  return value;
}

function toJsonValue(type: Protobuf.Type, message: Protobuf.Message): unknown {
  const record = message as unknown as Record<string, unknown>;
  switch (type.fullName) {
    case '.google.protobuf.Duration':
      return formatDuration(Number(String(record['seconds'] ?? 0)), Number(record['nanos'] ?? 0));
    case '.google.protobuf.Timestamp': {
      const millis = Number(String(record['seconds'] ?? 0)) * 1000 + Math.floor(Number(record['nanos'] ?? 0) / 1e6);
      return new Date(millis).toISOString();
    }
    case '.google.protobuf.Struct': {
      const fields = (record['fields'] ?? {}) as Record<string, Protobuf.Message>;
      const valueType = type.fields['fields']!.resolvedType as Protobuf.Type;
      const out: EnvoyJson = {};
      for (const [key, item] of Object.entries(fields)) out[key] = toJsonValue(valueType, item);
      return out;
    }
    case '.google.protobuf.Value':
      return valueToJson(type, record);
    case '.google.protobuf.ListValue': {
      const valueType = type.fields['values']!.resolvedType as Protobuf.Type;
      return ((record['values'] ?? []) as Protobuf.Message[]).map((item) => toJsonValue(valueType, item));
    }
    case '.google.protobuf.Any':
      return decodeAny({ type_url: String(record['type_url']), value: record['value'] as Uint8Array });
    default:
      if (SPECIAL_JSON_TYPES.has(type.fullName)) return scalarToJson(type.fields['value']!.type, record['value']);
      return toJsonObject(type, message);
  }
}

function valueToJson(type: Protobuf.Type, record: Record<string, unknown>): unknown {
  switch (record['kind']) {
    case 'structValue':
    case 'listValue':
      return toJsonValue(type.fields[record['kind']]!.resolvedType as Protobuf.Type, record[record['kind']] as Protobuf.Message);
    case 'stringValue':
    case 'numberValue':
    case 'boolValue':
      return record[record['kind']];
    default:
      return null;
  }
}

function formatDuration(seconds: number, nanos: number): string {
  if (nanos === 0) return `${seconds}s`;
  const negative = seconds < 0 || nanos < 0;
  const fraction = String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${Math.abs(seconds)}.${fraction}s`;
}

// ---- helpers ----

function typeOfUrl(typeUrl: string, path: string): Protobuf.Type {
  const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  if (!typeUrl.startsWith(TYPE_URL_PREFIX) && typeUrl.includes('/')) {
    throw new ConfigError(path, `${typeUrl} does not start with ${TYPE_URL_PREFIX}`);
  }
  return lookupType(name, path);
}

function lookupType(name: string, path: string): Protobuf.Type {
  const found = xdsProtos().root.lookup(name);
  if (found === null || !('fieldsArray' in found)) throw new ConfigError(path || name, `${name} is not a message type the xDS protos define`);
  return found as Protobuf.Type;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
