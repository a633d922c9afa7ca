/**
 * What one HTTP connection manager (one listener's `http_connection_manager`)
 * needs per connection, compiled once per config version: the route table, the
 * filter chain factories, access loggers and stats. Connections hold the context
 * they were accepted with until they close, so a reload never changes the rules
 * under an in-flight request.
 */
import type { HttpConnectionManagerConfig, NodeInfo, TrafficDirection } from '../config/types.js';
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
  'destination_workload',
  'destination_cluster',
  'response_code',
  'request_protocol',
  'response_flags',
] as const;

/**
 * The request header an OUTBOUND sidecar listener sets to its workload and an
 * INBOUND one reads (and removes), so the destination side can label
 * `source_workload` (Istio's metadata exchange, reduced to the one field the
 * golden metrics need).
 */
export const SOURCE_WORKLOAD_HEADER = 'x-weft-source-workload';
/** Label values from the wire must look like a name (DNS label or host), or they become 'unknown': bounds cardinality. */
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,252})$/;
export const UNKNOWN = 'unknown';

/** A peer-supplied label value, or 'unknown' when absent or not name-shaped. */
export function peerLabel(value: string | undefined): string {
  return value !== undefined && LABEL_VALUE.test(value) ? value : UNKNOWN;
}

/** The host of an authority (`reviews:9080` -> `reviews`, `[::1]:80` -> `::1`) as a label value. */
export function authorityHostLabel(authority: string): string {
  const host = authority.startsWith('[') ? authority.slice(1, authority.indexOf(']')) : authority.split(':', 1)[0]!;
  return host.includes(':') ? host : peerLabel(host);
}

/** The two series one request outcome updates. */
export interface RequestSeries {
  readonly requests: Counter;
  /** Samples in seconds. */
  readonly duration: SecondsHistogram;
}

export type Reporter = 'source' | 'destination';

/**
 * weft_requests_total and weft_request_duration_seconds for one reporter,
 * bound once per outcome (peer, service, cluster, status, flags) and cached in
 * nested maps, so a request records its metrics without building a label array
 * or a key string. `source` (OUTBOUND and unmarked listeners): this proxy's
 * workload is the source, the destination workload is unknown. `destination`
 * (INBOUND listeners): this proxy's workload is the destination, the source is
 * what the peer sidecar said.
 */
export class ReporterMetrics {
  private readonly cache = new Map<string, Map<string, Map<string, Map<number, Map<string, RequestSeries>>>>>();

  constructor(
    private readonly requests: BindableLabelledCounter,
    private readonly duration: BindableLabelledHistogram,
    readonly reporter: Reporter,
    /** This proxy's workload (node cluster, else node id). */
    readonly workload: string,
  ) {}

  series(peerWorkload: string, service: string, cluster: string, status: number, flags: string): RequestSeries {
    let byService = this.cache.get(peerWorkload);
    if (byService === undefined) this.cache.set(peerWorkload, (byService = new Map()));
    let byCluster = byService.get(service);
    if (byCluster === undefined) byService.set(service, (byCluster = new Map()));
    let byStatus = byCluster.get(cluster);
    if (byStatus === undefined) byCluster.set(cluster, (byStatus = new Map()));
    let byFlags = byStatus.get(status);
    if (byFlags === undefined) byStatus.set(status, (byFlags = new Map()));
    let series = byFlags.get(flags);
    if (series === undefined) {
      const [source, destination] = this.reporter === 'source' ? [this.workload, peerWorkload] : [peerWorkload, this.workload];
      const labels = [this.reporter, source, service, destination, cluster, String(status), 'http', flags || '-'];
      series = { requests: this.requests.bind(labels), duration: this.duration.bind(labels) };
      byFlags.set(flags, series);
    }
    return series;
  }
}

/** The proxy's request metrics: one family pair, one view per reporter. */
export class RequestMetrics {
  readonly source: ReporterMetrics;
  readonly destination: ReporterMetrics;

  constructor(store: StatsStore, workload: string) {
    const requests = store.labelledCounter('weft_requests_total', 'Requests handled by the proxy.', REQUEST_METRIC_LABELS);
    const duration = store.labelledHistogram('weft_request_duration_seconds', 'Request duration from first byte received to last byte sent.', REQUEST_METRIC_LABELS);
    this.source = new ReporterMetrics(requests, duration, 'source', workload);
    this.destination = new ReporterMetrics(requests, duration, 'destination', workload);
  }

  /** Envoy's listener `traffic_direction`: INBOUND reports as the destination, anything else as the source. */
  forDirection(direction: TrafficDirection | undefined): ReporterMetrics {
    return direction === 'INBOUND' ? this.destination : this.source;
  }
}

export interface HcmContext {
  readonly config: HttpConnectionManagerConfig;
  readonly routes: RouteTable;
  /** Every filter but the router, in order. */
  readonly filters: readonly FilterInstanceFactory[];
  readonly accessLoggers: readonly AccessLogger[];
  readonly stats: HcmStats;
  readonly metrics: ReporterMetrics;
  /**
   * The listener's `traffic_direction`: OUTBOUND sets the source-workload header on
   * requests, INBOUND reads and removes it; unmarked listeners leave headers alone.
   */
  readonly trafficDirection: TrafficDirection | undefined;
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
  trafficDirection?: TrafficDirection;
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
    metrics: deps.metrics.forDirection(deps.trafficDirection),
    trafficDirection: deps.trafficDirection,
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
