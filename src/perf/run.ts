/**
 * The library entry point: `runLoad(options, { onProgress, signal })` runs a
 * load test here (threads) or on `weft perf agent`s and resolves to a
 * LoadResult; `toSmpResult` (smp.ts) turns that into an SMP document.
 */
import { decodeHistogram, summarize, type LatencySummaryMs } from './histogram.js';
import { resolveLoadOptions, type LoadOptions } from './options.js';
import { runOnAgents } from './agent-client.js';
import type { ShardProgress, ShardResult, ShardSpec } from './shard-result.js';
import { runLocal } from './threads.js';

/** The achieved rate may fall this far short of the requested one and still count as reached. */
export const RATE_TOLERANCE = 0.01;
/** Time for every thread or agent to connect before the common start. */
const START_DELAY_MS = 300;

export interface LoadProgress {
  /** Since the schedule started (warm-up included). */
  elapsedMs: number;
  /** Warm-up plus measured duration. */
  totalMs: number;
  phase: 'warmup' | 'measure';
  responses: number;
  errors: number;
  /** Responses per second over the last progress interval. */
  rps: number;
  /** Corrected p99 over the last progress interval. */
  p99Ms: number;
}

export interface RunHooks {
  onProgress?: (progress: LoadProgress) => void;
  /** Abort to stop early: the result is then marked partial. */
  signal?: AbortSignal;
}

export interface LoadResult {
  /** The options as run, JSON-friendly: the body is only its size. */
  options: Omit<LoadOptions, 'headers' | 'body' | 'agents' | 'timeoutMs'> & {
    mode: 'open-loop' | 'closed-loop';
    headers: Array<[string, string]>;
    bodyBytes: number;
    agents: string[];
  };
  /** Measured window, ISO 8601 UTC. */
  startTime: string;
  endTime: string;
  measuredMs: number;
  requestedRps: number | undefined;
  achievedRps: number;
  /** Open loop: whether achieved >= (1 - RATE_TOLERANCE) x requested. Undefined in closed loop. */
  rateReached: boolean | undefined;
  requests: { scheduled: number; sent: number; completed: number };
  /** Response counts by HTTP status (gRPC status code for grpc). */
  statusCodes: Record<string, number>;
  /** Failed requests by kind (ECONNRESET, timeout, protocol: ..., connect: ...). */
  errors: Record<string, number>;
  /** Corrected for coordinated omission: from each request's intended send time. */
  latencyMs: LatencySummaryMs;
  /** From the actual send time (what a closed-loop tool such as wrk reports). */
  uncorrectedLatencyMs: LatencySummaryMs;
  /** How late the generator sent requests, by its own timers; large values mean this machine was the bottleneck. */
  generatorLagMs: LatencySummaryMs;
  /**
   * The longest stall of a generator's event loop. While the generator cannot
   * run, answers wait unread and due requests pile up: the corrected latency
   * counts that as the target's queueing. Large values mean this machine, not
   * the target, may explain a high corrected tail.
   */
  generatorMaxStallMs: number;
  /** HdrHistogram compressed base64, microseconds; decode with hdr-histogram-js or any HdrHistogram library. */
  histograms: { unit: 'us'; corrected: string; uncorrected: string; generatorLag: string };
  partial: boolean;
  /** Single-thread load generators that took part (threads x agents). */
  generators: number;
}

export function toShardSpec(options: LoadOptions, startAtMs: number): ShardSpec {
  return {
    url: options.url,
    protocol: options.protocol,
    method: options.method,
    headers: options.headers.map(([name, value]) => [name, value]),
    bodyBase64: options.body === undefined ? undefined : Buffer.from(options.body).toString('base64'),
    rate: options.rate,
    connections: options.connections,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    timeoutMs: options.timeoutMs,
    startAtMs,
    phase: 0,
    threads: options.threads,
  };
}

export async function runLoad(input: Partial<LoadOptions> & { url: string }, hooks: RunHooks = {}): Promise<LoadResult> {
  const options = resolveLoadOptions(input);
  const spec = toShardSpec(options, Date.now() + START_DELAY_MS);
  const totalMs = options.warmupMs + options.durationMs;
  let lastResponses = 0;
  let lastElapsed = 0;
  const onProgress = (progress: ShardProgress): void => {
    const seconds = (progress.elapsedMs - lastElapsed) / 1000;
    const rps = seconds > 0 ? (progress.responses - lastResponses) / seconds : 0;
    lastResponses = progress.responses;
    lastElapsed = progress.elapsedMs;
    hooks.onProgress?.({
      elapsedMs: progress.elapsedMs,
      totalMs,
      phase: progress.elapsedMs < options.warmupMs ? 'warmup' : 'measure',
      responses: progress.responses,
      errors: progress.errors,
      rps,
      p99Ms: decodeHistogram(progress.interval).getValueAtPercentile(99) / 1000,
    });
  };
  const shardHooks = { onProgress, ...(hooks.signal ? { signal: hooks.signal } : {}) };
  const result = options.agents.length > 0 ? await runOnAgents(spec, options.agents, shardHooks) : await runLocal(spec, shardHooks);
  return toLoadResult(options, result);
}

export function toLoadResult(options: LoadOptions, result: ShardResult): LoadResult {
  const achievedRps = result.measuredMs > 0 ? result.completed / (result.measuredMs / 1000) : 0;
  const requestedRps = result.requestedRate;
  return {
    options: {
      url: options.url,
      protocol: options.protocol,
      mode: options.rate === undefined ? 'closed-loop' : 'open-loop',
      rate: options.rate,
      durationMs: options.durationMs,
      warmupMs: options.warmupMs,
      connections: options.connections,
      threads: options.threads,
      method: options.method,
      headers: options.headers.map(([name, value]) => [name, value]),
      bodyBytes: options.body?.length ?? 0,
      agents: [...options.agents],
    },
    startTime: new Date(result.startTimeMs).toISOString(),
    endTime: new Date(result.endTimeMs).toISOString(),
    measuredMs: result.measuredMs,
    requestedRps,
    achievedRps,
    rateReached: requestedRps === undefined ? undefined : achievedRps >= requestedRps * (1 - RATE_TOLERANCE),
    requests: { scheduled: result.scheduled, sent: result.sent, completed: result.completed },
    statusCodes: result.statuses,
    errors: result.errors,
    latencyMs: summarize(decodeHistogram(result.corrected)),
    uncorrectedLatencyMs: summarize(decodeHistogram(result.uncorrected)),
    generatorLagMs: summarize(decodeHistogram(result.generatorLag)),
    generatorMaxStallMs: result.maxStallMs,
    histograms: { unit: 'us', corrected: result.corrected, uncorrected: result.uncorrected, generatorLag: result.generatorLag },
    partial: result.partial,
    generators: result.shards,
  };
}
