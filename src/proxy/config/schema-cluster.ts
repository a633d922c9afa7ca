/** Envoy's Cluster (`envoy.config.cluster.v3`), the supported subset. */
import { Type, type Static } from '@sinclair/typebox';
import {
  Address, Bool, Duration, Enum, HeaderValueOption, Http1ProtocolOptions, Http2ProtocolOptions, NonEmptyStr, Obj, Opt, Port, Shared, Str, UInt, Unsupported,
  unsupportedFields,
} from './schema-common.js';
import { AdsConfigSource } from './schema-config-source.js';
import { UpstreamTransportSocket } from './schema-tls.js';
import { UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME, UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE_URL } from './type-urls.js';

/** EDS only with dynamic_resources (the xDS agent resolves the endpoints). */
const CLUSTER_TYPES = ['STATIC', 'STRICT_DNS', 'LOGICAL_DNS', 'EDS'] as const;
const LB_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM'] as const;
const DNS_LOOKUP_FAMILIES = ['AUTO', 'V4_ONLY', 'V6_ONLY', 'V4_PREFERRED', 'ALL'] as const;

/** Fractions are ratios 0..100 in percent. */
const Percent = () => UInt({ maximum: 100 });

const Thresholds = Obj({
  priority: Opt(Enum(['DEFAULT'])),
  max_connections: Opt(UInt()),
  max_pending_requests: Opt(UInt()),
  max_requests: Opt(UInt()),
  max_retries: Opt(UInt()),
  retry_budget: Opt(Obj({
    budget_percent: Opt(Obj({ value: Type.Number({ minimum: 0, maximum: 100 }) })),
    min_retry_concurrency: Opt(UInt()),
  })),
  ...unsupportedFields(['track_remaining', 'max_connection_pools']),
});

const OutlierDetection = Obj({
  consecutive_5xx: Opt(UInt()),
  consecutive_gateway_failure: Opt(UInt()),
  interval: Opt(Duration()),
  base_ejection_time: Opt(Duration()),
  max_ejection_time: Opt(Duration()),
  max_ejection_percent: Opt(Percent()),
  enforcing_consecutive_5xx: Opt(Percent()),
  enforcing_consecutive_gateway_failure: Opt(Percent()),
  split_external_local_origin_errors: Opt(Bool()),
  ...unsupportedFields([
    'enforcing_success_rate', 'success_rate_minimum_hosts', 'success_rate_request_volume', 'success_rate_stdev_factor',
    'consecutive_local_origin_failure', 'enforcing_consecutive_local_origin_failure', 'enforcing_local_origin_success_rate',
    'failure_percentage_threshold', 'enforcing_failure_percentage', 'enforcing_failure_percentage_local_origin',
    'failure_percentage_minimum_hosts', 'failure_percentage_request_volume', 'max_ejection_time_jitter',
    'successful_active_health_check_uneject_host', 'monitors', 'always_eject_one_host', 'detect_degraded_hosts',
  ]),
});

/** A health-check payload; only hex `text` is supported. */
const Payload = Obj({ text: NonEmptyStr(), ...unsupportedFields(['binary']) });

const HealthCheck = Obj({
  timeout: Duration(),
  interval: Duration(),
  interval_jitter: Opt(Duration()),
  unhealthy_threshold: UInt({ minimum: 1 }),
  healthy_threshold: UInt({ minimum: 1 }),
  no_traffic_interval: Opt(Duration()),
  http_health_check: Opt(Obj({
    path: NonEmptyStr(),
    host: Opt(Str()),
    expected_statuses: Opt(Type.Array(Obj({ start: UInt({ minimum: 100, maximum: 599 }), end: UInt({ minimum: 101, maximum: 600 }) }))),
    request_headers_to_add: Opt(Type.Array(HeaderValueOption)),
    ...unsupportedFields([
      'send', 'receive', 'response_buffer_size', 'request_headers_to_remove', 'retriable_statuses', 'codec_client_type',
      'service_name_matcher', 'method',
    ]),
  })),
  tcp_health_check: Opt(Obj({ send: Opt(Payload), receive: Opt(Type.Array(Payload)), ...unsupportedFields(['proxy_protocol_config']) })),
  ...unsupportedFields([
    'grpc_health_check', 'custom_health_check', 'initial_jitter', 'interval_jitter_percent', 'alt_port', 'reuse_connection',
    'unhealthy_interval', 'unhealthy_edge_interval', 'healthy_edge_interval', 'no_traffic_healthy_interval',
    'event_log_path', 'event_logger', 'event_service', 'always_log_health_check_failures', 'always_log_health_check_success',
    'tls_options', 'transport_socket_match_criteria',
  ]),
});

const UpstreamCommonHttpProtocolOptions = Obj({
  idle_timeout: Opt(Duration()),
  max_requests_per_connection: Opt(UInt()),
  ...unsupportedFields(['max_connection_duration', 'max_headers_count', 'max_response_headers_kb', 'max_stream_duration', 'headers_with_underscores_action']),
});

const UpstreamHttpProtocolOptions = Obj({
  '@type': Type.Literal(UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE_URL),
  common_http_protocol_options: Opt(UpstreamCommonHttpProtocolOptions),
  explicit_http_config: Opt(Obj({
    /** HTTP/1.1 with default options is the upstream protocol for traffic. */
    http_protocol_options: Opt(Http1ProtocolOptions),
    /** Only on the ADS cluster, whose gRPC stream the xDS agent opens (checked in code). */
    http2_protocol_options: Opt(Http2ProtocolOptions),
    ...unsupportedFields(['http3_protocol_options']),
  })),
  ...unsupportedFields(['upstream_http_protocol_options', 'use_downstream_protocol_config', 'auto_config', 'http_filters', 'header_validation_config']),
});

