/** Envoy listeners with their one filter chain: http_connection_manager or tcp_proxy. */
import { Type, type Static } from '@sinclair/typebox';
import { AccessLog } from './schema-access-log.js';
import {
  Address, Bool, Duration, Enum, Http1ProtocolOptions, NonEmptyStr, Obj, Opt, Str, TypedConfigOneOf, UInt, unsupportedFields,
} from './schema-common.js';
import { NetworkRbac } from '../filters/rbac/network-config.js';
import { AdsConfigSource } from './schema-config-source.js';
import { RouteConfiguration } from './schema-route.js';
import { DownstreamTransportSocket } from './schema-tls.js';
import { HTTP_CONNECTION_MANAGER_TYPE_URL, ROUTER_TYPE_URL, TCP_PROXY_TYPE_URL, TLS_INSPECTOR_TYPE_URL } from './type-urls.js';

const SERVER_HEADER_TRANSFORMATIONS = ['OVERWRITE', 'APPEND_IF_ABSENT', 'PASS_THROUGH'] as const;

/**
 * An HTTP filter entry. Its typed_config is open here on purpose: the filter's own
 * factory (filters/registry.ts) or the router schema below validates the rest. It may be
 * omitted (or `{}`) for a filter known by its name, as Envoy then looks the factory up by
 * name (its own quick-start configs list the router that way).
 */
const HttpFilter = Obj({
  name: NonEmptyStr(),
  /** `{}` (an empty Any) counts as omitted, as in Envoy; otherwise `@type` is required (checked in code). */
  typed_config: Opt(Type.Object({ '@type': Opt(NonEmptyStr()) }, { additionalProperties: true })),
  ...unsupportedFields(['config_discovery', 'is_optional', 'disabled']),
});

/** `envoy.filters.http.router`'s typed_config, validated on its own once the filter is found. */
export const RouterTypedConfig = Obj({
  '@type': Type.Literal(ROUTER_TYPE_URL),
  suppress_envoy_headers: Opt(Bool()),
});

const HttpConnectionManager = Obj({
  '@type': Type.Literal(HTTP_CONNECTION_MANAGER_TYPE_URL),
  stat_prefix: NonEmptyStr(),
  codec_type: Opt(Enum(['AUTO', 'HTTP1'])),
  route_config: Opt(RouteConfiguration),
  http_filters: Opt(Type.Array(HttpFilter)),
  access_log: Opt(Type.Array(AccessLog)),
  common_http_protocol_options: Opt(Obj({
    idle_timeout: Opt(Duration()),
    max_headers_count: Opt(UInt({ minimum: 1 })),
    ...unsupportedFields(['max_connection_duration', 'max_stream_duration', 'headers_with_underscores_action', 'max_requests_per_connection', 'max_response_headers_kb']),
  })),
  /** HTTP/1.1 options: only the empty message (defaults) is supported. */
  http_protocol_options: Opt(Http1ProtocolOptions),
  stream_idle_timeout: Opt(Duration()),
  request_timeout: Opt(Duration()),
  request_headers_timeout: Opt(Duration()),
  drain_timeout: Opt(Duration()),
  max_request_headers_kb: Opt(UInt({ minimum: 1, maximum: 8192 })),
  use_remote_address: Opt(Bool()),
  xff_num_trusted_hops: Opt(UInt()),
  skip_xff_append: Opt(Bool()),
  generate_request_id: Opt(Bool()),
  server_name: Opt(Str()),
  server_header_transformation: Opt(Enum(SERVER_HEADER_TRANSFORMATIONS)),
  upgrade_configs: Opt(Type.Array(Obj({ upgrade_type: NonEmptyStr(), ...unsupportedFields(['filters', 'enabled']) }))),
  /** The route config by name over ADS; only with dynamic_resources (checked in code). */
  rds: Opt(Obj({ config_source: AdsConfigSource, route_config_name: NonEmptyStr() })),
  ...unsupportedFields([
    'scoped_routes', 'http2_protocol_options', 'http3_protocol_options', 'tracing', 'internal_address_config',
    'forward_client_cert_details', 'set_current_client_cert_details', 'proxy_100_continue', 'normalize_path',
    'merge_slashes', 'path_with_escaped_slashes_action', 'local_reply_config', 'preserve_external_request_id',
    'always_set_request_id_in_response', 'via', 'add_user_agent', 'delayed_close_timeout', 'max_request_headers_count',
    'access_log_options', 'request_id_extension', 'original_ip_detection_extensions', 'early_header_mutation_extensions',
    'strip_matching_host_port', 'strip_any_host_port', 'stream_error_on_invalid_http_message', 'scheme_header_transformation',
    'represent_ipv4_remote_address_as_ipv4_mapped_ipv6', 'typed_header_validation_config', 'append_x_forwarded_port',
    'append_local_overload', 'strip_trailing_host_dot', 'proxy_status_config', 'http1_safe_max_connection_duration',
  ]),
});

