/**
 * The proxy's internal configuration: what an Envoy v3 bootstrap (static file) or
 * an ADS snapshot becomes after it has been parsed and validated once.
 *
 * Everything downstream (listeners, router, cluster manager, filters) reads only
 * these types, never the raw Envoy document. Field names follow Envoy's, in
 * camelCase; durations are milliseconds; defaults are already applied, so
 * consumers never re-derive them. Objects are treated as immutable once built.
 */

import type { NetworkRbacConfig } from '../filters/rbac/network-config.js';

export interface SocketAddress {
  address: string;
  port: number;
}

export interface NodeInfo {
  id: string;
  cluster: string;
  metadata: Record<string, unknown>;
}

export interface AdminConfig {
  address: SocketAddress;
  /** Envoy `admin.access_log_path` (deprecated there, still widely used); undefined = none. */
  accessLogPath?: string;
}

export interface Bootstrap {
  node: NodeInfo;
  admin?: AdminConfig;
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  /** `static_resources.secrets`, plus SDS secrets from ADS; names are unique. */
  secrets: SecretConfig[];
  /** Set when listeners, clusters, routes or endpoints come from an ADS server (the xDS agent fetches them). */
  dynamicResources?: DynamicResourcesConfig;
  /** The document as the operator wrote it, for /config_dump. */
  source: unknown;
}

/** Envoy `dynamic_resources`: one ADS stream (state of the world) to a static cluster. */
export interface DynamicResourcesConfig {
  /** `ads_config.grpc_services[0].envoy_grpc.cluster_name`: a static cluster. */
  adsCluster: string;
  /** `ads_config.set_node_on_first_message_only`, default false. */
  setNodeOnFirstMessageOnly: boolean;
  /** Listeners come from ADS (`lds_config` is set). */
  lds: boolean;
  /** Clusters come from ADS (`cds_config` is set). */
  cds: boolean;
  /** The largest `initial_fetch_timeout` of the config sources, default 15 s: how long a partial config is held back. */
  initialFetchTimeoutMs: number;
}

// ---------------------------------------------------------------------------
// Listeners

export type TrafficDirection = 'INBOUND' | 'OUTBOUND';

export interface ListenerConfig {
  name: string;
  address: SocketAddress;
  /** Envoy `per_connection_buffer_limit_bytes`, default 1 MiB. */
  perConnectionBufferLimitBytes: number;
  /** Envoy `traffic_direction` (UNSPECIFIED -> undefined): which side request metrics report as. */
  trafficDirection?: TrafficDirection;
  /** In config order; a connection takes the most specific chain that matches (see FilterChainMatch). */
  filterChains: FilterChainConfig[];
  /** `listener_filters` has `envoy.filters.listener.tls_inspector` (or a chain matches on transport_protocol): peek at the first byte. */
  tlsInspector: boolean;
}

export interface FilterChainConfig {
  name: string;
  /** `filter_chain_match.transport_protocol`; undefined matches every connection. */
  transportProtocol?: 'tls' | 'raw_buffer';
  /** `transport_socket` with a DownstreamTlsContext; undefined = plaintext. */
  tls?: DownstreamTlsConfig;
  /** The chain's terminal network filter. */
  filter: HttpConnectionManagerConfig | TcpProxyConfig;
  /** `envoy.filters.network.rbac` filters before the terminal one, in order (checked when a connection is accepted). */
  rbacFilters: NetworkRbacConfig[];
}

// ---------------------------------------------------------------------------
// TLS and secrets

/** PEM text after a DataSource was read (inline_string, inline_bytes decoded, filename read at load). */
export interface TlsCertificateConfig {
  certificateChain: string;
  /** The file it was read from (`filename`), for /certs; undefined when inline. */
  certificateChainPath?: string;
  /** Undefined: the proxy's own key (generated at start; the certificate must be for it). */
  privateKey?: string;
}

export interface SanMatcher {
  sanType: 'URI' | 'DNS';
  match: StringMatch;
}

export interface ValidationContextConfig {
  /** PEM bundle; several roots are all trusted (overlapping bundle during a root rotation). */
  trustedCa?: string;
  /** The file `trustedCa` was read from, for /certs; undefined when inline. */
  trustedCaPath?: string;
  /** Any one must match one SAN of the peer's leaf; empty = any. */
  sanMatchers: SanMatcher[];
}

/** An SDS Secret: one of the two is set. */
export interface SecretConfig {
  name: string;
  tlsCertificate?: TlsCertificateConfig;
  validationContext?: ValidationContextConfig;
}

