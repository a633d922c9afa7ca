/**
 * The golden metrics' memory: per scraped proxy, per request series, a ring of
 * cumulative samples taken at shared 5 s ticks (15 min by default). A sample
 * is one vector: [requests, duration count, duration sum, cumulative duration
 * buckets...]. Increments between ticks are computed Prometheus style: a value
 * that goes down is a counter reset (the proxy restarted), a series missing
 * from a scrape that succeeded starts again from zero, and a series seen
 * first at a tick when its proxy was not scraped yet has an unknown baseline
 * (its first sample only sets it, never counts).
 */

export const DEFAULT_INTERVAL_MS = 5000;
/** 15 min at 5 s. */
export const DEFAULT_RETENTION_TICKS = 180;

/** What a request series is about; the label values the proxy reported, plus who reported them. */
export interface SeriesLabels {
  reporter: 'source' | 'destination';
  sourceWorkload: string;
  destinationService: string;
  destinationWorkload: string;
  destinationCluster: string;
  responseCode: number;
}

/** The proxy a series came from. */
export interface TargetIdentity {
  nodeId: string;
  /** The proxy's namespace (node metadata NAMESPACE): names without one resolve in it. */
  namespace: string;
  /** The proxy's workload (node metadata WORKLOAD, else node cluster). */
  workload: string;
}

export interface Series {
  readonly key: string;
  readonly labels: SeriesLabels;
  readonly target: Target;
  /** Tick of each slot (-1 empty). */
  readonly ticks: Int32Array;
  /** `width` values per slot. */
  readonly values: Float64Array;
  lastTick: number;
}

export interface Target {
  readonly identity: TargetIdentity;
  /** Ticks at which a scrape of this target succeeded (slot per tick, -1 empty). */
  readonly scraped: Int32Array;
  readonly series: Map<string, Series>;
  lastScrapeAt: string | undefined;
  lastError: string | undefined;
  lastTick: number;
}

/** Indexes of the sample vector. */
export const REQUESTS = 0;
export const DURATION_COUNT = 1;
export const DURATION_SUM = 2;
export const FIRST_BUCKET = 3;

export class SeriesStore {
  /** The latest started tick (-1 before the first). */
  tick = -1;
  /** The latest tick whose scrape round finished: what queries read up to. */
  completedTick = -1;
  /** Bucket upper bounds in seconds (without +Inf), fixed by the first scrape that had any. */
  bounds: readonly number[] = [];
  readonly targets = new Map<string, Target>();
  private readonly tickTimes: Float64Array;

  constructor(
    readonly capacity: number = DEFAULT_RETENTION_TICKS + 1,
    readonly intervalMs: number = DEFAULT_INTERVAL_MS,
  ) {
    this.tickTimes = new Float64Array(capacity);
  }

  get width(): number {
    return FIRST_BUCKET + this.bounds.length;
  }

  /** Starts a new tick at `now` (epoch ms) and forgets what fell out of the retention. */
  advance(now: number): number {
    this.tick++;
    this.tickTimes[this.tick % this.capacity] = now;
    const oldest = this.tick - this.capacity + 1;
    for (const [id, target] of this.targets) {
      if (target.lastTick < oldest) {
        this.targets.delete(id);
        continue;
      }
      for (const [key, series] of target.series) if (series.lastTick < oldest) target.series.delete(key);
    }
    return this.tick;
  }

  /** Epoch ms of a tick still retained, else undefined. */
  timeOf(tick: number): number | undefined {
    return this.retained(tick) ? this.tickTimes[tick % this.capacity] : undefined;
  }

  /** Fixes the bucket bounds (first call with any wins; later callers map onto them). */
  setBounds(bounds: readonly number[]): void {
    if (this.bounds.length === 0 && bounds.length > 0) this.bounds = [...bounds].sort((a, b) => a - b);
  }

  target(id: string, identity: TargetIdentity): Target {
    let target = this.targets.get(id);
    if (target === undefined || target.identity.namespace !== identity.namespace || target.identity.workload !== identity.workload) {
      target = { identity, scraped: new Int32Array(this.capacity).fill(-1), series: new Map(), lastScrapeAt: undefined, lastError: undefined, lastTick: this.tick };
      this.targets.set(id, target);
    }
    return target;
  }

  /** Records one successful scrape of `target` at the current tick: `samples` by series key. */
  record(target: Target, samples: ReadonlyMap<string, { labels: SeriesLabels; vector: Float64Array }>): void {
    const slot = this.tick % this.capacity;
    target.scraped[slot] = this.tick;
    target.lastTick = this.tick;
    target.lastScrapeAt = new Date(this.tickTimes[slot]!).toISOString();
    target.lastError = undefined;
    const width = this.width;
    for (const [key, { labels, vector }] of samples) {
      let series = target.series.get(key);
      if (series === undefined || series.values.length !== this.capacity * width) {
        series = { key, labels, target, ticks: new Int32Array(this.capacity).fill(-1), values: new Float64Array(this.capacity * width), lastTick: -1 };
        target.series.set(key, series);
      }
      series.ticks[slot] = this.tick;
      series.values.set(vector.subarray(0, width), slot * width);
      series.lastTick = this.tick;
    }
  }

  retained(tick: number): boolean {
    return tick >= 0 && tick <= this.tick && tick > this.tick - this.capacity;
  }

  /**
   * The sum of a series' increments over the ticks in (from, to], added into `into`
   * (length `width`). Returns whether anything was known about the series there.
   */
  addIncrease(series: Series, from: number, to: number, into: Float64Array): boolean {
    const width = this.width;
    const { capacity } = this;
    let prev = this.sampleAt(series, from);
    if (prev === undefined && this.retained(from) && series.target.scraped[from % capacity] === from) prev = ZERO;
    let any = false;
    for (let t = Math.max(from + 1, this.tick - capacity + 1); t <= to; t++) {
      const cur = this.sampleAt(series, t);
      if (cur === undefined) {
        // Scraped without this series: the proxy restarted and has not seen it again yet.
        if (series.target.scraped[t % capacity] === t) prev = ZERO;
        continue;
      }
      any = true;
      if (prev === undefined) {
        prev = cur;
        continue;
      }
      const reset = cur[REQUESTS]! < (prev[REQUESTS] ?? 0) || cur[DURATION_COUNT]! < (prev[DURATION_COUNT] ?? 0);
      for (let i = 0; i < width; i++) into[i]! += reset ? cur[i]! : cur[i]! - (prev[i] ?? 0);
      prev = cur;
    }
    return any;
  }

  private sampleAt(series: Series, tick: number): Float64Array | undefined {
    if (!this.retained(tick)) return undefined;
    const slot = tick % this.capacity;
    if (series.ticks[slot] !== tick) return undefined;
    const width = this.width;
    return series.values.subarray(slot * width, slot * width + width);
  }

  /** Every retained series. */
  *allSeries(): Iterable<Series> {
    for (const target of this.targets.values()) yield* target.series.values();
  }
}

const ZERO = new Float64Array(0);
