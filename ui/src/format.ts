/** Number formatting and health classes shared by the pages. */
import type { GoldenMetrics } from './api/mesh';

export type Health = 'ok' | 'warn' | 'bad' | 'idle';

/** Healthy at 99% success or better, degraded from 95%, failing below; idle without traffic. */
export function health(metrics: GoldenMetrics | undefined): Health {
  if (!metrics || metrics.rps <= 0 || metrics.successRate === undefined) return 'idle';
  if (metrics.successRate >= 0.99) return 'ok';
  if (metrics.successRate >= 0.95) return 'warn';
  return 'bad';
}

export const fmtRps = (rps: number | undefined): string => (rps === undefined ? '—' : rps >= 100 ? rps.toFixed(0) : rps >= 10 ? rps.toFixed(1) : rps.toFixed(2));
export const fmtPct = (rate: number | undefined): string => (rate === undefined ? '—' : `${(rate * 100).toFixed(rate >= 0.999 || rate === 0 ? 0 : 1)}%`);
export const fmtMs = (ms: number | undefined): string => (ms === undefined ? '—' : ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);

export function metricsLabel(m: GoldenMetrics | undefined): string {
  if (!m || m.rps <= 0) return 'no traffic';
  return `${fmtRps(m.rps)} rps · ${fmtPct(m.successRate)} · p99 ${fmtMs(m.p99Ms)}`;
}
