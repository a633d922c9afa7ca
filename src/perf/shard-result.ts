/**
 * What shards exchange, as plain JSON (worker messages and the agent protocol
 * carry it unchanged): the work a shard is given, its progress and its result.
 * Results and progress merge exactly: counts add, histograms add bucket by bucket.
 */
import { decodeHistogram, encodeHistogram, mergeEncoded, newHistogram } from './histogram.js';
import type { LoadProtocol } from './options.js';

export interface ShardSpec {
  url: string;
  protocol: LoadProtocol;
  method: string;
  headers: Array<[string, string]>;
  bodyBase64: string | undefined;
  /** This shard's requests per second; undefined for closed loop. */
  rate: number | undefined;
  connections: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  /** Wall-clock time (ms since the epoch) at which every shard of the run starts sending. */
  startAtMs: number;
  /** Where this shard's schedule sits within one of its periods, in [0, 1): shards interleave instead of sending in bursts. */
  phase: number;
  /** Threads to split this spec over (used by agents; a shard itself is one thread). */
  threads: number;
}

export interface ShardProgress {
  /** ms since the shard's schedule started (warm-up included). */
  elapsedMs: number;
  /** Responses so far (warm-up included). */
  responses: number;
  /** Errors so far in the measured window. */
  errors: number;
  /** Encoded histogram of corrected latencies since the previous progress report. */
  interval: string;
}

export interface ShardResult {
  /** Measured window, wall clock ms since the epoch. */
  startTimeMs: number;
  endTimeMs: number;
  measuredMs: number;
  requestedRate: number | undefined;
  /** Requests due in the measured window (open loop), or sent (closed loop). */
  scheduled: number;
  sent: number;
  /** Responses (any status) to requests of the measured window. */
  completed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** Encoded HDR histograms (microseconds). */
  corrected: string;
  uncorrected: string;
  /** How late the generator itself sent requests (intended or connection-free time to actual send). */
  generatorLag: string;
  /** The longest time the generator's event loop could not run (GC, a busy or overloaded machine), in ms. */
  maxStallMs: number;
  /** Stopped before the end (SIGINT, abort). */
  partial: boolean;
  /** How many single-thread shards this result merges. */
  shards: number;
}

/** Splits a spec into `parts` equal shares: rate and connections divided, schedules interleaved. */
export function splitSpec(spec: ShardSpec, parts: number, threadsEach: number): ShardSpec[] {
  return Array.from({ length: parts }, (_, k) => ({
    ...spec,
    rate: spec.rate === undefined ? undefined : spec.rate / parts,
    connections: Math.floor(spec.connections / parts) + (k < spec.connections % parts ? 1 : 0),
    // Shard k's request i is the parent's request i*parts + k.
    phase: (spec.phase + k) / parts,
    threads: threadsEach,
  }));
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, count] of Object.entries(from)) into[key] = (into[key] ?? 0) + count;
}

export function mergeShardResults(results: readonly ShardResult[]): ShardResult {
  if (results.length === 1) return results[0]!;
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const r of results) {
    addCounts(statuses, r.statuses);
    addCounts(errors, r.errors);
  }
  const sum = (pick: (r: ShardResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  const rates = results.map((r) => r.requestedRate);
  return {
    startTimeMs: Math.min(...results.map((r) => r.startTimeMs)),
    endTimeMs: Math.max(...results.map((r) => r.endTimeMs)),
    measuredMs: Math.max(...results.map((r) => r.measuredMs)),
    requestedRate: rates.every((r) => r !== undefined) ? rates.reduce((a, b) => a! + b!, 0) : undefined,
    scheduled: sum((r) => r.scheduled),
    sent: sum((r) => r.sent),
    completed: sum((r) => r.completed),
    statuses,
    errors,
    corrected: encodeHistogram(mergeEncoded(results.map((r) => r.corrected))),
    uncorrected: encodeHistogram(mergeEncoded(results.map((r) => r.uncorrected))),
    generatorLag: encodeHistogram(mergeEncoded(results.map((r) => r.generatorLag))),
    maxStallMs: Math.max(...results.map((r) => r.maxStallMs)),
    partial: results.some((r) => r.partial),
    shards: sum((r) => r.shards),
  };
}

/**
 * Combines the progress of several sources (threads, agents) into one stream,
 * emitted every `everyMs`: cumulative counts summed, interval histograms merged.
 */
export class ProgressMerger {
  private readonly latest: ShardProgress[];
  private readonly interval = newHistogram();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    sources: number,
    private readonly emit: (progress: ShardProgress) => void,
    everyMs = 1000,
  ) {
    this.latest = Array.from({ length: sources }, () => ({ elapsedMs: 0, responses: 0, errors: 0, interval: '' }));
    this.timer = setInterval(() => this.flush(), everyMs);
  }

  add(source: number, progress: ShardProgress): void {
    this.latest[source] = progress;
    this.interval.add(decodeHistogram(progress.interval));
  }

  private flush(): void {
    const elapsedMs = Math.max(...this.latest.map((p) => p.elapsedMs));
    if (elapsedMs === 0) return;
    const responses = this.latest.reduce((total, p) => total + p.responses, 0);
    const errors = this.latest.reduce((total, p) => total + p.errors, 0);
    this.emit({ elapsedMs, responses, errors, interval: encodeHistogram(this.interval) });
    this.interval.reset();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