/** Inline in the context, or a secret by name (static_resources.secrets or SDS over ADS). */
export type SecretSource<T> = { kind: 'inline'; value: T } | { kind: 'sds'; name: string; ads: boolean };

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface CommonTlsContextConfig {
  certificate?: SecretSource<TlsCertificateConfig>;
  /** The trusted CA (and SAN matchers) source; with combined_validation_context, `sanMatchers` below add the default context's. */
  validation?: SecretSource<ValidationContextConfig>;
  /** `combined_validation_context.default_validation_context.match_typed_subject_alt_names`. */
  extraSanMatchers: SanMatcher[];
  alpnProtocols: string[];
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
}

export interface DownstreamTlsConfig extends CommonTlsContextConfig {
  requireClientCertificate: boolean;
}

export interface UpstreamTlsConfig extends CommonTlsContextConfig {
  /** `sni`; undefined = none sent. */
  sni?: string;
}

export interface AccessLogConfig {
  /** Absolute file path, or '/dev/stdout' / '/dev/stderr'. */
  path: string;
  /** Envoy `json_format`: output key -> format string with %COMMAND% operators. Undefined = Weft's default JSON keys. */
  jsonFormat?: Record<string, string>;
  /** Envoy `text_format` / `text_format_source.inline_string`. */
  textFormat?: string;
}

export interface HttpConnectionManagerConfig {
  kind: 'http';
  statPrefix: string;
  /** With `rds`, empty (every request gets 404) until the xDS agent fills it in. */
  routeConfig: RouteConfiguration;
  /** `rds.route_config_name`: the route config comes from ADS. */
  rds?: { routeConfigName: string };
  /** In order; the last is always the router (`envoy.filters.http.router`). */
  httpFilters: HttpFilterConfig[];
  accessLog: AccessLogConfig[];
  /** `common_http_protocol_options.idle_timeout`: downstream connection idle, default 1 h. 0 = disabled. */
  idleTimeoutMs: number;
  /** `stream_idle_timeout`, default 5 min. 0 = disabled. */
  streamIdleTimeoutMs: number;
  /** `request_timeout`, default 0 (disabled). */
  requestTimeoutMs: number;
  /** `request_headers_timeout`: time to receive the complete request head, default 0 (disabled); Weft applies 10 s when 0 to stop slowloris. */
  requestHeadersTimeoutMs: number;
  /** `drain_timeout`, default 5 s. */
  drainTimeoutMs: number;
  /** `max_request_headers_kb`, default 60. */
  maxRequestHeadersKb: number;
  /** `common_http_protocol_options.max_headers_count`, default 100. */
  maxHeadersCount: number;
  /** `use_remote_address`, default false. */
  useRemoteAddress: boolean;
  /** `xff_num_trusted_hops`, default 0. */
  xffNumTrustedHops: number;
  /** `skip_xff_append`, default false. */
  skipXffAppend: boolean;
  /** `generate_request_id`, default true. */
  generateRequestId: boolean;
  /** `server_name`, default 'envoy'... Weft uses 'weft'. */
  serverName: string;
  /** `server_header_transformation`: OVERWRITE (default), APPEND_IF_ABSENT, PASS_THROUGH. */
  serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  /** `upgrade_configs[].upgrade_type`, lower-cased (e.g. 'websocket'); only these pass through. */
  upgradeTypes: string[];
}

export interface HttpFilterConfig {
  /** Envoy filter name, e.g. 'envoy.filters.http.fault'. */
  name: string;
  /** The filter's `@type` URL. */
  typeUrl: string;
  /** The filter's validated, normalized config (shape owned by the filter's config.ts). */
  config: unknown;
}

export interface TcpProxyConfig {
  kind: 'tcp';
  statPrefix: string;
  /** Exactly one of cluster / weightedClusters is set. */
  cluster?: string;
  weightedClusters?: WeightedCluster[];
  /** `idle_timeout`, default 1 h; 0 = disabled. */
  idleTimeoutMs: number;
  accessLog: AccessLogConfig[];
  /** `max_connect_attempts`, default 1. */
  maxConnectAttempts: number;
}

// ---------------------------------------------------------------------------
// Routing

