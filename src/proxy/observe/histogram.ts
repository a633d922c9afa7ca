/**
 * Fixed-bucket histogram data: one counts array per histogram plus count, sum,
 * min and max. Recording is a short scan over at most ~20 bounds and four field
 * updates; nothing is allocated.
 *
 * Quantiles (for Envoy's `/stats` summaries) are estimated from the buckets by
 * linear interpolation inside the bucket holding the rank, with the bucket's
 * edges clamped to the exact min and max seen, so P0 and P100 are exact and the
 * others are accurate to the bucket resolution.
 */

/** Envoy's default histogram buckets, in milliseconds (`/stats/prometheus` `le` values). */
export const ENVOY_MS_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** Prometheus client defaults extended for proxies, in seconds (labelled `weft_*` histograms). */
export const PROMETHEUS_SECONDS_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/** Envoy's `supported_quantiles`, in percent. */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

/** A histogram as plain data, for snapshots sent between processes. `counts` has one more entry than the bounds (+Inf). */
export interface HistogramSnapshot {
  counts: number[];
  count: number;
  sum: number;
  /** 0 when count is 0. */
  min: number;
  max: number;
}

export class HistogramData {
  /** Per-bucket (not cumulative) counts; the last entry is the +Inf bucket. */
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  record(value: number): void {
    // A NaN or negative sample is a caller's clock bug; dropping it keeps sum and quantiles meaningful.
    if (!(value >= 0)) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** Estimated value at quantile `q` in [0, 1]; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * this.count;
    let cumulative = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!;
      if (inBucket === 0) continue;
      if (cumulative + inBucket >= rank) {
        const lower = Math.max(i === 0 ? 0 : this.bounds[i - 1]!, this.min);
        const upper = Math.min(i < this.bounds.length ? this.bounds[i]! : this.max, this.max);
        return lower + ((upper - lower) * (rank - cumulative)) / inBucket;
      }
      cumulative += inBucket;
    }
    return this.max;
  }

  toSnapshot(): HistogramSnapshot {
    const empty = this.count === 0;
    return {
      counts: Array.from(this.counts),
      count: this.count,
      sum: this.sum,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
    };
  }

  /** Adds another histogram's data (same bounds) into this one. */
  add(other: HistogramSnapshot): void {
    if (other.count === 0) return;
    if (other.counts.length !== this.counts.length) {
      throw new Error(`histogram bucket layout mismatch: ${other.counts.length} vs ${this.counts.length} buckets`);
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }
}
