/**
 * The stats interfaces every component uses. Names follow Envoy's dotted
 * convention (`cluster.<name>.upstream_rq_total`); the store renders them as
 * Envoy does on `/stats`, and as Prometheus text on `/stats/prometheus`
 * (`envoy_cluster_upstream_rq_total{envoy_cluster_name="<name>"}`).
 *
 * Components declare their stats as one typed list and derive them in one call:
 *   const ROUTER_STATS = { counters: ['rq_total', 'rq_timeout'], gauges: [], histograms: [] } as const;
 *   const stats = defineStats(scope, ROUTER_STATS);   // stats.rq_total.inc()
 */

export interface Counter {
  inc(n?: number): void;
  value(): number;
}

export interface Gauge {
  set(v: number): void;
  inc(n?: number): void;
  dec(n?: number): void;
  value(): number;
}

export interface Histogram {
  /** Records one sample in milliseconds. */
  record(ms: number): void;
}

/** Prometheus-native labelled metrics (`weft_requests_total{...}`), outside Envoy's dotted tree. */
export interface LabelledCounter {
  /** `labels` values in the order of the declared label names. Cached per distinct tuple. */
  inc(labels: readonly string[], n?: number): void;
}

export interface LabelledHistogram {
  /** Records one sample in seconds. */
  record(labels: readonly string[], seconds: number): void;
}

export interface StatsScope {
  counter(name: string): Counter;
  gauge(name: string): Gauge;
  histogram(name: string): Histogram;
  /** A child scope: `scope('cluster.backend.')`. The trailing dot is the caller's. */
  scope(prefix: string): StatsScope;
}

export interface StatsDeclaration {
  readonly counters: readonly string[];
  readonly gauges: readonly string[];
  readonly histograms: readonly string[];
}

export type DeclaredStats<D extends StatsDeclaration> = { [K in D['counters'][number]]: Counter } & {
  [K in D['gauges'][number]]: Gauge;
} & { [K in D['histograms'][number]]: Histogram };

export function defineStats<D extends StatsDeclaration>(scope: StatsScope, declaration: D): DeclaredStats<D> {
  const out: Record<string, Counter | Gauge | Histogram> = {};
  for (const name of declaration.counters) out[name] = scope.counter(name);
  for (const name of declaration.gauges) out[name] = scope.gauge(name);
  for (const name of declaration.histograms) out[name] = scope.histogram(name);
  return out as DeclaredStats<D>;
}
