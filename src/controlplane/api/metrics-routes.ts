/**
 * Golden-metrics routes: SMI TrafficMetrics (`metrics.smi-spec.io/v1alpha1`)
 * for services, workloads and traffic splits and their edges, 5 s time series
 * for charts, and the service graph. Everything is computed on request from
 * the in-memory series store (metrics/golden.ts); the store only supplies which
 * resources exist.
 */
import type { FastifyInstance } from 'fastify';
import { health, refKey, serviceOfHost, type EntityRef, type Golden, type GoldenMetrics } from '../metrics/golden.js';
import type { Resource } from '../model/resource.js';
import type { TrafficSplitSpec } from '../model/traffic-split.js';
import type { Store } from '../store/store.js';
import {
  METRICS_PLURALS, RangeQuery, SeriesParams, SMI_METRICS_PREFIX, SmiItemParams, SmiListParams, TOPOLOGY_PATH, WindowQuery, type MetricsPlural,
} from './ui-schemas.js';
import { badRequest, notFound } from './status.js';

const SMI_API_VERSION = 'metrics.smi-spec.io/v1alpha1';
const DEFAULT_WINDOW = '30s';
const DEFAULT_RANGE = '15m';
/** Shortest window: one scrape interval; longest: the retention. */
const MIN_WINDOW_MS = 5_000;
const MAX_WINDOW_MS = 15 * 60_000;

const KIND_OF: Record<MetricsPlural, 'Service' | 'Workload' | 'TrafficSplit'> = { services: 'Service', workloads: 'Workload', trafficsplits: 'TrafficSplit' };

