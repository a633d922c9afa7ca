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
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

const orUndefined = (v: number | null | undefined): number | undefined => (v === null || v === undefined ? undefined : v);

function golden(m: WireMetrics): GoldenMetrics {
  return { rps: m.rps, successRate: orUndefined(m.successRate), p50Ms: orUndefined(m.p50), p95Ms: orUndefined(m.p95), p99Ms: orUndefined(m.p99) };
}

interface WireTopology {
  nodes: Array<{ id: string; kind: string; namespace: string; name: string; metrics?: WireMetrics }>;
  edges: Array<WireMetrics & { source: string; target: string }>;
}

/** GET /api/v1/topology: services and workloads with their golden metrics, and the edges with traffic. */
export async function getTopology(signal: AbortSignal): Promise<Topology> {
  const wire = await get<WireTopology>('/api/v1/topology', signal);
  return {
    nodes: wire.nodes.map((n) => ({ id: n.id, kind: n.kind.toLowerCase() === 'service' ? 'service' : 'workload', namespace: n.namespace, name: n.name, ...(n.metrics ? { metrics: golden(n.metrics) } : {}) })),
    edges: wire.edges.map((e) => ({ source: e.source, target: e.target, metrics: golden(e) })),
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
  /** When the proxy's workload certificate expires (ISO time), if the mesh issues certificates. */
  certExpiry?: string;
}

export const getProxies = (signal: AbortSignal): Promise<{ items: ProxyStatus[] }> => get('/api/proxies', signal);

export function getConfigDump(nodeId: string, signal: AbortSignal): Promise<unknown> {
  return get(`/api/v1/proxies/${encodeURIComponent(nodeId)}/config_dump`, signal);
}

/** What the Performance page asks for; the server turns it into `weft perf run`'s options. */
export interface PerfRunRequest {
  url: string;
  /** Requests per second (open loop). */
  rate: number;
  /** Go-style duration, e.g. `10s`. */
  duration: string;
  connections: number;
}

export interface PerfRun {
  id: string;
  state: 'running' | 'done' | 'failed';
}

export interface PerfProgress {
  elapsedMs: number;
  durationMs: number;
  requests: number;
  rps: number;
  p99Ms?: number;
}

/** An SMP document: the test's configuration and its result (SMP field names), as `PerformanceResult.spec.smp` holds it. */
export interface SmpDocument {
  config?: {
    name?: string;
    duration?: string;
    clients?: Array<{ load_generator?: string; protocol?: string; connections?: number; rps?: number; endpoint_url?: string[] | string }>;
  };
  result: {
    start_time?: string;
    end_time?: string;
    actual_QPS?: number;
    latencies_ms: Record<string, number>;
    /** Weft's fuller data, when the load generator wrote it. */
    weft?: { histogram?: Array<Record<string, number>>; percentiles?: Array<{ percentile: number; latencyMs: number }> };
    [field: string]: unknown;
  };
}

/** A result shown on the Performance page: its name and SMP document. */
export interface PerfResult {
  name: string;
  smp: SmpDocument;
}

export const startPerfRun = (run: PerfRunRequest): Promise<PerfRun> => request<PerfRun>('POST', '/api/v1/perf/runs', { body: run });
export const perfEventsPath = (id: string): string => `/api/v1/perf/runs/${encodeURIComponent(id)}/events`;
