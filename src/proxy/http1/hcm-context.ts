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
import type { BindableLabelledCounter, BindableLabelledHistogram, SecondsHistogram, StatsStore } from '../observe/stats-store.js';
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

/** The two series one request outcome updates. */
export interface RequestSeries {
  readonly requests: Counter;
  /** Samples in seconds. */
  readonly duration: SecondsHistogram;
}

/**
 * weft_requests_total and weft_request_duration_seconds, bound once per outcome
 * (virtual host, cluster, status, flags) and cached in nested maps, so a request
 * records its metrics without building a label array or a key string.
 */
export class RequestMetrics {
  private readonly requests: BindableLabelledCounter;
  private readonly duration: BindableLabelledHistogram;
  private readonly cache = new Map<string, Map<string, Map<number, Map<string, RequestSeries>>>>();

  constructor(
    store: StatsStore,
    private readonly sourceWorkload: string,
  ) {
    this.requests = store.labelledCounter('weft_requests_total', 'Requests handled by the proxy.', REQUEST_METRIC_LABELS);
    this.duration = store.labelledHistogram('weft_request_duration_seconds', 'Request duration from first byte received to last byte sent.', REQUEST_METRIC_LABELS);
  }

  series(service: string, cluster: string, status: number, flags: string): RequestSeries {
    let byCluster = this.cache.get(service);
    if (byCluster === undefined) this.cache.set(service, (byCluster = new Map()));
    let byStatus = byCluster.get(cluster);
    if (byStatus === undefined) byCluster.set(cluster, (byStatus = new Map()));
    let byFlags = byStatus.get(status);
    if (byFlags === undefined) byStatus.set(status, (byFlags = new Map()));
    let series = byFlags.get(flags);
    if (series === undefined) {
      const labels = ['source', this.sourceWorkload, service, cluster, String(status), 'http', flags || '-'];
      series = { requests: this.requests.bind(labels), duration: this.duration.bind(labels) };
      byFlags.set(flags, series);
    }
    return series;
  }
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
  /**
   * The listener's `per_connection_buffer_limit_bytes` (default 1 MiB): the most request body held
   * before an upstream connection takes it, and the most kept for retries and mirrors, as in Envoy.
   */
  readonly bufferLimitBytes: number;
  /** Set when this config version is retired or the proxy drains: responses say `connection: close`. */
  draining: boolean;
}

export interface HcmDeps {
  /** The listener's `per_connection_buffer_limit_bytes`. */
  bufferLimitBytes: number;
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
    bufferLimitBytes: deps.bufferLimitBytes,
    draining: false,
  };
}

/** Releases what a retired config version holds (filter timers). Access loggers are shared and closed by the server. */
export function closeHcmContext(context: HcmContext): void {
  for (const filter of context.filters) filter.close();
}