export interface HeaderValueOption {
  key: string;
  value: string;
  /** Envoy `append_action`: APPEND_IF_EXISTS_OR_ADD (default), ADD_IF_ABSENT, OVERWRITE_IF_EXISTS_OR_ADD, OVERWRITE_IF_EXISTS. */
  appendAction: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface HeaderMutations {
  requestHeadersToAdd: HeaderValueOption[];
  /** Lower-cased names. */
  requestHeadersToRemove: string[];
  responseHeadersToAdd: HeaderValueOption[];
  /** Lower-cased names. */
  responseHeadersToRemove: string[];
}

export interface RouteConfiguration extends HeaderMutations {
  name: string;
  virtualHosts: VirtualHost[];
}

export interface VirtualHost extends HeaderMutations {
  name: string;
  /** As written: exact, '*.suffix', 'prefix.*', '*'; may carry ':port'. */
  domains: string[];
  routes: Route[];
  retryPolicy?: RetryPolicy;
}

/** Envoy's StringMatcher, normalized. `regex` is RE2 syntax as written (compile with the `u` flag, anchored as a full match). */
export type StringMatch =
  | { kind: 'exact'; value: string; ignoreCase: boolean }
  | { kind: 'prefix'; value: string; ignoreCase: boolean }
  | { kind: 'suffix'; value: string; ignoreCase: boolean }
  | { kind: 'contains'; value: string; ignoreCase: boolean }
  | { kind: 'regex'; regex: string };

export interface HeaderMatcher {
  /** Lower-cased header name. ':authority', ':method', ':path', ':scheme' address the pseudo-headers. */
  name: string;
  /** undefined with present=true means `present_match`. */
  match?: StringMatch;
  /** `present_match` value when used (true: header must be present; false: must be absent). */
  present?: boolean;
  /** `range_match` [start, end). */
  range?: { start: number; end: number };
  invert: boolean;
  treatMissingAsEmpty: boolean;
}

export interface QueryParameterMatcher {
  name: string;
  /** undefined with present=true means `present_match`. */
  match?: StringMatch;
  present?: boolean;
}

export interface RouteMatch {
  /** Exactly one path specifier. */
  path:
    | { kind: 'prefix'; value: string }
    | { kind: 'path'; value: string }
    | { kind: 'regex'; regex: string }
    | { kind: 'path_separated_prefix'; value: string };
  /** `case_sensitive`, default true. */
  caseSensitive: boolean;
  headers: HeaderMatcher[];
  queryParameters: QueryParameterMatcher[];
}

export interface Route extends HeaderMutations {
  name?: string;
  match: RouteMatch;
  action: ForwardAction | RedirectAction | DirectResponseAction;
}

export interface WeightedCluster extends HeaderMutations {
  name: string;
  weight: number;
}

export type HashPolicy =
  | { kind: 'header'; headerName: string; terminal: boolean }
  | { kind: 'cookie'; name: string; terminal: boolean }
  | { kind: 'source_ip'; terminal: boolean }
  | { kind: 'query_parameter'; name: string; terminal: boolean };

export interface RetryBackOff {
  baseIntervalMs: number;
  maxIntervalMs: number;
}

export interface RetryPolicy {
  /** Lower-case Envoy retry_on tokens: '5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-status-codes', 'refused-stream', 'retriable-4xx'. */
  retryOn: string[];
  /** `num_retries`, default 1. */
  numRetries: number;
  /** `per_try_timeout`, 0 = the route timeout applies. */
  perTryTimeoutMs: number;
  retriableStatusCodes: number[];
  /** Default base 25 ms, max 10x base. */
  backOff: RetryBackOff;
}

export interface RequestMirrorPolicy {
  cluster: string;
  /** 0..1 fraction of requests mirrored (from `runtime_fraction.default_value`), default 1. */
  fraction: number;
}

export interface ForwardAction {
  kind: 'forward';
  /** Exactly one of cluster / weightedClusters / clusterHeader. */
  cluster?: string;
  weightedClusters?: WeightedCluster[];
  /** `cluster_header`: lower-cased header naming the cluster. */
  clusterHeader?: string;
  prefixRewrite?: string;
  /** `regex_rewrite` {pattern.regex, substitution}. */
  regexRewrite?: { regex: string; substitution: string };
  hostRewriteLiteral?: string;
  /** `auto_host_rewrite`: use the chosen endpoint's hostname/address. */
  autoHostRewrite: boolean;
  /** `timeout`, default 15 s; 0 = disabled. */
  timeoutMs: number;
  /** `idle_timeout`: per-stream idle override, undefined = the HCM's. */
  idleTimeoutMs?: number;
  /** Route-level policy; falls back to the virtual host's when undefined. */
  retryPolicy?: RetryPolicy;
  requestMirrorPolicies: RequestMirrorPolicy[];
  hashPolicy: HashPolicy[];
}

export interface RedirectAction {
  kind: 'redirect';
  schemeRedirect?: string;
  hostRedirect?: string;
  portRedirect?: number;
  pathRedirect?: string;
  prefixRewrite?: string;
  /** MOVED_PERMANENTLY(301, default) FOUND(302) SEE_OTHER(303) TEMPORARY_REDIRECT(307) PERMANENT_REDIRECT(308), as the number. */
  responseCode: number;
  stripQuery: boolean;
}

export interface DirectResponseAction {
  kind: 'direct';
  status: number;
  /** `body.inline_string` / `inline_bytes` (decoded) / `filename` (read at load). */
  body?: Buffer;
}

// ---------------------------------------------------------------------------
// Clusters

export interface EndpointConfig {
  /** IP address (STATIC) or hostname (STRICT_DNS). */
  address: string;
  port: number;
  /** `load_balancing_weight`, default 1. */
  weight: number;
  /** `health_check_config.port_value`, 0 = same as port. */
  healthCheckPort: number;
  /** `endpoint.hostname`, used by auto_host_rewrite; defaults to the address. */
  hostname: string;
}

export interface ThresholdsConfig {
  /** Defaults: 1024, 1024, 1024, 3 (Envoy's). */
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  maxRetries: number;
  /** When set, max_retries is replaced by a budget as Envoy defines it. */
  retryBudget?: {
    /** Percent of active requests that may be retries, default 20. */
    budgetPercent: number;
    /** Default 3. */
    minRetryConcurrency: number;
  };
}

export interface OutlierDetectionConfig {
  /** Defaults from Envoy: 5, 5, 10 s, 30 s, 10 %, enforcing 100 / 0 (gateway failure enforcing defaults to 0 in Envoy). */
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  intervalMs: number;
  baseEjectionTimeMs: number;
  maxEjectionTimeMs: number;
  maxEjectionPercent: number;
  enforcingConsecutive5xx: number;
  enforcingConsecutiveGatewayFailure: number;
  /** `split_external_local_origin_errors`, default false: connect failures count as 5xx-like gateway errors. */
  splitExternalLocalOriginErrors: boolean;
}

export interface HealthCheckConfig {
  timeoutMs: number;
  intervalMs: number;
  /** `interval_jitter`, default 0. */
  intervalJitterMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  /** `no_traffic_interval`, default 60 s (Weft uses interval when unset, for fast convergence in tests). */
  noTrafficIntervalMs: number;
  http?: {
    path: string;
    host?: string;
    /** [start, end) ranges; default [[200, 201)]. */
    expectedStatuses: Array<[number, number]>;
    requestHeadersToAdd: HeaderValueOption[];
  };
  tcp?: {
    /** Hex payload to send, undefined = connect-only. */
    send?: Buffer;
    /** Hex payloads that must all appear in the response. */
    receive: Buffer[];
  };
}

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RING_HASH' | 'RANDOM' | 'MAGLEV';

export interface ClusterConfig {
  name: string;
  type: 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS' | 'EDS';
  /** Default 5 s. */
  connectTimeoutMs: number;
  lbPolicy: LbPolicy;
  /** `least_request_lb_config.choice_count`, default 2. */
  leastRequestChoiceCount: number;
  /** `ring_hash_lb_config`, defaults 1024 / 8M. */
  ringHash: { minimumRingSize: number; maximumRingSize: number };
  endpoints: EndpointConfig[];
  /** `dns_refresh_rate`, default 5 s. */
  dnsRefreshRateMs: number;
  /** `dns_lookup_family`: AUTO (default), V4_ONLY, V6_ONLY, V4_PREFERRED, ALL. */
  dnsLookupFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  /** Envoy's DEFAULT priority thresholds. */
  circuitBreakers: ThresholdsConfig;
  outlierDetection?: OutlierDetectionConfig;
  healthChecks: HealthCheckConfig[];
  /** Upstream `common_http_protocol_options.idle_timeout`, default 1 h. */
  idleTimeoutMs: number;
  /** `max_requests_per_connection` (common_http_protocol_options.max_requests_per_connection), 0 = unlimited. */
  maxRequestsPerConnection: number;
  /** `per_connection_buffer_limit_bytes`, default 1 MiB. */
  perConnectionBufferLimitBytes: number;
  /** EDS clusters: `eds_cluster_config.service_name`, default the cluster name; endpoints stay empty until the xDS agent fills them in. */
  edsServiceName?: string;
  /** `transport_socket` with an UpstreamTlsContext; undefined = plaintext. */
  tls?: UpstreamTlsConfig;
  /** The cluster speaks HTTP/2: allowed only for the ADS cluster, which only the xDS agent dials. */
  http2?: true;
}
