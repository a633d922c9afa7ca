/**
 * `weft perf compare A B`: each latency percentile and the throughput of two
 * runs side by side, the change from A (the baseline) to B, and a verdict
 * against a tolerance — the question a performance regression gate asks.
 */

/** What a comparison needs from a run: achieved throughput and latency percentiles. */
export interface RunSummary {
  /** Requests per second achieved. */
  qps: number;
  /** Latency in milliseconds by percentile name (`p50`, `p99`, `p99.9`, `max`, ...). */
  latencyMs: Readonly<Record<string, number>>;
}

export type Change = 'better' | 'worse' | 'same';

export interface ComparisonRow {
  metric: string;
  unit: 'ms' | 'rps';
  baseline: number;
  candidate: number;
  /** candidate − baseline. */
  delta: number;
  /** delta as a percentage of the baseline (null when the baseline is 0). */
  deltaPercent: number | null;
  /** Judged in the metric's direction: lower latency and higher throughput are better. */
  change: Change;
}

export interface Comparison {
  rows: ComparisonRow[];
  tolerancePercent: number;
  /** `regression` when any metric got worse by more than the tolerance. */
  verdict: 'pass' | 'regression';
}

/** The percentiles a comparison shows, in order, when both runs have them. */
const PERCENTILE_ORDER = ['min', 'p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'max', 'average'];

function row(metric: string, unit: 'ms' | 'rps', baseline: number, candidate: number, tolerancePercent: number): ComparisonRow {
  const delta = candidate - baseline;
  const deltaPercent = baseline === 0 ? null : (delta / baseline) * 100;
  const higherIsBetter = unit === 'rps';
  // With a zero baseline any change is beyond every tolerance.
  const beyondTolerance = deltaPercent === null ? delta !== 0 : Math.abs(deltaPercent) > tolerancePercent;
  let change: Change = 'same';
  if (beyondTolerance) change = delta > 0 === higherIsBetter ? 'better' : 'worse';
  return { metric, unit, baseline, candidate, delta, deltaPercent, change };
}

/** Compares `candidate` against `baseline`; a metric changes only when it moves more than `tolerancePercent`. */
export function compareRuns(baseline: RunSummary, candidate: RunSummary, tolerancePercent = 5): Comparison {
  if (!(tolerancePercent >= 0)) throw new RangeError(`tolerance must be a percentage ≥ 0, got ${tolerancePercent}`);
  const names = PERCENTILE_ORDER.filter((name) => name in baseline.latencyMs && name in candidate.latencyMs);
  const rows = names.map((name) => row(name, 'ms', baseline.latencyMs[name]!, candidate.latencyMs[name]!, tolerancePercent));
  rows.push(row('throughput', 'rps', baseline.qps, candidate.qps, tolerancePercent));
  const verdict = rows.some((r) => r.change === 'worse') ? 'regression' : 'pass';
  return { rows, tolerancePercent, verdict };
}

/** The SMP fields a summary reads (PerformanceTestResult), and Weft's own fuller percentiles. */
interface SmpResultFields {
  actual_QPS?: unknown;
  latencies_ms?: Record<string, unknown>;
}

/** Weft's percentile names (`weft.latencyMs`) as a comparison shows them. */
const WEFT_PERCENTILES: Readonly<Record<string, string>> = { p75: 'p75', p95: 'p95', p999: 'p99.9' };

/**
 * A comparison's view of an SMP document (as `weft perf run -o` writes it, or
 * a bare PerformanceTestResult): throughput, SMP's latencies, and the extra
 * percentiles Weft keeps under `weft.latencyMs` when present. Throws when the
 * SMP numbers are missing.
 */
export function summarizeSmp(document: Readonly<Record<string, unknown>>, what = 'result'): RunSummary {
  const nested = document['performance_test_result'];
  const result = (typeof nested === 'object' && nested !== null ? nested : document) as SmpResultFields;
  const qps = result.actual_QPS;
  if (typeof qps !== 'number' || typeof result.latencies_ms !== 'object' || result.latencies_ms === null) {
    throw new Error(`${what} is not an SMP performance result: it needs performance_test_result.actual_QPS and .latencies_ms`);
  }
  const latencyMs: Record<string, number> = {};
  for (const [name, value] of Object.entries(result.latencies_ms)) if (typeof value === 'number') latencyMs[name] = value;
  const weft = (document['weft'] as { latencyMs?: Record<string, unknown> } | undefined)?.latencyMs;
  for (const [name, shown] of Object.entries(WEFT_PERCENTILES)) {
    const value = weft?.[name];
    if (typeof value === 'number') latencyMs[shown] = value;
  }
  return { qps, latencyMs };
}

/** What each label means when the two runs differ in it: they did not measure the same thing. */
const MEASURED_LABELS: ReadonlyArray<[label: string, what: string]> = [
  ['weft.dev/protocol', 'protocol'],
  ['weft.dev/mode', 'load mode'],
];

function labelsOf(document: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const nested = document['performance_test_result'];
  const labels = ((typeof nested === 'object' && nested !== null ? nested : document) as { labels?: unknown }).labels;
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, unknown>) : {};
}

/**
 * Why a comparison of two SMP documents may mislead: different protocols or
 * load modes, or a run that was partial or missed its rate. Empty when none.
 */
export function comparisonCaveats(baseline: Readonly<Record<string, unknown>>, candidate: Readonly<Record<string, unknown>>, names: readonly [string, string]): string[] {
  const labels = [labelsOf(baseline), labelsOf(candidate)] as const;
  const caveats: string[] = [];
  for (const [label, what] of MEASURED_LABELS) {
    const [a, b] = [labels[0][label], labels[1][label]];
    if (a !== undefined && b !== undefined && a !== b) caveats.push(`the runs differ in ${what}: ${String(a)} vs ${String(b)}`);
  }
  labels.forEach((l, i) => {
    if (l['weft.dev/partial'] === 'true') caveats.push(`${names[i]} is a partial result (stopped early)`);
    if (l['weft.dev/rate-not-reached'] === 'true') caveats.push(`${names[i]} did not reach its requested rate`);
  });
  return caveats;
}
