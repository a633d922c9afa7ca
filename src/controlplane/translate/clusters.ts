/**
 * Clusters: one EDS cluster per service port (TrafficPolicy's connection-level
 * settings applied) and, for a sidecar, one STATIC cluster per local workload port.
 */
import { UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME, UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE_URL } from '../../proxy/config/type-urls.js';
import { adsConfigSource, envoyDuration, socketAddress, statusRanges, type JsonObject } from './envoy-values.js';
import type { ServiceSpec } from '../model/service.js';
import type { LOAD_BALANCER_POLICIES, TrafficPolicySpec } from '../model/traffic-policy.js';
import type { Named, ServicePort } from './mesh-view.js';
import { inboundClusterName, outboundClusterName } from './names.js';

const LOCALHOST = '127.0.0.1';

type LoadBalancerPolicy = (typeof LOAD_BALANCER_POLICIES)[number];

/** The model's defaults (validation applies them; Envoy requires both thresholds). */
const HEALTH_CHECK_DEFAULTS = { healthyThreshold: 1, unhealthyThreshold: 3 } as const;

/** grpc-js-xds rejects lb_policy values other than these (it knows no LEAST_REQUEST or RANDOM). */
const PROXYLESS_LB_POLICIES: ReadonlySet<LoadBalancerPolicy> = new Set(['ROUND_ROBIN', 'RING_HASH']);

export function outboundCluster(service: Named<ServiceSpec>, port: ServicePort, policy: TrafficPolicySpec | undefined, proxyless: boolean): JsonObject {
  return {
    name: outboundClusterName(service.name, service.namespace, port.port),
    type: 'EDS',
    eds_cluster_config: { eds_config: adsConfigSource() },
    connect_timeout: envoyDuration(policy?.timeouts?.connect),
    lb_policy: lbPolicy(policy?.loadBalancer?.policy, proxyless),
    circuit_breakers: circuitBreakers(policy),
    outlier_detection: outlierDetection(policy?.outlierDetection),
    health_checks: healthChecks(policy?.healthCheck, `${service.name}.${service.namespace}.svc`),
    typed_extension_protocol_options: port.protocol === 'http' ? upstreamIdleTimeout(policy?.timeouts?.idle) : undefined,
  };
}

/** A sidecar's cluster for its own workload's port, on loopback. */
export function inboundCluster(workloadPort: number): JsonObject {
  const name = inboundClusterName(workloadPort);
  return {
    name,
    type: 'STATIC',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(LOCALHOST, workloadPort) } }] }] },
  };
}

/** Proxyless clients get ROUND_ROBIN instead of a policy grpc-js-xds would NACK. */
function lbPolicy(policy: LoadBalancerPolicy | undefined, proxyless: boolean): LoadBalancerPolicy | undefined {
  if (policy === undefined) return undefined;
  return proxyless && !PROXYLESS_LB_POLICIES.has(policy) ? 'ROUND_ROBIN' : policy;
}

function circuitBreakers(policy: TrafficPolicySpec | undefined): JsonObject | undefined {
  const limits = policy?.circuitBreaker;
  const budget = policy?.retries?.budget;
  if (limits === undefined && budget === undefined) return undefined;
  return {
    thresholds: [{
      max_connections: limits?.maxConnections,
      max_pending_requests: limits?.maxPendingRequests,
      max_requests: limits?.maxRequests,
      max_retries: limits?.maxRetries,
      retry_budget: budget === undefined
        ? undefined
        : { budget_percent: budget.percent === undefined ? undefined : { value: budget.percent }, min_retry_concurrency: budget.minConcurrency },
    }],
  };
}

function outlierDetection(outlier: TrafficPolicySpec['outlierDetection']): JsonObject | undefined {
  if (outlier === undefined) return undefined;
  return {
    consecutive_5xx: outlier.consecutive5xx,
    interval: envoyDuration(outlier.interval),
    base_ejection_time: envoyDuration(outlier.baseEjectionTime),
    max_ejection_percent: outlier.maxEjectionPercent,
  };
}

/**
 * `host`: the Host header of HTTP checks. Envoy's default is the cluster name, and ours
 * (`outbound|9080||api.default.svc`) is no valid host: a strict peer (a sidecar's inbound) answers 400.
 */
function healthChecks(check: TrafficPolicySpec['healthCheck'], host: string): JsonObject[] | undefined {
  if (check === undefined) return undefined;
  const http = check.http;
  return [{
    timeout: envoyDuration(check.timeout),
    interval: envoyDuration(check.interval),
    unhealthy_threshold: check.unhealthyThreshold ?? HEALTH_CHECK_DEFAULTS.unhealthyThreshold,
    healthy_threshold: check.healthyThreshold ?? HEALTH_CHECK_DEFAULTS.healthyThreshold,
    http_health_check: http === undefined
      ? undefined
      : { host, path: http.path, expected_statuses: http.expectedStatuses === undefined ? undefined : statusRanges(http.expectedStatuses) },
    tcp_health_check: http === undefined ? {} : undefined,
  }];
}

/**
 * The idle timeout of pooled upstream HTTP/1.1 connections. Envoy requires the
 * protocol choice in the same message. HTTP/2 ports get none: Weft's upstream
 * speaks HTTP/1.1 only and rejects http2_protocol_options.
 */
function upstreamIdleTimeout(idle: string | undefined): JsonObject | undefined {
  if (idle === undefined) return undefined;
  return {
    [UPSTREAM_HTTP_PROTOCOL_OPTIONS_NAME]: {
      '@type': UPSTREAM_HTTP_PROTOCOL_OPTIONS_TYPE_URL,
      common_http_protocol_options: { idle_timeout: envoyDuration(idle) },
      explicit_http_config: { http_protocol_options: {} },
    },
  };
}