/** `30s`, `5m`, `1h` -> ms; bounded to what the store keeps. */
export function parseWindow(value: string, field: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(value);
  const ms = match === null ? NaN : Number(match[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
  if (!(ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS)) {
    throw badRequest(`${field} must be a duration like 30s or 5m, between 5s and 15m (got ${JSON.stringify(value)})`, [{ field, message: 'must be a duration between 5s and 15m, e.g. 30s' }]);
  }
  return ms;
}

export interface MetricsRouteDeps {
  store: Store;
  golden: GoldenMetrics;
}

export function registerMetricsRoutes(app: FastifyInstance, { store, golden }: MetricsRouteDeps): void {
  /** Which service each stored workload backs, for requests its sidecar saw addressed by IP. */
  const refresh = async (): Promise<void> => {
    const map = new Map<string, EntityRef>();
    for (const w of await store.list({ kind: 'Workload' })) {
      const service = (w.spec as { service?: string }).service;
      const ref = service === undefined ? undefined : serviceOfHost(service, w.metadata.namespace);
      if (ref !== undefined) map.set(refKey({ kind: 'Workload', namespace: w.metadata.namespace, name: w.metadata.name }), ref);
    }
    golden.setWorkloadServices(map);
  };
  app.addHook('preHandler', async (request) => {
    const path = request.routeOptions.url ?? '';
    if (path.startsWith(SMI_METRICS_PREFIX) || path.startsWith('/api/v1/metrics/') || path === TOPOLOGY_PATH) await refresh();
  });

  const now = (): string => new Date(golden.timeOf(golden.latestTick) ?? Date.now()).toISOString();

  /** Names of a kind in a namespace: stored ones, plus (services and workloads) ones seen only in metrics. */
  const names = async (plural: MetricsPlural, namespace: string): Promise<string[]> => {
    const kind = KIND_OF[plural];
    const stored = (await store.list({ kind, namespace })).map((r) => r.metadata.name);
    const seen = kind === 'TrafficSplit' ? [] : golden.seenEntities().filter((r) => r.kind === kind && r.namespace === namespace).map((r) => r.name);
    return [...new Set([...stored, ...seen])].sort();
  };

  /** The entity a metrics resource reads: a split reads its root service. */
  const subject = async (plural: MetricsPlural, namespace: string, name: string): Promise<{ ref: EntityRef; split?: TrafficSplitSpec }> => {
    const kind = KIND_OF[plural];
    if (kind === 'TrafficSplit') {
      const split = await store.get({ kind, namespace, name });
      if (split === undefined) throw notFound(`TrafficSplit ${namespace}/${name} not found`);
      const spec = (split as Resource).spec as TrafficSplitSpec;
      const root = serviceOfHost(spec.service, namespace);
      if (root === undefined) throw notFound(`TrafficSplit ${namespace}/${name}: its root ${spec.service} is not a mesh service`);
      return { ref: root, split: spec };
    }
    const ref: EntityRef = { kind, namespace, name };
    const known = (await store.get({ kind, namespace, name })) !== undefined || golden.seenEntities().some((r) => refKey(r) === refKey(ref));
    if (!known) throw notFound(`${kind} ${namespace}/${name} not found (neither stored nor seen in any proxy's metrics)`);
    return { ref };
  };

  const trafficMetrics = (resource: { kind: string; namespace: string; name: string }, windowText: string, value: Golden, edge?: { direction: 'from' | 'to'; resource: EntityRef | null }): Record<string, unknown> => ({
    kind: 'TrafficMetrics',
    apiVersion: SMI_API_VERSION,
    metadata: { name: resource.name, namespace: resource.namespace, creationTimestamp: now() },
    timestamp: now(),
    window: windowText,
    resource,
    edge: edge === undefined ? { direction: 'from', resource: null } : { direction: edge.direction, side: edge.direction === 'from' ? 'server' : 'client', resource: edge.resource },
    metrics: smiMetrics(value),
  });

  const list = (resource: Record<string, unknown> | undefined, items: unknown[]): Record<string, unknown> => ({
    kind: 'TrafficMetricsList',
    apiVersion: SMI_API_VERSION,
    metadata: {},
    ...(resource === undefined ? {} : { resource }),
    items,
  });

  app.get<{ Params: SmiListParams; Querystring: WindowQuery }>(`${SMI_METRICS_PREFIX}/namespaces/:namespace/:plural`, { schema: { params: SmiListParams, querystring: WindowQuery } }, async (request) => {
    const { namespace, plural } = request.params;
    const windowText = request.query.window ?? DEFAULT_WINDOW;
    const ticks = golden.ticksFor(parseWindow(windowText, 'window'));
    const items = [];
    for (const name of await names(plural, namespace)) {
      const { ref } = await subject(plural, namespace, name);
      const value = golden.window(golden.resource(ref), ticks).get('') ?? EMPTY;
      items.push(trafficMetrics({ kind: KIND_OF[plural], namespace, name }, windowText, value));
    }
    return list(undefined, items);
  });

  app.get<{ Params: SmiItemParams; Querystring: WindowQuery }>(`${SMI_METRICS_PREFIX}/namespaces/:namespace/:plural/:name`, { schema: { params: SmiItemParams, querystring: WindowQuery } }, async (request) => {
    const { namespace, plural, name } = request.params;
    const windowText = request.query.window ?? DEFAULT_WINDOW;
    const ticks = golden.ticksFor(parseWindow(windowText, 'window'));
    const { ref } = await subject(plural, namespace, name);
    return trafficMetrics({ kind: KIND_OF[plural], namespace, name }, windowText, golden.window(golden.resource(ref), ticks).get('') ?? EMPTY);
  });

  app.get<{ Params: SmiItemParams; Querystring: WindowQuery }>(`${SMI_METRICS_PREFIX}/namespaces/:namespace/:plural/:name/edges`, { schema: { params: SmiItemParams, querystring: WindowQuery } }, async (request) => {
    const { namespace, plural, name } = request.params;
    const windowText = request.query.window ?? DEFAULT_WINDOW;
    const ticks = golden.ticksFor(parseWindow(windowText, 'window'));
    const { ref, split } = await subject(plural, namespace, name);
    const resource = { kind: KIND_OF[plural], namespace, name };
    const items: unknown[] = [];
    if (split !== undefined) {
      // Every backend gets an edge, with zero traffic when it served none.
      const byBackend = golden.window(golden.splitBackends(ref), ticks);
      for (const backend of split.backends) {
        const peer: EntityRef = { kind: 'Service', namespace, name: backend.service };
        items.push(trafficMetrics(resource, windowText, byBackend.get(refKey(peer)) ?? EMPTY, { direction: 'to', resource: peer }));
      }
    } else {
      for (const direction of ['from', 'to'] as const) {
        for (const [peerKey, value] of golden.window(golden.edges(ref, direction), ticks)) {
          items.push(trafficMetrics(resource, windowText, value, { direction, resource: parseRefKey(peerKey) }));
        }
      }
    }
    return list(resource, items);
  });

  app.get<{ Params: SeriesParams; Querystring: RangeQuery }>(`/api/v1/metrics/namespaces/:namespace/:plural/:name/series`, { schema: { params: SeriesParams, querystring: RangeQuery } }, async (request) => {
    const { namespace, plural, name } = request.params;
    const rangeText = request.query.range ?? DEFAULT_RANGE;
    const ticks = golden.ticksFor(parseWindow(rangeText, 'range'));
    const { ref } = await subject(plural, namespace, name);
    const points = golden.series(golden.resource(ref), ticks).map(({ tick, golden: g }) => ({ timestamp: golden.timeOf(tick) ?? 0, ...chartMetrics(g) }));
    return { resource: { kind: KIND_OF[plural], namespace, name }, stepSeconds: golden.stepSeconds, range: rangeText, points };
  });

  app.get<{ Querystring: WindowQuery }>(TOPOLOGY_PATH, { schema: { querystring: WindowQuery } }, async (request) => {
    const windowText = request.query.window ?? DEFAULT_WINDOW;
    const ticks = golden.ticksFor(parseWindow(windowText, 'window'));
    const entities = new Map<string, EntityRef>();
    for (const kind of ['Service', 'Workload'] as const) {
      for (const r of await store.list({ kind })) entities.set(refKey({ kind, namespace: r.metadata.namespace, name: r.metadata.name }), { kind, namespace: r.metadata.namespace, name: r.metadata.name });
    }
    for (const r of golden.seenEntities()) entities.set(refKey(r), r);
    const nodes = [...entities.values()].map((ref) => {
      const value = golden.window(golden.resource(ref), ticks).get('');
      return { id: nodeId(refKey(ref)), kind: ref.kind === 'Service' ? 'service' : 'workload', namespace: ref.namespace, name: ref.name, health: health(value), metrics: chartMetrics(value ?? EMPTY) };
    }).sort((a, b) => (a.id < b.id ? -1 : 1));
    const edges = golden.topologyEdges().flatMap((select) => [...golden.window(select, ticks)]).map(([key, value]) => {
      const [source, target] = key.split('\u0000').map(nodeId) as [string, string];
      return { id: `${source}->${target}`, source, target, health: health(value), metrics: chartMetrics(value) };
    });
    return { timestamp: now(), window: windowText, nodes, edges };
  });
}

const EMPTY: Golden = { requests: 0, successCount: 0, failureCount: 0, rps: 0, successRate: null, p50: null, p90: null, p95: null, p99: null };

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** What charts and the graph show: rate, success and latency (ms; null without requests). */
function chartMetrics(g: Golden): { requests: number; rps: number; successRate: number | null; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null } {
  return { requests: g.requests, rps: round3(g.rps), successRate: g.successRate, p50Ms: g.p50, p95Ms: g.p95, p99Ms: g.p99 };
}

/** Graph ids: `service/<ns>/<name>`, `workload/<ns>/<name>`. */
const nodeId = (key: string): string => key.replace(/^Service\//, 'service/').replace(/^Workload\//, 'workload/');

function parseRefKey(key: string): EntityRef {
  const [kind, namespace, name] = key.split('/') as ['Service' | 'Workload', string, string];
  return { kind, namespace, name };
}

/** SMI's metric list: latencies in ms, counts as integers, values as strings (Kubernetes quantities). */
function smiMetrics(g: Golden): Array<{ name: string; unit?: string; value: string }> {
  const latency = (name: string, ms: number | null): { name: string; unit: string; value: string } => ({ name, unit: 'ms', value: ms === null ? '0' : String(ms) });
  return [
    latency('p99_response_latency', g.p99),
    latency('p90_response_latency', g.p90),
    latency('p50_response_latency', g.p50),
    { name: 'success_count', value: String(g.successCount) },
    { name: 'failure_count', value: String(g.failureCount) },
  ];
}

export { METRICS_PLURALS };
