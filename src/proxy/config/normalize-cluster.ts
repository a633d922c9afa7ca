/** Cluster -> ClusterConfig, with Envoy's defaults applied and cross-field rules checked. */
import { normalizeUpstreamTransportSocket, type TlsContext } from './normalize-tls.js';
import { isIP } from 'node:net';
import { ConfigError } from '../../lib/errors.js';
import { durationMs } from './duration.js';
import { normalizeHeaderValueOptions, oneOf, positive, ONE_MIB, ONE_HOUR_MS } from './normalize-common.js';
import { fieldPath, indexPath } from './path.js';
import type { RawCluster, RawClusterLoadAssignment, RawHealthCheck, RawOutlierDetection, RawThresholds, RawUpstreamCommonHttpProtocolOptions } from './schema-cluster.js';
import { UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME } from './type-urls.js';
import type { ClusterConfig, EndpointConfig, HealthCheckConfig, OutlierDetectionConfig, ThresholdsConfig, UpstreamTlsConfig } from './types.js';

const CLUSTER_DEFAULTS = {
  connectTimeoutMs: 5_000,
  dnsRefreshRateMs: 5_000,
  leastRequestChoiceCount: 2,
  minimumRingSize: 1024,
  maximumRingSize: 8_388_608,
} as const;
const THRESHOLD_DEFAULTS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } as const;
const RETRY_BUDGET_DEFAULTS = { budgetPercent: 20, minRetryConcurrency: 3 } as const;
const OUTLIER_DEFAULTS = {
  consecutive5xx: 5,
  consecutiveGatewayFailure: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
} as const;
const DEFAULT_EXPECTED_STATUSES: Array<[number, number]> = [[200, 201]];

/** What a cluster's normalization needs to know about the bootstrap around it. */
export interface ClusterContext extends TlsContext {
  /** The bootstrap has dynamic_resources: EDS clusters and SDS over ADS are allowed. */
  ads: boolean;
  /** This is the ADS cluster, the only one that may speak HTTP/2 (the xDS agent dials it, no request does). */
  isAdsCluster: boolean;
}

/**
 * TLS to the control plane (its mTLS xDS port) is set up before any config arrives: the trusted CA
 * must be in the bootstrap, not behind an SDS name served over ADS. The certificate may be an SDS
 * name: the proxy's own certificate, which its CSR obtains (node metadata WEFT_LOCAL_KEY).
 */
function checkAdsClusterTls(tls: UpstreamTlsConfig, path: string): void {
  const validationPath = fieldPath(fieldPath(path, 'typed_config'), 'common_tls_context');
  if (tls.validation === undefined) throw new ConfigError(validationPath, 'the ADS cluster must verify the control plane: give validation_context.trusted_ca');
  if (tls.validation.kind === 'sds' && tls.validation.ads) throw new ConfigError(validationPath, "the ADS cluster's trusted CA cannot come over ADS: give validation_context.trusted_ca (inline or filename) or a static secret");
}

