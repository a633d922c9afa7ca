/**
 * TypeBox schemas of the routes the web UI uses beyond the resource API:
 * golden metrics (SMI TrafficMetrics, time series, topology), proxy detail and
 * config dump, performance runs. The same schemas validate the routes' params
 * and query strings and describe them in /openapi.json (`uiOpenApiPaths`).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const SMI_METRICS_PREFIX = '/apis/metrics.smi-spec.io/v1alpha1';
export const TOPOLOGY_PATH = '/api/v1/topology';
export const PROXIES_V1_PATH = '/api/v1/proxies';
export const PERF_RUNS_PATH = '/api/v1/perf/runs';

export const METRICS_PLURALS = ['services', 'workloads', 'trafficsplits'] as const;
export type MetricsPlural = (typeof METRICS_PLURALS)[number];

const Name = Type.String({ minLength: 1, maxLength: 253 });
const Plural = Type.Union(METRICS_PLURALS.map((p) => Type.Literal(p)));
const Duration = (description: string): TSchema => Type.String({ pattern: '^[0-9]+(s|m|h)$', description });

export const SmiListParams = Type.Object({ namespace: Name, plural: Plural });
export type SmiListParams = Static<typeof SmiListParams>;
export const SmiItemParams = Type.Object({ namespace: Name, plural: Plural, name: Name });
export type SmiItemParams = Static<typeof SmiItemParams>;
export const SeriesParams = SmiItemParams;
export type SeriesParams = SmiItemParams;
export const WindowQuery = Type.Object({ window: Type.Optional(Duration('Window the metrics cover, 5s..15m (default 30s).')) });
export type WindowQuery = { window?: string };
export const RangeQuery = Type.Object({ range: Type.Optional(Duration('How far back the series goes, 5s..15m (default 15m).')) });
export type RangeQuery = { range?: string };
export const NodeIdParams = Type.Object({ nodeId: Type.String({ minLength: 1, maxLength: 1024 }) });
export type NodeIdParams = Static<typeof NodeIdParams>;
export const RunIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export type RunIdParams = Static<typeof RunIdParams>;

// --- responses -----------------------------------------------------------------

const Nullable = <T extends TSchema>(schema: T): TSchema => Type.Union([schema, Type.Null()]);
const ObjectReference = Type.Object({ kind: Type.String(), namespace: Type.String(), name: Type.String() });

export const TrafficMetricsSchema = Type.Object({
  kind: Type.Literal('TrafficMetrics'),
  apiVersion: Type.Literal('metrics.smi-spec.io/v1alpha1'),
  metadata: Type.Object({ name: Type.String(), namespace: Type.String(), creationTimestamp: Type.String() }),
  timestamp: Type.String({ format: 'date-time' }),
  window: Type.String(),
  resource: ObjectReference,
  edge: Type.Object({ direction: Type.Union([Type.Literal('from'), Type.Literal('to')]), side: Type.Optional(Type.String()), resource: Nullable(ObjectReference) }),
  metrics: Type.Array(Type.Object({ name: Type.String(), unit: Type.Optional(Type.String()), value: Type.String() }), {
    description: 'p99/p90/p50_response_latency (unit ms), success_count, failure_count over the window.',
  }),
});

export const TrafficMetricsListSchema = Type.Object({
  kind: Type.Literal('TrafficMetricsList'),
  apiVersion: Type.Literal('metrics.smi-spec.io/v1alpha1'),
  metadata: Type.Object({}),
  resource: Type.Optional(ObjectReference),
  items: Type.Array(TrafficMetricsSchema),
});

const Ms = Nullable(Type.Number({ description: 'milliseconds' }));
const Rate = Nullable(Type.Number({ minimum: 0, maximum: 1 }));

const ChartMetrics = { requests: Type.Integer(), rps: Type.Number(), successRate: Rate, p50Ms: Ms, p95Ms: Ms, p99Ms: Ms };

export const MetricsSeriesSchema = Type.Object({
  resource: ObjectReference,
  stepSeconds: Type.Number(),
  range: Type.String(),
  points: Type.Array(Type.Object({ timestamp: Type.Number({ description: 'Unix ms of the point (the end of its 5 s step)' }), ...ChartMetrics })),
});

const Health = Type.Union(['idle', 'healthy', 'degraded', 'failing'].map((h) => Type.Literal(h)));

export const TopologySchema = Type.Object({
  timestamp: Type.String({ format: 'date-time' }),
  window: Type.String(),
  nodes: Type.Array(Type.Object({
    id: Type.String({ description: '`service/<ns>/<name>` or `workload/<ns>/<name>`' }),
    kind: Type.Union([Type.Literal('service'), Type.Literal('workload')]),
    namespace: Type.String(),
    name: Type.String(),
    health: Health,
    metrics: Type.Object(ChartMetrics),
  })),
  edges: Type.Array(Type.Object({ id: Type.String(), source: Type.String(), target: Type.String(), health: Health, metrics: Type.Object(ChartMetrics) })),
});

const TypeStatusSchema = Type.Object({
  type: Type.String({ description: 'LDS, RDS, CDS, EDS, SDS' }),
  typeUrl: Type.String(),
  sentVersion: Type.String(),
  ackedVersion: Type.String(),
  state: Type.Union([Type.Literal('SYNCED'), Type.Literal('SENT'), Type.Literal('NACKED'), Type.Literal('NOT_SENT')]),
  nackError: Type.Optional(Type.Object({ rejectedVersion: Type.String(), code: Type.Integer(), message: Type.String(), at: Type.String() })),
  subscribed: Type.Array(Type.String()),
});

export const ProxyDetailSchema = Type.Object({
  nodeId: Type.String(),
  nodeCluster: Type.String(),
  workload: Type.String(),
  namespace: Type.String(),
  nodeMetadata: Type.Unknown(),
  protocol: Type.String(),
  peer: Type.String(),
  connectedAt: Type.String(),
  streamId: Type.Integer(),
  types: Type.Record(Type.String(), Type.Unknown(), { description: 'the raw per-type-URL status, as `GET /api/proxies` (weft proxies) shows it' }),
  adminAddress: Nullable(Type.String()),
  xds: Type.Array(TypeStatusSchema),
  metrics: Type.Object({ lastScrapeAt: Nullable(Type.String()), lastError: Nullable(Type.String()) }),
  certExpiry: Nullable(Type.String({ format: 'date-time', description: "earliest expiry among the proxy's certificates (admin /certs); null when it reports none" })),
});

export const PerfRunSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
  options: Type.Unknown(),
  startedAt: Type.String(),
  finishedAt: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  progress: Type.Optional(Type.Unknown()),
  result: Type.Optional(Type.Unknown({ description: 'SMP performance result document' })),
});

// --- OpenAPI -------------------------------------------------------------------

type Operation = Record<string, unknown>;
const json = (schema: unknown): Record<string, { schema: unknown }> => ({ 'application/json': { schema: plain(schema) } });
/** TypeBox schemas carry symbol-keyed metadata; a JSON round trip leaves plain JSON Schema. */
const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema)) as unknown;
const status = { description: 'failure', content: { 'application/json': { schema: { $ref: '#/components/schemas/Status' } } } };
const params = (schema: TSchema, where: 'path' | 'query'): unknown[] =>
  Object.entries((plain(schema) as { properties: Record<string, unknown> }).properties).map(([name, s]) => ({ name, in: where, required: where === 'path', schema: s }));

