/** Envoy's RouteConfiguration (`envoy.config.route.v3`), the supported subset. */
import { Type, type Static } from '@sinclair/typebox';
import {
  Bool, Duration, Enum, NonEmptyStr, Obj, Opt, Port, RegexMatcher, Shared, Str, StringMatcher, UInt, Unsupported,
  headerMutationFields, unsupportedFields,
} from './schema-common.js';

export const RETRY_ON_TOKENS = [
  '5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-status-codes', 'refused-stream', 'retriable-4xx',
] as const;

export const REDIRECT_RESPONSE_CODES = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
} as const;

export const FRACTION_DENOMINATORS = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 } as const;

export const HeaderMatcher = Obj({
  name: NonEmptyStr(),
  exact_match: Opt(Str()),
  prefix_match: Opt(NonEmptyStr()),
  suffix_match: Opt(NonEmptyStr()),
  contains_match: Opt(NonEmptyStr()),
  safe_regex_match: Opt(RegexMatcher),
  present_match: Opt(Bool()),
  range_match: Opt(Obj({ start: Type.Integer(), end: Type.Integer() })),
  string_match: Opt(StringMatcher),
  invert_match: Opt(Bool()),
  treat_missing_header_as_empty: Opt(Bool()),
});

const QueryParameterMatcher = Obj({
  name: NonEmptyStr(),
  string_match: Opt(StringMatcher),
  present_match: Opt(Bool()),
});

const RouteMatch = Obj({
  prefix: Opt(Str()),
  path: Opt(Str()),
  safe_regex: Opt(RegexMatcher),
  path_separated_prefix: Opt(NonEmptyStr()),
  case_sensitive: Opt(Bool()),
  headers: Opt(Type.Array(HeaderMatcher)),
  query_parameters: Opt(Type.Array(QueryParameterMatcher)),
  ...unsupportedFields(['connect_matcher', 'path_match_policy', 'runtime_fraction', 'grpc', 'tls_context', 'dynamic_metadata', 'filter_state', 'cookies']),
});

const RetryPolicy = Shared('RetryPolicy', Obj({
  /** Comma-separated RETRY_ON_TOKENS (checked in code, to name the bad token). */
  retry_on: Opt(Str()),
  num_retries: Opt(UInt()),
  per_try_timeout: Opt(Duration()),
  retriable_status_codes: Opt(Type.Array(UInt({ minimum: 100, maximum: 599 }))),
  retry_back_off: Opt(Obj({ base_interval: Duration(), max_interval: Opt(Duration()) })),
  ...unsupportedFields([
    'per_try_idle_timeout', 'retry_priority', 'retry_host_predicate', 'retry_options_predicates',
    'host_selection_retry_max_attempts', 'rate_limited_retry_back_off', 'retriable_headers', 'retriable_request_headers',
  ]),
}));

const FractionalPercent = Obj({
  numerator: UInt(),
  denominator: Opt(Enum(Object.keys(FRACTION_DENOMINATORS) as Array<keyof typeof FRACTION_DENOMINATORS>)),
});

const RequestMirrorPolicy = Obj({
  cluster: NonEmptyStr(),
  runtime_fraction: Opt(Obj({ default_value: FractionalPercent, ...unsupportedFields(['runtime_key']) })),
  ...unsupportedFields(['cluster_header', 'trace_sampled', 'disable_shadow_host_suffix_append']),
});

const HashPolicy = Obj({
  header: Opt(Obj({ header_name: NonEmptyStr(), ...unsupportedFields(['regex_rewrite']) })),
  cookie: Opt(Obj({ name: NonEmptyStr(), ...unsupportedFields(['ttl', 'path', 'attributes']) })),
  connection_properties: Opt(Obj({ source_ip: Bool() })),
  query_parameter: Opt(Obj({ name: NonEmptyStr() })),
  terminal: Opt(Bool()),
  ...unsupportedFields(['filter_state']),
});

const ClusterWeight = Obj({
  name: NonEmptyStr(),
  weight: Opt(UInt()),
  ...headerMutationFields(),
  ...unsupportedFields(['cluster_header', 'metadata_match', 'typed_per_filter_config', 'host_rewrite_literal']),
});

const WeightedClusters = Obj({
  clusters: Type.Array(ClusterWeight, { minItems: 1 }),
  /** Deprecated in Envoy; accepted when it equals the sum of the weights. */
  total_weight: Opt(UInt()),
  ...unsupportedFields(['runtime_key_prefix', 'header_name', 'random_value_specifier']),
});