const WeightedTcpCluster = Obj({ name: NonEmptyStr(), weight: UInt({ minimum: 1 }), ...unsupportedFields(['metadata_match']) });

const TcpProxy = Obj({
  '@type': Type.Literal(TCP_PROXY_TYPE_URL),
  stat_prefix: NonEmptyStr(),
  cluster: Opt(NonEmptyStr()),
  weighted_clusters: Opt(Obj({ clusters: Type.Array(WeightedTcpCluster, { minItems: 1 }) })),
  idle_timeout: Opt(Duration()),
  access_log: Opt(Type.Array(AccessLog)),
  max_connect_attempts: Opt(UInt({ minimum: 1 })),
  ...unsupportedFields([
    'on_demand', 'metadata_match', 'downstream_idle_timeout', 'upstream_idle_timeout', 'access_log_flush_interval',
    'access_log_options', 'flush_access_log_on_connected', 'tunneling_config', 'max_downstream_connection_duration',
    'hash_policy', 'backoff_options', 'proxy_protocol_tlvs',
  ]),
});

const NetworkFilter = Obj({
  name: NonEmptyStr(),
  typed_config: TypedConfigOneOf(HttpConnectionManager, TcpProxy, NetworkRbac),
  ...unsupportedFields(['config_discovery']),
});

/** Only transport_protocol is supported: it tells TLS from plaintext on one port (with the TLS inspector). */
const FilterChainMatch = Obj({
  transport_protocol: Opt(Enum(['tls', 'raw_buffer'])),
  ...unsupportedFields([
    'destination_port', 'prefix_ranges', 'address_suffix', 'suffix_len', 'direct_source_prefix_ranges', 'source_type',
    'source_prefix_ranges', 'source_ports', 'server_names', 'application_protocols',
  ]),
});

const FilterChain = Obj({
  name: Opt(Str()),
  /** Network RBAC filters, then exactly one terminal filter (checked in code, with a clearer message than maxItems). */
  filters: Type.Array(NetworkFilter, { minItems: 1 }),
  filter_chain_match: Opt(FilterChainMatch),
  transport_socket: Opt(DownstreamTransportSocket),
  ...unsupportedFields(['transport_socket_connect_timeout', 'use_proxy_proto', 'metadata', 'on_demand_configuration']),
});

/** Only the TLS inspector; its typed_config is the empty message (or omitted, as older Envoy configs do). */
const ListenerFilter = Obj({
  name: NonEmptyStr(),
  typed_config: Opt(Obj({ '@type': Type.Literal(TLS_INSPECTOR_TYPE_URL), ...unsupportedFields(['enable_ja3_fingerprinting', 'enable_ja4_fingerprinting', 'initial_read_buffer_size']) })),
  ...unsupportedFields(['config_discovery', 'filter_disabled']),
});

export const Listener = Obj({
  name: Opt(NonEmptyStr()),
  address: Address,
  /** Chains differ only by filter_chain_match.transport_protocol (checked in code). */
  filter_chains: Type.Array(FilterChain, { minItems: 1 }),
  listener_filters: Opt(Type.Array(ListenerFilter)),
  listener_filters_timeout: Opt(Duration()),
  per_connection_buffer_limit_bytes: Opt(UInt({ minimum: 1 })),
  /** Informational in Envoy (used by some filters to tell inbound from outbound); ignored by Weft. */
  traffic_direction: Opt(Enum(['UNSPECIFIED', 'INBOUND', 'OUTBOUND'])),
  ...unsupportedFields([
    'additional_addresses', 'stat_prefix', 'default_filter_chain', 'filter_chain_matcher', 'use_original_dst',
    'continue_on_listener_filters_timeout', 'transparent', 'freebind',
    'socket_options', 'tcp_fast_open_queue_length', 'udp_listener_config', 'api_listener', 'connection_balance_config',
    'reuse_port', 'enable_reuse_port', 'access_log', 'tcp_backlog_size', 'max_connections_to_accept_per_socket_event',
    'bind_to_port', 'internal_listener', 'enable_mptcp', 'ignore_global_conn_limit', 'bypass_overload_manager',
    'drain_type', 'metadata', 'deprecated_v1', 'listener_specifier',
  ]),
});

export type RawListener = Static<typeof Listener>;
export type RawFilterChain = Static<typeof FilterChain>;
export type RawHttpConnectionManager = Static<typeof HttpConnectionManager>;
export type RawHttpFilter = Static<typeof HttpFilter>;
export type RawTcpProxy = Static<typeof TcpProxy>;
export type RawRouterTypedConfig = Static<typeof RouterTypedConfig>;
