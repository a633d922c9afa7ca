/**
 * Latency histograms: HDR histograms in microseconds, moved between threads and
 * hosts in HdrHistogram's compressed base64 encoding so merging is exact (counts
 * are added bucket by bucket; percentiles are never averaged).
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** 1 us to 1 h at 3 significant digits (0.1% resolution); grows if a value is larger. */
export function newHistogram(): Histogram {
  return build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });
}

export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

/** The exact sum of encoded histograms. */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const one of encoded) {
    const part = decodeHistogram(one);
    total.add(part);
  }
  return total;
}

export interface LatencySummaryMs {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p75: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export const PERCENTILES: ReadonlyArray<readonly [keyof LatencySummaryMs, number]> = [
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p95', 95],
  ['p99', 99],
  ['p999', 99.9],
];

export function summarize(histogram: Histogram): LatencySummaryMs {
  const ms = (us: number): number => us / 1000;
  const empty = histogram.totalCount === 0;
  const summary: LatencySummaryMs = {
    count: histogram.totalCount,
    min: empty ? 0 : ms(histogram.minNonZeroValue),
    mean: empty ? 0 : ms(histogram.mean),
    p50: 0,
    p75: 0,
    p90: 0,
    p95: 0,
    p99: 0,
    p999: 0,
    max: ms(histogram.maxValue),
  };
  for (const [key, percentile] of PERCENTILES) summary[key] = ms(histogram.getValueAtPercentile(percentile));
  return summary;
}
