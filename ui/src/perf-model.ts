/**
 * What the Performance page draws from an SMP document: the percentile curve
 * and a latency distribution (Weft's histogram when present, else the share of
 * requests between consecutive percentiles).
 */
import type { SmpDocument } from './api/mesh';

export interface PercentilePoint {
  percentile: number;
  latencyMs: number;
}

/** `p50`, `p99_9`, `p999`... and min/max as 0/100, sorted by percentile. */
export function percentiles(smp: SmpDocument): PercentilePoint[] {
  const points = new Map<number, number>();
  for (const p of smp.result.weft?.percentiles ?? []) points.set(p.percentile, p.latencyMs);
  for (const [key, value] of Object.entries(smp.result.latencies_ms ?? {})) {
    if (typeof value !== 'number') continue;
    const m = /^p(\d+)(?:[._](\d+))?$/.exec(key);
    if (m) {
      const p = m[2] !== undefined ? Number(`${m[1]}.${m[2]}`) : m[1]!.length > 2 ? Number(`${m[1]!.slice(0, 2)}.${m[1]!.slice(2)}`) : Number(m[1]);
      if (!points.has(p)) points.set(p, value);
    } else if (key === 'max' && !points.has(100)) points.set(100, value);
    else if (key === 'min' && !points.has(0)) points.set(0, value);
  }
  return [...points].map(([percentile, latencyMs]) => ({ percentile, latencyMs })).sort((a, b) => a.percentile - b.percentile);
}

/** Percentile -> "nines" (50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3), so the tail gets room on the x axis; 100 is drawn at 4. */
export function nines(percentile: number): number {
  return percentile >= 100 ? 4 : -Math.log10(1 - percentile / 100);
}

export function fromNines(value: number): string {
  if (value >= 4) return 'max';
  const p = 100 * (1 - 10 ** -value);
  return `p${p >= 99.9 ? p.toFixed(1) : p >= 99 ? p.toFixed(1).replace(/\.0$/, '') : p.toFixed(0)}`;
}

export interface Band {
  /** Upper bound of the band, ms. */
  latencyMs: number;
  /** Share of requests in the band, %. */
  percent: number;
}

export function distribution(smp: SmpDocument): { bands: Band[]; exact: boolean } {
  const histogram = smp.result.weft?.histogram;
  if (histogram && histogram.length > 0) {
    const rows = histogram.map((b) => ({ latencyMs: b['latencyMs'] ?? b['le'] ?? b['value'] ?? 0, count: b['count'] ?? 0 }));
    const total = rows.reduce((sum, b) => sum + b.count, 0) || 1;
    return { bands: rows.map((b) => ({ latencyMs: b.latencyMs, percent: (100 * b.count) / total })), exact: true };
  }
  const points = percentiles(smp);
  const bands: Band[] = [];
  for (let i = 1; i < points.length; i++) bands.push({ latencyMs: points[i]!.latencyMs, percent: points[i]!.percentile - points[i - 1]!.percentile });
  return { bands, exact: false };
}

export function endpoint(smp: SmpDocument): string {
  const url = smp.config?.clients?.[0]?.endpoint_url;
  return Array.isArray(url) ? (url[0] ?? '') : (url ?? '');
}