export function uiOpenApiPaths(): Record<string, Record<string, Operation>> {
  const smiItem = `${SMI_METRICS_PREFIX}/namespaces/{namespace}/{plural}/{name}`;
  return {
    [`${SMI_METRICS_PREFIX}/namespaces/{namespace}/{plural}`]: {
      get: { operationId: 'listTrafficMetrics', summary: 'SMI TrafficMetrics of every service, workload or traffic split in a namespace', parameters: [...params(SmiListParams, 'path'), ...params(WindowQuery, 'query')], responses: { 200: { description: 'TrafficMetricsList', content: json(TrafficMetricsListSchema) }, 400: status } },
    },
    [smiItem]: {
      get: { operationId: 'readTrafficMetrics', summary: 'SMI TrafficMetrics of one resource', parameters: [...params(SmiItemParams, 'path'), ...params(WindowQuery, 'query')], responses: { 200: { description: 'TrafficMetrics', content: json(TrafficMetricsSchema) }, 400: status, 404: status } },
    },
    [`${smiItem}/edges`]: {
      get: { operationId: 'listTrafficMetricsEdges', summary: 'SMI TrafficMetrics per edge of one resource (a split: one per backend)', parameters: [...params(SmiItemParams, 'path'), ...params(WindowQuery, 'query')], responses: { 200: { description: 'TrafficMetricsList', content: json(TrafficMetricsListSchema) }, 400: status, 404: status } },
    },
    '/api/v1/metrics/namespaces/{namespace}/{plural}/{name}/series': {
      get: { operationId: 'readMetricsSeries', summary: 'Golden metrics per 5 s point, for charts', parameters: [...params(SeriesParams, 'path'), ...params(RangeQuery, 'query')], responses: { 200: { description: 'points', content: json(MetricsSeriesSchema) }, 400: status, 404: status } },
    },
    [TOPOLOGY_PATH]: {
      get: { operationId: 'readTopology', summary: 'Services and workloads with health, edges with rps / success rate / latency', parameters: params(WindowQuery, 'query'), responses: { 200: { description: 'graph', content: json(TopologySchema) }, 400: status } },
    },
    [PROXIES_V1_PATH]: {
      get: { operationId: 'listProxies', summary: 'Connected proxies with xDS state per type', responses: { 200: { description: 'proxies', content: json(Type.Object({ items: Type.Array(ProxyDetailSchema) })) } } },
    },
    [`${PROXIES_V1_PATH}/{nodeId}`]: {
      get: { operationId: 'readProxy', summary: 'One proxy: xDS versions, ACK/NACK with reason, scrape state, certificate expiry', parameters: params(NodeIdParams, 'path'), responses: { 200: { description: 'proxy', content: json(ProxyDetailSchema) }, 404: status } },
    },
    [`${PROXIES_V1_PATH}/{nodeId}/config_dump`]: {
      get: { operationId: 'readProxyConfigDump', summary: "The proxy's /config_dump, private keys and secrets redacted", parameters: params(NodeIdParams, 'path'), responses: { 200: { description: 'Envoy-style config dump', content: json(Type.Unknown()) }, 404: status, 502: status } },
    },
    [PERF_RUNS_PATH]: {
      post: { operationId: 'startPerfRun', summary: 'Start a load run (weft perf options)', requestBody: { required: true, content: json(Type.Object({}, { additionalProperties: true, description: 'weft perf options: url, rps, duration, connections, ...' })) }, responses: { 202: { description: 'started', content: json(PerfRunSchema) }, 400: status, 503: status } },
      get: { operationId: 'listPerfRuns', summary: 'Runs kept in memory, newest first', responses: { 200: { description: 'runs', content: json(Type.Object({ items: Type.Array(PerfRunSchema) })) } } },
    },
    [`${PERF_RUNS_PATH}/{id}`]: {
      get: { operationId: 'readPerfRun', summary: 'A run; `result` is its SMP document once finished', parameters: params(RunIdParams, 'path'), responses: { 200: { description: 'run', content: json(PerfRunSchema) }, 404: status } },
    },
    [`${PERF_RUNS_PATH}/{id}/events`]: {
      get: { operationId: 'watchPerfRun', summary: 'Server-sent events: `progress` (rps, p99, percent) then `result` or `error`', parameters: params(RunIdParams, 'path'), responses: { 200: { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: status } },
    },
  };
}
