/**
 * What one HTTP connection manager (one listener's `http_connection_manager`)
 * needs per connection, compiled once per config version: the route table, the
 * filter chain factories, access loggers and stats. Connections hold the context
 * they were accepted with until they close, so a reload never changes the rules
 * under an in-flight request.
 */
import type { HttpConnectionManagerConfig, NodeInfo } from '../config/types.js';
import type { FilterInstanceFactory } from '../filters/filter.js';
import { findHttpFilterByTypeUrl } from '../filters/registry.js';
import type { AccessLogger } from '../observe/access-log.js';
import { createAccessLogger } from '../observe/access-log.js';
import type { Counter } from '../observe/stats.js';
import { defineStats } from '../observe/stats.js';
import type { SecondsHistogram, StatsStore } from '../observe/stats-store.js';
import type { RouteTable } from '../router/route-table.js';
import { compileRouteTable } from '../router/route-table.js';
import type { ClusterManager } from '../upstream/types.js';
import type { DeadlineWheel } from '../../lib/timers.js';
import { DEFAULT_LIMITS, type ParserLimits } from './parser.js';
import { WeftError } from '../../lib/errors.js';

/** Envoy's `http.<stat_prefix>.` connection manager stats. */
export const HCM_STATS = {
  counters: [
    'downstream_cx_total',
    'downstream_cx_destroy',
    'downstream_cx_protocol_error',
    'downstream_cx_idle_timeout',
    'downstream_cx_drain_close',
    'downstream_cx_upgrades_total',
    'downstream_cx_rx_bytes_total',
    'downstream_cx_tx_bytes_total',
    'downstream_cx_http1_total',
    'downstream_rq_total',
    'downstream_rq_http1_total',
    'downstream_rq_1xx',
    'downstream_rq_2xx',
    'downstream_rq_3xx',
    'downstream_rq_4xx',
    'downstream_rq_5xx',
    'downstream_rq_completed',
    'downstream_rq_rx_reset',
    'downstream_rq_tx_reset',
    'downstream_rq_timeout',
    'downstream_rq_idle_timeout',
    'downstream_rq_header_timeout',
    'downstream_rq_too_large',
    'downstream_rq_non_relative_path',
    'no_route',
    'no_cluster',
    'rq_direct_response',
    'rq_redirect',
  ],
  gauges: ['downstream_cx_active', 'downstream_cx_http1_active', 'downstream_rq_active', 'downstream_cx_upgrades_active'],
  histograms: ['downstream_rq_time', 'downstream_cx_length_ms'],
} as const;

export type HcmStats = ReturnType<typeof defineStats<typeof HCM_STATS>>;

/** weft_requests_total / weft_request_duration_seconds, Istio's standard labels. */
export const REQUEST_METRIC_LABELS = [
  'reporter',
  'source_workload',
  'destination_service',
  'destination_cluster',
  'response_code',
  'request_protocol',
  'response_flags',
] as const;

export interface RequestMetrics {
  requests(labels: readonly string[]): Counter;
  /** Samples in seconds. */
  duration(labels: readonly string[]): SecondsHistogram;
}

export interface HcmContext {
  readonly config: HttpConnectionManagerConfig;
  readonly routes: RouteTable;
  /** Every filter but the router, in order. */
  readonly filters: readonly FilterInstanceFactory[];
  readonly accessLoggers: readonly AccessLogger[];
  readonly stats: HcmStats;
  readonly metrics: RequestMetrics;
  readonly clusters: ClusterManager;
  readonly wheel: DeadlineWheel;
  readonly limits: ParserLimits;
  readonly node: NodeInfo;
  readonly random: () => number;
  readonly now: () => number;
  /** Set when this config version is retired or the proxy drains: responses say `connection: close`. */
  draining: boolean;
}

/** Binds the two request metric families once per label tuple (cached by the store). */
export function createRequestMetrics(store: StatsStore): RequestMetrics {
  const requests = store.labelledCounter('weft_requests_total', 'Requests handled by the proxy.', REQUEST_METRIC_LABELS);
  const duration = store.labelledHistogram('weft_request_duration_seconds', 'Request duration from first byte received to last byte sent.', REQUEST_METRIC_LABELS);
  return { requests: (labels) => requests.bind(labels), duration: (labels) => duration.bind(labels) };
}

export interface HcmDeps {
  store: StatsStore;
  clusters: ClusterManager;
  wheel: DeadlineWheel;
  node: NodeInfo;
  metrics: RequestMetrics;
  random?: () => number;
  now?: () => number;
}

export function createHcmContext(config: HttpConnectionManagerConfig, deps: HcmDeps): HcmContext {
  const now = deps.now ?? (() => performance.now());
  const random = deps.random ?? Math.random;
  const scope = deps.store.scope(`http.${config.statPrefix}.`);
  const filters = config.httpFilters.slice(0, -1).map((filter) => {
    const factory = findHttpFilterByTypeUrl(filter.typeUrl);
    if (factory === undefined) throw new WeftError('WEFT_ERR_CONFIG', `http filter ${filter.name}: no implementation for ${filter.typeUrl}`);
    return factory.createFilterFactory(filter.config, { stats: scope, rootStats: deps.store, now, random });
  });
  return {
    config,
    routes: compileRouteTable(config.routeConfig),
    filters,
    accessLoggers: config.accessLog.map(createAccessLogger),
    stats: defineStats(scope, HCM_STATS),
    metrics: deps.metrics,
    clusters: deps.clusters,
    wheel: deps.wheel,
    limits: {
      ...DEFAULT_LIMITS,
      maxHeaderBytes: config.maxRequestHeadersKb * 1024,
      maxHeaders: config.maxHeadersCount,
    },
    node: deps.node,
    random,
    now,
    draining: false,
  };
}

/** Releases what a retired config version holds (filter timers). Access loggers are shared and closed by the server. */
export function closeHcmContext(context: HcmContext): void {
  for (const filter of context.filters) filter.close();
}
