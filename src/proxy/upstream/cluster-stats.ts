/**
 * Every stat a cluster owns, under `cluster.<name>.`, with Envoy's names. One
 * declaration; `defineStats` derives the typed counters/gauges/histograms.
 *
 * Who bumps what: the upstream layer (pools, resource manager, discovery, load
 * balancer, outlier detection, health checks) owns the `upstream_cx_*`,
 * `upstream_rq_pending_*`, `upstream_rq_active`, membership, lb, outlier, health
 * check, DNS and circuit breaker stats; the connection manager bumps the other
 * `upstream_rq_*` ones. Not declared here: the per-status `upstream_rq_<code>`
 * counters, created on first use by `Cluster.upstreamRqCode`.
 */
import type { DeclaredStats } from '../observe/stats.js';

export const CLUSTER_STATS = {
  counters: [
    'upstream_cx_total',
    'upstream_cx_connect_fail',
    'upstream_cx_connect_timeout',
    'upstream_cx_destroy',
    'upstream_cx_destroy_local',
    'upstream_cx_destroy_remote',
    'upstream_cx_idle_timeout',
    'upstream_cx_overflow',
    'upstream_cx_protocol_error',
    'upstream_cx_max_requests',
    'upstream_cx_rx_bytes_total',
    'upstream_cx_tx_bytes_total',
    'upstream_rq_total',
    'upstream_rq_pending_total',
    'upstream_rq_pending_overflow',
    'upstream_rq_pending_failure_eject',
    'upstream_rq_cancelled',
    'upstream_rq_timeout',
    'upstream_rq_per_try_timeout',
    'upstream_rq_retry',
    'upstream_rq_retry_success',
    'upstream_rq_retry_overflow',
    'upstream_rq_retry_limit_exceeded',
    'upstream_rq_rx_reset',
    'upstream_rq_tx_reset',
    'upstream_rq_2xx',
    'upstream_rq_3xx',
    'upstream_rq_4xx',
    'upstream_rq_5xx',
    'lb_healthy_panic',
    'membership_change',
    'update_attempt',
    'update_success',
    'update_failure',
    'outlier_detection.ejections_total',
    'outlier_detection.ejections_enforced_total',
    'outlier_detection.ejections_enforced_consecutive_5xx',
    'outlier_detection.ejections_detected_consecutive_5xx',
    'outlier_detection.ejections_enforced_consecutive_gateway_failure',
    'outlier_detection.ejections_detected_consecutive_gateway_failure',
    'outlier_detection.ejections_overflow',
    'health_check.attempt',
    'health_check.success',
    'health_check.failure',
    'health_check.network_failure',
  ],
  gauges: [
    'upstream_cx_active',
    'upstream_rq_active',
    'upstream_rq_pending_active',
    'membership_healthy',
    'membership_total',
    'circuit_breakers.default.cx_open',
    'circuit_breakers.default.rq_pending_open',
    'circuit_breakers.default.rq_open',
    'circuit_breakers.default.rq_retry_open',
    'outlier_detection.ejections_active',
    'health_check.healthy',
  ],
  histograms: ['upstream_rq_time', 'upstream_cx_connect_ms', 'upstream_cx_length_ms'],
} as const;

export type ClusterStats = DeclaredStats<typeof CLUSTER_STATS>;