export function normalizeCluster(raw: RawCluster, path: string, context: ClusterContext): ClusterConfig {
  const type = raw.type ?? 'STATIC';
  checkEdsFields(raw, type, path, context);
  const lbPolicy = raw.lb_policy ?? 'ROUND_ROBIN';
  requireLbPolicy(raw.least_request_lb_config, 'least_request_lb_config', 'LEAST_REQUEST', lbPolicy, path);
  requireLbPolicy(raw.ring_hash_lb_config, 'ring_hash_lb_config', 'RING_HASH', lbPolicy, path);
  const ringHash = {
    minimumRingSize: raw.ring_hash_lb_config?.minimum_ring_size ?? CLUSTER_DEFAULTS.minimumRingSize,
    maximumRingSize: raw.ring_hash_lb_config?.maximum_ring_size ?? CLUSTER_DEFAULTS.maximumRingSize,
  };
  if (ringHash.minimumRingSize > ringHash.maximumRingSize) {
    throw new ConfigError(fieldPath(fieldPath(path, 'ring_hash_lb_config'), 'minimum_ring_size'), 'must not be greater than maximum_ring_size');
  }
  const healthChecksPath = fieldPath(path, 'health_checks');
  const cluster: ClusterConfig = {
    name: raw.name,
    type,
    connectTimeoutMs: positive(durationMs(raw.connect_timeout, CLUSTER_DEFAULTS.connectTimeoutMs), fieldPath(path, 'connect_timeout')),
    lbPolicy,
    leastRequestChoiceCount: raw.least_request_lb_config?.choice_count ?? CLUSTER_DEFAULTS.leastRequestChoiceCount,
    ringHash,
    endpoints: normalizeLoadAssignment(raw.load_assignment, type, fieldPath(path, 'load_assignment')),
    dnsRefreshRateMs: positive(durationMs(raw.dns_refresh_rate, CLUSTER_DEFAULTS.dnsRefreshRateMs), fieldPath(path, 'dns_refresh_rate')),
    dnsLookupFamily: raw.dns_lookup_family ?? 'AUTO',
    circuitBreakers: normalizeThresholds(raw.circuit_breakers?.thresholds ?? [], fieldPath(fieldPath(path, 'circuit_breakers'), 'thresholds')),
    healthChecks: (raw.health_checks ?? []).map((hc, i) => normalizeHealthCheck(hc, indexPath(healthChecksPath, i))),
    ...normalizeUpstreamHttpOptions(raw, path, context),
    perConnectionBufferLimitBytes: raw.per_connection_buffer_limit_bytes ?? ONE_MIB,
  };
  if (type === 'EDS') cluster.edsServiceName = raw.eds_cluster_config!.service_name ?? raw.name;
  if (raw.transport_socket !== undefined) {
    const socketPath = fieldPath(path, 'transport_socket');
    const tls = normalizeUpstreamTransportSocket(raw.transport_socket, socketPath, context);
    if (tls !== undefined && context.isAdsCluster) checkAdsClusterTls(tls, socketPath);
    if (tls !== undefined) cluster.tls = tls;
  }
  if (raw.outlier_detection !== undefined) {
    cluster.outlierDetection = normalizeOutlierDetection(raw.outlier_detection, fieldPath(path, 'outlier_detection'));
  }
  return cluster;
}

/** Envoy ignores an lb config that does not match lb_policy; Weft says so instead. */
function requireLbPolicy(config: object | undefined, field: string, policy: string, lbPolicy: string, path: string): void {
  if (config !== undefined && lbPolicy !== policy) throw new ConfigError(fieldPath(path, field), `only applies with lb_policy ${policy} (lb_policy is ${lbPolicy})`);
}

/** EDS clusters get their endpoints from the ADS server only, so it is an error to give them any here. */
function checkEdsFields(raw: RawCluster, type: ClusterConfig['type'], path: string, context: ClusterContext): void {
  if (type !== 'EDS') {
    if (raw.eds_cluster_config !== undefined) throw new ConfigError(fieldPath(path, 'eds_cluster_config'), `only applies with type EDS (type is ${type})`);
    return;
  }
  if (!context.ads) throw new ConfigError(fieldPath(path, 'type'), 'EDS needs dynamic_resources.ads_config: the endpoints come from the ADS server');
  if (raw.eds_cluster_config === undefined) throw new ConfigError(fieldPath(path, 'eds_cluster_config'), 'required with type EDS');
  if (raw.load_assignment !== undefined) throw new ConfigError(fieldPath(path, 'load_assignment'), 'not allowed with type EDS: the endpoints come from the ADS server');
}

/**
 * A `load_assignment` or an EDS ClusterLoadAssignment (`path` points at it). Locality
 * and its weight are accepted but flattened away: Weft balances over all endpoints of a cluster.
 */
export function normalizeLoadAssignment(raw: RawClusterLoadAssignment | undefined, type: ClusterConfig['type'], path: string): EndpointConfig[] {
  const endpoints: EndpointConfig[] = [];
  const localitiesPath = fieldPath(path, 'endpoints');
  (raw?.endpoints ?? []).forEach((locality, i) => {
    const lbEndpointsPath = fieldPath(indexPath(localitiesPath, i), 'lb_endpoints');
    (locality.lb_endpoints ?? []).forEach((lbEndpoint, j) => {
      const endpointPath = fieldPath(indexPath(lbEndpointsPath, j), 'endpoint');
      const socketPath = fieldPath(fieldPath(endpointPath, 'address'), 'socket_address');
      const { address, port_value: port } = lbEndpoint.endpoint.address.socket_address;
      if ((type === 'STATIC' || type === 'EDS') && isIP(address) === 0) {
        throw new ConfigError(fieldPath(socketPath, 'address'), `a ${type} cluster needs an IP address, got ${JSON.stringify(address)} (use type STRICT_DNS for hostnames)`);
      }
      if (port === 0) throw new ConfigError(fieldPath(socketPath, 'port_value'), 'an upstream endpoint needs a port in 1..65535');
      endpoints.push({
        address,
        port,
        weight: lbEndpoint.load_balancing_weight ?? 1,
        healthCheckPort: lbEndpoint.endpoint.health_check_config?.port_value ?? 0,
        hostname: lbEndpoint.endpoint.hostname || address,
      });
    });
  });
  return endpoints;
}

