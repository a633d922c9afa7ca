/**
 * Schema building blocks shared by the listener, route and cluster schemas.
 *
 * Every message is an `Obj` (TypeBox object with `additionalProperties: false`), so
 * a field outside the supported subset fails validation with its path. Fields
 * Envoy has but Weft does not implement yet are declared with `Unsupported`, which
 * turns "unknown field" into a clearer "not supported yet". Adding a field is one
 * line in the message's `Obj({...})`.
 */
import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { type DurationInput } from './duration.js';

/** Custom ajv keywords (registered in validator.ts). */
export const DURATION_KEYWORD = 'weftDuration';
export const REJECT_KEYWORD = 'weftReject';

const NOT_SUPPORTED_YET = 'not supported yet';

const sharedSchemas: TSchema[] = [];

/**
 * A message used in many places, compiled once by ajv and referenced by `$ref`
 * (inlining every use made the compiled bootstrap validator megabytes long).
 */
export function Shared<T extends TSchema>(id: string, schema: T): TUnsafe<Static<T>> {
  const $id = `weft:${id}`;
  sharedSchemas.push({ ...schema, $id });
  return Type.Unsafe<Static<T>>({ $ref: $id });
}

/** Shared schemas defined since the last call; validator.ts registers them with ajv before compiling. */
export function takeSharedSchemas(): TSchema[] {
  return sharedSchemas.splice(0);
}

export function Obj<T extends TProperties>(properties: T): TObject<T> {
  return Type.Object(properties, { additionalProperties: false });
}

export const Opt = Type.Optional;

/** A string enum; ajv reports the allowed values, which become the "supported: ..." list. */
export function Enum<const T extends readonly string[]>(values: T): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });
}

/** Non-negative integer (protobuf uint32/uint64 wrappers). */
export function UInt(options: { minimum?: number; maximum?: number } = {}): TSchema & { static: number } {
  return Type.Integer({ minimum: 0, ...options });
}

export const Str = (options: { minLength?: number } = {}) => Type.String(options);
export const NonEmptyStr = () => Type.String({ minLength: 1 });
export const Bool = () => Type.Boolean();
export const Port = () => Type.Integer({ minimum: 0, maximum: 65535 });

/** google.protobuf.Duration, validated by duration.ts through the custom keyword. */
export const Duration = () => Type.Unsafe<DurationInput>({ [DURATION_KEYWORD]: true });

/** A field Envoy has that is always rejected, with `reason`. */
export function Unsupported(reason: string = NOT_SUPPORTED_YET): TUnsafe<never> {
  return Type.Unsafe<never>({ [REJECT_KEYWORD]: reason });
}

/** Envoy fields that exist but are rejected as "not supported yet", to spread into an `Obj`. */
export function unsupportedFields<const K extends string>(names: readonly K[]): Record<K, TOptional<TUnsafe<never>>> {
  return Object.fromEntries(names.map((name) => [name, Opt(Unsupported())])) as Record<K, TOptional<TUnsafe<never>>>;
}

/** google.protobuf.Struct: free-form by definition. */
export const Struct = () => Type.Record(Type.String(), Type.Unknown());

/**
 * A `typed_config` holding one of several messages, chosen by `@type` (ajv's
 * discriminator keeps the error paths inside the chosen message).
 */
export function TypedConfigOneOf<T extends TObject[]>(...messages: T): TUnsafe<Static<T[number]>> {
  return Type.Unsafe<Static<T[number]>>({
    type: 'object',
    discriminator: { propertyName: '@type' },
    required: ['@type'],
    properties: { '@type': { type: 'string' } },
    oneOf: messages,
  });
}

/**
 * Envoy's Http1ProtocolOptions and Http2ProtocolOptions: only the empty message (the defaults) is
 * supported, so a tuned option says "not supported yet" rather than "unknown field".
 */
export const Http1ProtocolOptions = Shared('Http1ProtocolOptions', Obj(unsupportedFields([
  'allow_absolute_url', 'accept_http_10', 'default_host_for_http_10', 'header_key_format', 'enable_trailers',
  'allow_chunked_length', 'override_stream_error_on_invalid_http_message', 'send_fully_qualified_url', 'use_balsa_parser',
  'allow_custom_methods', 'ignore_http_11_upgrade',
])));

export const Http2ProtocolOptions = Shared('Http2ProtocolOptions', Obj(unsupportedFields([
  'hpack_table_size', 'max_concurrent_streams', 'initial_stream_window_size', 'initial_connection_window_size', 'allow_connect',
  'allow_metadata', 'max_outbound_frames', 'max_outbound_control_frames', 'max_consecutive_inbound_frames_with_empty_payload',
  'max_inbound_priority_frames_per_stream', 'max_inbound_window_update_frames_per_data_frame_sent',
  'stream_error_on_invalid_http_messaging', 'override_stream_error_on_invalid_http_message', 'custom_settings_parameters',
  'connection_keepalive', 'use_oghttp2_codec', 'max_metadata_size',
])));

const SocketAddress = Obj({
  address: NonEmptyStr(),
  port_value: Port(),
  protocol: Opt(Enum(['TCP'])),
  ...unsupportedFields(['named_port', 'resolver_name', 'ipv4_compat', 'network_namespace_filepath']),
});

export const Address = Shared('Address', Obj({
  socket_address: SocketAddress,
  ...unsupportedFields(['pipe', 'envoy_internal_address']),
}));

export const RegexMatcher = Shared('RegexMatcher', Obj({
  regex: NonEmptyStr(),
  /** Deprecated engine selector; only the empty message is accepted (it changes nothing). */
  google_re2: Opt(Obj({})),
}));

export const StringMatcher = Shared('StringMatcher', Obj({
  exact: Opt(Str()),
  prefix: Opt(NonEmptyStr()),
  suffix: Opt(NonEmptyStr()),
  contains: Opt(NonEmptyStr()),
  safe_regex: Opt(RegexMatcher),
  ignore_case: Opt(Bool()),
  ...unsupportedFields(['custom']),
}));

const APPEND_ACTIONS = ['APPEND_IF_EXISTS_OR_ADD', 'ADD_IF_ABSENT', 'OVERWRITE_IF_EXISTS_OR_ADD', 'OVERWRITE_IF_EXISTS'] as const;

export const HeaderValueOption = Shared('HeaderValueOption', Obj({
  header: Obj({ key: NonEmptyStr(), value: Opt(Str()), ...unsupportedFields(['raw_value']) }),
  append_action: Opt(Enum(APPEND_ACTIONS)),
  /** Deprecated in Envoy but still common: true = APPEND_IF_EXISTS_OR_ADD, false = OVERWRITE_IF_EXISTS_OR_ADD. */
  append: Opt(Bool()),
  keep_empty_value: Opt(Bool()),
}));

/** The four header-mutation fields route configs, virtual hosts, routes and weighted clusters share. */
const HeadersToAdd = Shared('HeadersToAdd', Type.Array(HeaderValueOption));
const HeadersToRemove = Shared('HeadersToRemove', Type.Array(NonEmptyStr()));

export const headerMutationFields = () => ({
  request_headers_to_add: Opt(HeadersToAdd),
  request_headers_to_remove: Opt(HeadersToRemove),
  response_headers_to_add: Opt(HeadersToAdd),
  response_headers_to_remove: Opt(HeadersToRemove),
});

export type RawHeaderMutations = Static<TObject<ReturnType<typeof headerMutationFields>>>;
export type RawStringMatcher = Static<typeof StringMatcher>;
export type RawHeaderValueOption = Static<typeof HeaderValueOption>;