const LbEndpoint = Obj({
  endpoint: Obj({
    address: Address,
    hostname: Opt(Str()),
    health_check_config: Opt(Obj({ port_value: Opt(Port()), ...unsupportedFields(['hostname', 'address', 'disable_active_health_check']) })),
    ...unsupportedFields(['additional_addresses']),
  }),
  load_balancing_weight: Opt(UInt({ minimum: 1 })),
  ...unsupportedFields(['health_status', 'metadata', 'endpoint_name']),
});

const LocalityLbEndpoints = Shared('LocalityLbEndpoints', Obj({
  /** Accepted and ignored: Weft has no zone-aware routing yet. */
  locality: Opt(Obj({ region: Opt(Str()), zone: Opt(Str()), sub_zone: Opt(Str()) })),
  lb_endpoints: Opt(Type.Array(LbEndpoint)),
  /** Accepted and ignored: only meaningful with locality-weighted load balancing. */
  load_balancing_weight: Opt(UInt({ minimum: 1 })),
  ...unsupportedFields(['priority', 'proximity', 'metadata', 'load_balancer_endpoints', 'leds_cluster_locality_config']),
}));

/** A cluster's `load_assignment`, and the EDS resource (`envoy.config.endpoint.v3.ClusterLoadAssignment`). */
export const ClusterLoadAssignment = Obj({
  cluster_name: NonEmptyStr(),
  endpoints: Opt(Type.Array(LocalityLbEndpoints)),
  ...unsupportedFields(['policy', 'named_endpoints']),
});

export const Cluster = Obj({
  name: NonEmptyStr(),
  type: Opt(Enum(CLUSTER_TYPES)),
  connect_timeout: Opt(Duration()),
  lb_policy: Opt(Enum(LB_POLICIES)),
  least_request_lb_config: Opt(Obj({ choice_count: Opt(UInt({ minimum: 2 })), ...unsupportedFields(['active_request_bias', 'slow_start_config']) })),
  ring_hash_lb_config: Opt(Obj({
    minimum_ring_size: Opt(UInt({ minimum: 1, maximum: 8_388_608 })),
    maximum_ring_size: Opt(UInt({ minimum: 1, maximum: 8_388_608 })),
    hash_function: Opt(Enum(['XX_HASH'])),
  })),
  load_assignment: Opt(ClusterLoadAssignment),
  eds_cluster_config: Opt(Obj({ eds_config: AdsConfigSource, service_name: Opt(NonEmptyStr()) })),
  dns_refresh_rate: Opt(Duration()),
  dns_lookup_family: Opt(Enum(DNS_LOOKUP_FAMILIES)),
  /** Accepted and ignored: Node's resolver does not expose TTLs, so dns_refresh_rate always applies. */
  respect_dns_ttl: Opt(Bool()),
  circuit_breakers: Opt(Obj({ thresholds: Opt(Type.Array(Thresholds)), ...unsupportedFields(['per_host_thresholds']) })),
  outlier_detection: Opt(OutlierDetection),
  health_checks: Opt(Type.Array(HealthCheck)),
  /** Deprecated in Envoy in favour of typed_extension_protocol_options, still accepted. */
  common_http_protocol_options: Opt(UpstreamCommonHttpProtocolOptions),
  typed_extension_protocol_options: Opt(Obj({ [UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME]: Opt(UpstreamHttpProtocolOptions) })),
  /** Deprecated in Envoy, still accepted. */
  max_requests_per_connection: Opt(UInt()),
  per_connection_buffer_limit_bytes: Opt(UInt({ minimum: 1 })),
  transport_socket: Opt(UpstreamTransportSocket),
  /** Deprecated in Envoy, still common in ADS examples; only on the ADS cluster (checked in code). */
  http2_protocol_options: Opt(Http2ProtocolOptions),
  hosts: Opt(Unsupported('removed in Envoy v3; use load_assignment')),
  ...unsupportedFields([
    'transport_socket_matches', 'metadata', 'alt_stat_name', 'cluster_type', 'per_connection_buffer_limit',
    'lb_subset_config', 'round_robin_lb_config', 'maglev_lb_config', 'original_dst_lb_config', 'common_lb_config',
    'load_balancing_policy', 'upstream_bind_config', 'upstream_connection_options', 'http_protocol_options',
    'upstream_http_protocol_options', 'http3_protocol_options', 'protocol_selection', 'dns_failure_refresh_rate',
    'dns_resolvers', 'dns_resolution_config', 'typed_dns_resolver_config', 'use_tcp_for_dns_lookups', 'wait_for_warm_on_init',
    'cleanup_interval', 'close_connections_on_host_health_failure', 'ignore_health_on_host_removal', 'filters',
    'lrs_server', 'track_timeout_budgets', 'track_cluster_stats', 'preconnect_policy', 'connection_pool_per_downstream_connection',
    'dns_jitter', 'lrs_report_endpoint_metrics', 'upstream_config',
  ]),
});

export type RawCluster = Static<typeof Cluster>;
export type RawClusterLoadAssignment = Static<typeof ClusterLoadAssignment>;
export type RawHealthCheck = Static<typeof HealthCheck>;
export type RawThresholds = Static<typeof Thresholds>;
export type RawOutlierDetection = Static<typeof OutlierDetection>;
export type RawUpstreamCommonHttpProtocolOptions = Static<typeof UpstreamCommonHttpProtocolOptions>;