const RouteAction = Obj({
  cluster: Opt(NonEmptyStr()),
  weighted_clusters: Opt(WeightedClusters),
  cluster_header: Opt(NonEmptyStr()),
  prefix_rewrite: Opt(Str()),
  regex_rewrite: Opt(Obj({ pattern: RegexMatcher, substitution: Str() })),
  host_rewrite_literal: Opt(NonEmptyStr()),
  /** The v2 name, still in many examples online. */
  host_rewrite: Opt(Unsupported('removed in Envoy v3; use host_rewrite_literal')),
  auto_host_rewrite: Opt(Bool()),
  timeout: Opt(Duration()),
  idle_timeout: Opt(Duration()),
  retry_policy: Opt(RetryPolicy),
  request_mirror_policies: Opt(Type.Array(RequestMirrorPolicy)),
  hash_policy: Opt(Type.Array(HashPolicy)),
  ...unsupportedFields([
    'cluster_specifier_plugin', 'inline_cluster_specifier_plugin', 'cluster_not_found_response_code', 'metadata_match',
    'path_rewrite_policy', 'host_rewrite_header', 'host_rewrite_path_regex', 'append_x_forwarded_host', 'early_data_policy',
    'typed_retry_policy', 'priority', 'rate_limits', 'include_vh_rate_limits', 'cors', 'max_grpc_timeout', 'grpc_timeout_offset',
    'upgrade_configs', 'internal_redirect_policy', 'internal_redirect_action', 'max_internal_redirects', 'hedge_policy',
    'max_stream_duration', 'request_mirror_policy',
  ]),
});

const RedirectAction = Obj({
  scheme_redirect: Opt(NonEmptyStr()),
  https_redirect: Opt(Bool()),
  host_redirect: Opt(NonEmptyStr()),
  port_redirect: Opt(Port()),
  path_redirect: Opt(Str()),
  prefix_rewrite: Opt(Str()),
  response_code: Opt(Enum(Object.keys(REDIRECT_RESPONSE_CODES) as Array<keyof typeof REDIRECT_RESPONSE_CODES>)),
  strip_query: Opt(Bool()),
  ...unsupportedFields(['regex_rewrite']),
});

const DirectResponseAction = Obj({
  status: UInt({ minimum: 200, maximum: 599 }),
  body: Opt(Obj({
    inline_string: Opt(Str()),
    inline_bytes: Opt(Str()),
    filename: Opt(NonEmptyStr()),
    ...unsupportedFields(['environment_variable']),
  })),
});

const Route = Obj({
  name: Opt(Str()),
  match: RouteMatch,
  route: Opt(RouteAction),
  redirect: Opt(RedirectAction),
  direct_response: Opt(DirectResponseAction),
  ...headerMutationFields(),
  ...unsupportedFields([
    'filter_action', 'non_forwarding_action', 'metadata', 'decorator', 'typed_per_filter_config', 'tracing',
    'per_request_buffer_limit_bytes', 'stat_prefix',
  ]),
});

const VirtualHost = Obj({
  name: NonEmptyStr(),
  domains: Type.Array(NonEmptyStr(), { minItems: 1 }),
  routes: Opt(Type.Array(Route)),
  retry_policy: Opt(RetryPolicy),
  ...headerMutationFields(),
  ...unsupportedFields([
    'require_tls', 'virtual_clusters', 'rate_limits', 'cors', 'typed_per_filter_config', 'include_request_attempt_count',
    'include_attempt_count_in_response', 'retry_policy_typed_config', 'hedge_policy', 'per_request_buffer_limit_bytes',
    'request_mirror_policies', 'matcher', 'metadata',
  ]),
});

export const RouteConfiguration = Obj({
  name: Opt(Str()),
  virtual_hosts: Opt(Type.Array(VirtualHost)),
  max_direct_response_body_size_bytes: Opt(UInt()),
  ...headerMutationFields(),
  ...unsupportedFields([
    'vhds', 'internal_only_headers', 'validate_clusters', 'most_specific_header_mutations_wins',
    'cluster_specifier_plugins', 'request_mirror_policies',
    'ignore_port_in_host_matching', 'ignore_path_parameters_in_path_matching', 'typed_per_filter_config', 'metadata',
  ]),
});

export type RawRouteConfiguration = Static<typeof RouteConfiguration>;
export type RawVirtualHost = Static<typeof VirtualHost>;
export type RawRoute = Static<typeof Route>;
export type RawRouteMatch = Static<typeof RouteMatch>;
export type RawHeaderMatcher = Static<typeof HeaderMatcher>;
export type RawQueryParameterMatcher = Static<typeof QueryParameterMatcher>;
export type RawRouteAction = Static<typeof RouteAction>;
export type RawRedirectAction = Static<typeof RedirectAction>;
export type RawDirectResponseAction = Static<typeof DirectResponseAction>;
export type RawRetryPolicy = Static<typeof RetryPolicy>;
export type RawHashPolicy = Static<typeof HashPolicy>;
export type RawRequestMirrorPolicy = Static<typeof RequestMirrorPolicy>;
export type RawWeightedClusters = Static<typeof WeightedClusters>;