/** Only the DEFAULT priority is supported, so at most one entry. */
function normalizeThresholds(raw: RawThresholds[], path: string): ThresholdsConfig {
  if (raw.length > 1) throw new ConfigError(indexPath(path, 1), 'only one thresholds entry (priority DEFAULT) is supported');
  const t = raw[0];
  const thresholds: ThresholdsConfig = {
    maxConnections: t?.max_connections ?? THRESHOLD_DEFAULTS.maxConnections,
    maxPendingRequests: t?.max_pending_requests ?? THRESHOLD_DEFAULTS.maxPendingRequests,
    maxRequests: t?.max_requests ?? THRESHOLD_DEFAULTS.maxRequests,
    maxRetries: t?.max_retries ?? THRESHOLD_DEFAULTS.maxRetries,
  };
  if (t?.retry_budget !== undefined) {
    thresholds.retryBudget = {
      budgetPercent: t.retry_budget.budget_percent?.value ?? RETRY_BUDGET_DEFAULTS.budgetPercent,
      minRetryConcurrency: t.retry_budget.min_retry_concurrency ?? RETRY_BUDGET_DEFAULTS.minRetryConcurrency,
    };
  }
  return thresholds;
}

function normalizeOutlierDetection(raw: RawOutlierDetection, path: string): OutlierDetectionConfig {
  const baseEjectionTimeMs = positive(durationMs(raw.base_ejection_time, OUTLIER_DEFAULTS.baseEjectionTimeMs), fieldPath(path, 'base_ejection_time'));
  // Envoy: when unset, max_ejection_time is 300 s or base_ejection_time, whichever is larger.
  const maxEjectionTimeMs = durationMs(raw.max_ejection_time, Math.max(OUTLIER_DEFAULTS.maxEjectionTimeMs, baseEjectionTimeMs));
  if (maxEjectionTimeMs < baseEjectionTimeMs) throw new ConfigError(fieldPath(path, 'max_ejection_time'), 'must be greater than or equal to base_ejection_time');
  return {
    consecutive5xx: raw.consecutive_5xx ?? OUTLIER_DEFAULTS.consecutive5xx,
    consecutiveGatewayFailure: raw.consecutive_gateway_failure ?? OUTLIER_DEFAULTS.consecutiveGatewayFailure,
    intervalMs: positive(durationMs(raw.interval, OUTLIER_DEFAULTS.intervalMs), fieldPath(path, 'interval')),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionPercent: raw.max_ejection_percent ?? OUTLIER_DEFAULTS.maxEjectionPercent,
    enforcingConsecutive5xx: raw.enforcing_consecutive_5xx ?? OUTLIER_DEFAULTS.enforcingConsecutive5xx,
    enforcingConsecutiveGatewayFailure: raw.enforcing_consecutive_gateway_failure ?? OUTLIER_DEFAULTS.enforcingConsecutiveGatewayFailure,
    splitExternalLocalOriginErrors: raw.split_external_local_origin_errors ?? false,
  };
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function hexPayload(text: string, path: string): Buffer {
  if (!HEX.test(text)) throw new ConfigError(path, 'must be hex bytes, e.g. "50494e47"');
  return Buffer.from(text, 'hex');
}

function normalizeHealthCheck(raw: RawHealthCheck, path: string): HealthCheckConfig {
  const kind = oneOf(raw, ['http_health_check', 'tcp_health_check'] as const, path)!;
  const intervalMs = positive(durationMs(raw.interval, 0), fieldPath(path, 'interval'));
  const check: HealthCheckConfig = {
    timeoutMs: positive(durationMs(raw.timeout, 0), fieldPath(path, 'timeout')),
    intervalMs,
    intervalJitterMs: durationMs(raw.interval_jitter, 0),
    unhealthyThreshold: raw.unhealthy_threshold,
    healthyThreshold: raw.healthy_threshold,
    noTrafficIntervalMs: positive(durationMs(raw.no_traffic_interval, intervalMs), fieldPath(path, 'no_traffic_interval')),
  };
  const kindPath = fieldPath(path, kind);
  if (kind === 'http_health_check') {
    const http = raw.http_health_check!;
    const statusesPath = fieldPath(kindPath, 'expected_statuses');
    const expectedStatuses = (http.expected_statuses ?? []).map(({ start, end }, i): [number, number] => {
      if (start >= end) throw new ConfigError(indexPath(statusesPath, i), `start (${start}) must be less than end (${end})`);
      return [start, end];
    });
    check.http = {
      path: http.path,
      expectedStatuses: expectedStatuses.length > 0 ? expectedStatuses : DEFAULT_EXPECTED_STATUSES,
      requestHeadersToAdd: normalizeHeaderValueOptions(http.request_headers_to_add, fieldPath(kindPath, 'request_headers_to_add')),
    };
    if (http.host !== undefined && http.host !== '') check.http.host = http.host;
  } else {
    const tcp = raw.tcp_health_check!;
    const receivePath = fieldPath(kindPath, 'receive');
    check.tcp = { receive: (tcp.receive ?? []).map((p, i) => hexPayload(p.text, fieldPath(indexPath(receivePath, i), 'text'))) };
    if (tcp.send !== undefined) check.tcp.send = hexPayload(tcp.send.text, fieldPath(fieldPath(kindPath, 'send'), 'text'));
  }
  return check;
}

/**
 * Upstream HTTP options may come from the typed HttpProtocolOptions extension or
 * from the deprecated cluster fields; like Envoy, setting the same option in both is an error.
 */
function normalizeUpstreamHttpOptions(raw: RawCluster, path: string, context: ClusterContext): Pick<ClusterConfig, 'idleTimeoutMs' | 'maxRequestsPerConnection' | 'http2'> {
  const typedPath = fieldPath(fieldPath(path, 'typed_extension_protocol_options'), UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME);
  const typed = raw.typed_extension_protocol_options?.[UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME];
  const explicitPath = fieldPath(typedPath, 'explicit_http_config');
  const explicit = typed?.explicit_http_config === undefined ? undefined : oneOf(typed.explicit_http_config, ['http_protocol_options', 'http2_protocol_options'] as const, explicitPath);
  const http2Path = explicit === 'http2_protocol_options' ? fieldPath(explicitPath, explicit)
    : raw.http2_protocol_options !== undefined ? fieldPath(path, 'http2_protocol_options')
    : undefined;
  if (http2Path !== undefined && !context.isAdsCluster) {
    throw new ConfigError(http2Path, 'HTTP/2 upstreams are not supported yet; only the ADS cluster (dynamic_resources.ads_config) may use HTTP/2');
  }
  if (explicit === 'http_protocol_options' && raw.http2_protocol_options !== undefined) {
    throw new ConfigError(fieldPath(path, 'http2_protocol_options'), `conflicts with ${fieldPath(explicitPath, explicit)}`);
  }
  let common: RawUpstreamCommonHttpProtocolOptions | undefined = raw.common_http_protocol_options;
  if (typed?.common_http_protocol_options !== undefined) {
    if (common !== undefined) throw new ConfigError(fieldPath(path, 'common_http_protocol_options'), `set in ${UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME} or here (deprecated), not both`);
    common = typed.common_http_protocol_options;
  }
  if (raw.max_requests_per_connection !== undefined && common?.max_requests_per_connection !== undefined) {
    throw new ConfigError(fieldPath(path, 'max_requests_per_connection'), 'set in common_http_protocol_options or here (deprecated), not both');
  }
  return {
    idleTimeoutMs: durationMs(common?.idle_timeout, ONE_HOUR_MS),
    maxRequestsPerConnection: raw.max_requests_per_connection ?? common?.max_requests_per_connection ?? 0,
    ...(http2Path === undefined ? {} : { http2: true as const }),
  };
}
