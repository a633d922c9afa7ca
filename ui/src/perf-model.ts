/**
 * What the Performance page draws from an SMP document: the percentile curve
 * and the latency distribution. With Weft's HdrHistogram (`weft.histograms`)
 * both are exact, read at 0.1% steps; otherwise they come from the SMP
 * percentiles alone (fewer points, and the distribution is the share of
 * requests between consecutive percentiles).
 */
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import type { SmpConfig, SmpDocument, SmpTestResult } from './api/mesh';

export interface PercentilePoint {
  percentile: number;
  latencyMs: number;
}

export interface Band {
  /** Upper bound of the band, ms. */
  latencyMs: number;
  /** Share of requests in the band, %. */
  percent: number;
}

export interface ResultView {
  config: SmpConfig;
  result: SmpTestResult;
  latencies: Record<string, number>;
  percentiles: PercentilePoint[];
  bands: Band[];
  /** Whether percentiles and bands come from the full histogram. */
  exact: boolean;
}

const cache = new WeakMap<SmpDocument, ResultView>();

export function view(smp: SmpDocument): ResultView {
  let v = cache.get(smp);
  if (v === undefined) {
    v = build(smp);
    cache.set(smp, v);
  }
  return v;
}

function build(smp: SmpDocument): ResultView {
  const config = smp.performance_test_config ?? smp.config ?? {};
  const result = smp.performance_test_result ?? smp.result ?? {};
  const latencies = { ...result.latencies_ms, ...smp.weft?.latencyMs };
  const fromHistogram = histogramPercentiles(smp.weft?.histograms?.corrected);
  if (fromHistogram) return { config, result, latencies, percentiles: fromHistogram, bands: bandsFrom(fromHistogram), exact: true };
  const points = summaryPercentiles(latencies);
  const bands: Band[] = [];
  for (let i = 1; i < points.length; i++) bands.push({ latencyMs: points[i]!.latencyMs, percent: points[i]!.percentile - points[i - 1]!.percentile });
  return { config, result, latencies, percentiles: points, bands, exact: false };
}

/** 0.1% steps to 99%, then finer into the tail, and the max. */
function histogramPercentiles(base64: string | undefined): PercentilePoint[] | undefined {
  if (!base64) return undefined;
  try {
    const histogram = decodeFromCompressedBase64(base64);
    if (histogram.totalCount === 0) return undefined;
    const steps: number[] = [];
    for (let p = 0; p <= 990; p++) steps.push(p / 10);
    for (const p of [99.5, 99.9, 99.95, 99.99, 100]) steps.push(p);
    const points = steps.map((percentile) => ({ percentile, latencyMs: histogram.getValueAtPercentile(percentile) / 1000 }));
    histogram.destroy();
    return points;
  } catch {
    return undefined; // not a histogram we can read: fall back to the SMP percentiles
  }
}

/** About 20 log-spaced bands between the fastest and slowest request, each with its share of requests. */
function bandsFrom(points: PercentilePoint[]): Band[] {
  const min = Math.max(0.001, points[0]!.latencyMs);
  const max = Math.max(min * 1.01, points[points.length - 1]!.latencyMs);
  const count = 20;
  const edges = Array.from({ length: count }, (_, i) => min * (max / min) ** ((i + 1) / count));
  const bands = edges.map((latencyMs) => ({ latencyMs, percent: 0 }));
  for (let i = 1; i < points.length; i++) {
    const share = points[i]!.percentile - points[i - 1]!.percentile;
    const index = edges.findIndex((edge) => points[i]!.latencyMs <= edge * 1.000001);
    bands[index === -1 ? count - 1 : index]!.percent += share;
  }
  return bands;
}

/** `p50`, `p999` (99.9), `p99_9`... and min/max as 0/100, sorted by percentile. */
function summaryPercentiles(latencies: Record<string, number>): PercentilePoint[] {
  const points = new Map<number, number>();
  for (const [key, value] of Object.entries(latencies)) {
    if (typeof value !== 'number') continue;
    const m = /^p(\d+)(?:[._](\d+))?$/.exec(key);
    if (m) {
      const p = m[2] !== undefined ? Number(`${m[1]}.${m[2]}`) : m[1]!.length > 2 ? Number(`${m[1]!.slice(0, 2)}.${m[1]!.slice(2)}`) : Number(m[1]);
      points.set(p, value);
    } else if (key === 'max') points.set(100, value);
    else if (key === 'min') points.set(0, value);
  }
  return [...points].map(([percentile, latencyMs]) => ({ percentile, latencyMs })).sort((a, b) => a.percentile - b.percentile);
}

/** Percentile -> "nines" (50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3), so the tail gets room on the x axis; 100 is drawn at 4.5. */
export function nines(percentile: number): number {
  return percentile >= 100 ? 4.5 : -Math.log10(1 - percentile / 100);
}

export function fromNines(value: number): string {
  if (value >= 4.5) return 'max';
  const p = 100 * (1 - 10 ** -value);
  return `p${p >= 99 ? Number(p.toFixed(2)) : p.toFixed(0)}`;
}

export function endpoint(config: SmpConfig): string {
  const url = config.clients?.[0]?.endpoint_url;
  return Array.isArray(url) ? (url[0] ?? '') : (url ?? '');
}
