/**
 * The control plane's views of the running mesh (not resources): the service
 * graph with golden metrics, per-service time series, connected proxies and
 * their config, performance runs. Shapes follow the API's documentation
 * (docs/ui.md lists the endpoints this page set uses).
 */
import { get, request } from './client';

/** Golden metrics of a service, workload or edge over the recent window. */
export interface GoldenMetrics {
  /** Requests per second. */
  rps: number;
  /** 0..1; undefined without traffic. */
  successRate?: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
}

export interface TopologyNode {
  id: string;
  kind: 'service' | 'workload';
  name: string;
  namespace: string;
  metrics?: GoldenMetrics;
}

export interface TopologyEdge {
  source: string;
  target: string;
  metrics: GoldenMetrics;
}

export interface Topology {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
}

/** The API's metric fields: latencies in ms, null without requests. */
interface WireMetrics {
  rps: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

const orUndefined = (v: number | null | undefined): number | undefined => (v === null || v === undefined ? undefined : v);

function golden(m: WireMetrics): GoldenMetrics {
  return { rps: m.rps, successRate: orUndefined(m.successRate), p50Ms: orUndefined(m.p50Ms), p95Ms: orUndefined(m.p95Ms), p99Ms: orUndefined(m.p99Ms) };
}

interface WireTopology {
  nodes: Array<{ id: string; kind: string; namespace: string; name: string; metrics?: WireMetrics }>;
  edges: Array<{ source: string; target: string; metrics: WireMetrics }>;
}

/** GET /api/v1/topology: services and workloads with their golden metrics, and the edges with traffic. */
export async function getTopology(signal: AbortSignal): Promise<Topology> {
  const wire = await get<WireTopology>('/api/v1/topology', signal);
  return {
    nodes: wire.nodes.map((n) => ({ id: n.id, kind: n.kind.toLowerCase() === 'service' ? 'service' : 'workload', namespace: n.namespace, name: n.name, ...(n.metrics ? { metrics: golden(n.metrics) } : {}) })),
    edges: wire.edges.map((e) => ({ source: e.source, target: e.target, metrics: golden(e.metrics) })),
  };
}

export interface SeriesPoint extends GoldenMetrics {
  /** Unix milliseconds. */
  timestamp: number;
}

export interface Series {
  points: SeriesPoint[];
}

/** GET /api/v1/metrics/namespaces/{ns}/services/{name}/series: 5 s points over the last 15 minutes. */
export async function getServiceSeries(namespace: string, name: string, signal: AbortSignal): Promise<Series> {
  const wire = await get<{ points: Array<WireMetrics & { timestamp: string | number }> }>(`/api/v1/metrics/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}/series`, signal);
  return { points: wire.points.map((p) => ({ timestamp: typeof p.timestamp === 'number' ? p.timestamp : Date.parse(p.timestamp), ...golden(p) })) };
}

export interface NackError {
  rejectedVersion: string;
  code: number;
  message: string;
  at: string;
}

export interface TypeStatus {
  sentVersion: string;
  ackedVersion: string;
  nackError?: NackError;
  subscribed: string[];
}

export interface ProxyStatus {
  streamId: number;
  nodeId: string;
  nodeCluster: string;
  /** Envoy node metadata; Weft sidecars send WORKLOAD and NAMESPACE. */
  nodeMetadata?: Record<string, unknown>;
  protocol: string;
  peer: string;
  connectedAt: string;
  types: Record<string, TypeStatus | undefined>;
}

export const getProxies = (signal: AbortSignal): Promise<{ items: ProxyStatus[] }> => get('/api/proxies', signal);

/** One proxy with what the control plane knows beyond xDS: admin address, scrape state, certificate expiry. */
export interface ProxyDetail extends ProxyStatus {
  adminAddress: string | null;
  metrics?: { lastScrapeAt: string | null; lastError: string | null };
  certExpiry: string | null;
}

export function getProxyDetail(nodeId: string, signal: AbortSignal): Promise<ProxyDetail> {
  return get(`/api/v1/proxies/${encodeURIComponent(nodeId)}`, signal);
}

export function getConfigDump(nodeId: string, signal: AbortSignal): Promise<unknown> {
  return get(`/api/v1/proxies/${encodeURIComponent(nodeId)}/config_dump`, signal);
}

/** What the Performance page asks for: `weft perf run`'s flags as JSON. */
export interface PerfRunRequest {
  url: string;
  name?: string;
  /** Requests per second (open loop). */
  rate: number;
  /** Go-style duration, e.g. `10s`. */
  duration: string;
  connections: number;
}

/** A `progress` event of a run's event stream. */
export interface PerfProgress {
  elapsedMs: number;
  /** Warm-up plus measured duration. */
  durationMs: number;
  percent: number;
  phase: 'warmup' | 'measure';
  requests: number;
  errors: number;
  rps: number;
  p99Ms: number;
}

/** A run as the API shows it; `result` once it is done. */
export interface PerfRun {
  id: string;
  name?: string;
  state: 'running' | 'done' | 'failed';
  startedAt: string;
  error?: string;
  progress?: PerfProgress;
  result?: SmpDocument;
}

/**
 * An SMP document as `weft perf run -o` writes it (performance_test_config,
 * performance_test_result, Weft's fuller result under `weft`), or the short
 * form a PerformanceResult may hold (config, result). perf-model.ts reads both.
 */
export interface SmpDocument {
  performance_test_config?: SmpConfig;
  performance_test_result?: SmpTestResult;
  config?: SmpConfig;
  result?: SmpTestResult;
  weft?: {
    latencyMs?: Record<string, number>;
    /** HdrHistogram, compressed base64, microseconds. */
    histograms?: { unit?: string; corrected?: string };
    statusCodes?: Record<string, number>;
    partial?: boolean;
  };
}

export interface SmpConfig {
  name?: string;
  duration?: string;
  clients?: Array<{ load_generator?: string; protocol?: string; connections?: number; rps?: number; endpoint_url?: string[] | string }>;
}

export interface SmpTestResult {
  start_time?: string;
  end_time?: string;
  actual_QPS?: number;
  latencies_ms?: Record<string, number>;
}

/** A result shown on the Performance page: its name and SMP document. */
export interface PerfResult {
  name: string;
  smp: SmpDocument;
}

const PERF_RUNS = '/api/v1/perf/runs';
export const startPerfRun = (run: PerfRunRequest): Promise<PerfRun> => request<PerfRun>('POST', PERF_RUNS, { body: run });
/** Server-sent events: `progress` (PerfProgress), then `result` (PerfRun) or `failure` ({error}). */
export const perfEventsPath = (id: string): string => `${PERF_RUNS}/${encodeURIComponent(id)}/events`;
/** The last runs the control plane keeps in memory, newest first. */
export const getPerfRuns = (signal: AbortSignal): Promise<{ items: PerfRun[] }> => get(PERF_RUNS, signal);
