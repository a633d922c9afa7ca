/**
 * One load-generating event loop ("shard"): its share of the connections and
 * of the rate. Threads and agents each run shards; their results merge exactly
 * (shard-result.ts).
 *
 * Open loop (a rate): request i is due at t0 + (i + phase) / rate whatever
 * happened to earlier requests. A due request goes out on an idle connection;
 * when all are busy it waits for one, and its latency still counts from its
 * intended time. That is the coordinated-omission correction wrk2 and Nighthawk
 * make: a stalled server is charged for the requests it kept us from sending.
 * Our own lateness (a timer firing after the intended time while a connection
 * was idle: Node timers have 1 ms granularity) is not the target's doing; it is
 * left out of the corrected latency and recorded as "generator lag" instead.
 * The uncorrected histogram (from the actual send) is kept alongside so the
 * difference is visible. Closed loop (`rate` undefined): each connection sends
 * its next request as soon as the previous answer arrives; both histograms
 * are then the same.
 *
 * The measured window is [t0 + warmup, t0 + warmup + duration): requests
 * intended in it are recorded; sending stops at its end and in-flight requests
 * drain (bounded by the request timeout).
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import type { ConnectionFactory, LoadConnection, RequestTemplate } from './clients/client.js';
import { http1ConnectionFactory } from './clients/http1.js';
import { encodeHistogram, newHistogram } from './histogram.js';
import { targetOf, type LoadProtocol } from './options.js';
import type { ShardProgress, ShardResult, ShardSpec } from './shard-result.js';

const PROGRESS_INTERVAL_MS = 1000;
const TIMEOUT_CHECK_MS = 100;
/** How long to wait before reopening a connection that failed to connect during the run. */
const RECONNECT_BACKOFF_MS = 100;
/** How long the first connections may take before the run fails with "cannot connect". */
const CONNECT_TIMEOUT_MS = 5000;

export interface ShardHooks {
  onProgress?: (progress: ShardProgress) => void;
  /** Aborting stops the run early; the result is then marked partial. */
  signal?: AbortSignal;
}

/** HTTP/2 and gRPC clients load only when used: @grpc/grpc-js alone costs ~100 ms of start-up. */
const FACTORIES: Record<LoadProtocol, () => Promise<(t: RequestTemplate) => ConnectionFactory>> = {
  http1: async () => http1ConnectionFactory,
  http2: async () => (await import('./clients/http2.js')).http2ConnectionFactory,
  grpc: async () => (await import('./clients/grpc.js')).grpcConnectionFactory,
};

export async function connectionFactory(template: RequestTemplate): Promise<ConnectionFactory> {
  return (await FACTORIES[template.protocol]())(template);
}

/** A connection and the request it carries; fields fixed here so the hot path never reshapes it. */
class Slot {
  connection: LoadConnection | undefined = undefined;
  ready = false;
  busy = false;
  intendedAt = 0;
  sentAt = 0;
  /** When the connection last became idle. */
  freeAt = 0;
  /** Where the corrected latency is measured from (see sendOn). */
  correctedFrom = 0;
  inWindow = false;
}

function increment(counts: Map<number | string, number>, key: number | string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function toRecord(counts: Map<number | string, number>): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, v]) => [String(k), v]));
}

/** Microseconds, at least 1 (HDR histograms record integers >= their lowest value). */
function micros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

export async function runShard(spec: ShardSpec, hooks: ShardHooks = {}): Promise<ShardResult> {
  const template: RequestTemplate = {
    target: targetOf(spec.url, spec.protocol),
    protocol: spec.protocol,
    method: spec.method,
    headers: spec.headers,
    body: spec.bodyBase64 === undefined ? undefined : Buffer.from(spec.bodyBase64, 'base64'),
  };
  return new Shard(spec, await connectionFactory(template), hooks).run();
}

class Shard {
  private readonly slots = new Set<Slot>();
  /** Idle connections, longest idle first: a due request takes the one that was free earliest. */
  private readonly idle: Slot[] = [];
  private readonly corrected: Histogram = newHistogram();
  private readonly uncorrected: Histogram = newHistogram();
  private readonly interval: Histogram = newHistogram();
  private readonly lag: Histogram = newHistogram();
  private readonly statuses = new Map<number | string, number>();
  private readonly errors = new Map<number | string, number>();
  private readonly openLoop: boolean;
  /** ms between this shard's requests (open loop). */
  private readonly period: number;
  private t0 = 0;
  private windowStart = 0;
  private windowEnd = 0;
  /** Requests the schedule holds (open loop): those intended before windowEnd. */
  private total = 0;
  private next = 0;
  private sent = 0;
  private completed = 0;
  private responses = 0;
  private errorCount = 0;
  private inFlight = 0;
  private sending = false;
  private finished = false;
  private partial = false;
  private pumpTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private resolve: (result: ShardResult) => void = () => {};
  private reject: (error: Error) => void = () => {};
  private connectFailures = new Map<number | string, number>();
  /** How long this thread's event loop was held up: a stalled generator looks like a slow target. */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 5 });

  constructor(
    private readonly spec: ShardSpec,
    private readonly factory: ConnectionFactory,
    private readonly hooks: ShardHooks,
  ) {
    this.openLoop = spec.rate !== undefined;
    this.period = spec.rate === undefined ? 0 : 1000 / spec.rate;
  }

  run(): Promise<ShardResult> {
    return new Promise<ShardResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (this.hooks.signal?.aborted) return reject(new Error('load test aborted before it started'));
      this.hooks.signal?.addEventListener('abort', this.onAbort, { once: true });
      for (let i = 0; i < this.spec.connections; i++) this.open();
      this.checkTimer = setTimeout(() => this.connectTimedOut(), CONNECT_TIMEOUT_MS);
    });
  }

  // --- connections -------------------------------------------------------

  private open(): void {
    const slot = new Slot();
    this.slots.add(slot);
    slot.connection = this.factory({
      onReady: () => {
        slot.ready = true;
        slot.freeAt = performance.now();
        this.idle.push(slot);
        if (this.sending) this.dispatch();
        else this.maybeStart();
      },
      onResponse: (status, reusable) => this.onResponse(slot, status, reusable),
      onFailure: (kind) => this.onFailure(slot, kind),
      onClosed: (connectError) => this.onClosed(slot, connectError),
    });
  }

  private onClosed(slot: Slot, connectError: string | undefined): void {
    this.slots.delete(slot);
    const at = this.idle.indexOf(slot);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.finished) return;
    if (connectError !== undefined) {
      increment(this.connectFailures, connectError);
      if (this.sending && performance.now() >= this.windowStart) this.countError(`connect: ${connectError}`);
    }
    if (!this.sending && this.t0 === 0) {
      // Still connecting: fail the run if no connection can be made at all.
      if (this.slots.size === 0) this.failToConnect();
      else this.maybeStart();
      return;
    }
    if (performance.now() < this.windowEnd) {
      if (connectError === undefined) this.open();
      else setTimeout(() => !this.finished && performance.now() < this.windowEnd && this.open(), RECONNECT_BACKOFF_MS);
    } else this.maybeFinish();
  }

  /** Starts once every connection is ready or has failed; at least one must be ready. */
  private maybeStart(): void {
    if (this.t0 !== 0) return;
    let pending = 0;
    for (const slot of this.slots) if (!slot.ready) pending++;
    if (pending > 0 || this.idle.length === 0) return;
    clearTimeout(this.checkTimer);
    const now = performance.now();
    // All shards of a run share startAtMs (wall clock); start now if it has passed.
    this.t0 = Math.max(now, this.spec.startAtMs - performance.timeOrigin);
    this.windowStart = this.t0 + this.spec.warmupMs;
    this.windowEnd = this.windowStart + this.spec.durationMs;
    if (this.openLoop) this.total = Math.max(0, Math.ceil((this.windowEnd - this.t0) / this.period - this.spec.phase));
    const begin = (): void => {
      this.pumpTimer = undefined;
      this.sending = true;
      this.loopDelay.enable();
      this.endTimer = setTimeout(() => this.endWindow(), Math.max(0, this.windowEnd - performance.now()));
      this.checkTimer = setInterval(() => this.checkTimeouts(), TIMEOUT_CHECK_MS);
      this.progressTimer = setInterval(() => this.emitProgress(), PROGRESS_INTERVAL_MS);
      this.dispatch();
    };
    if (this.t0 > now) this.pumpTimer = setTimeout(begin, this.t0 - now);
    else begin();
  }

  private connectTimedOut(): void {
    if (this.t0 !== 0 || this.finished) return;
    if (this.idle.length > 0) {
      // Some connections are up; run with them and keep trying the rest in the background.
      for (const slot of this.slots) slot.ready = true;
      this.maybeStart();
    } else this.failToConnect('timed out');
  }

  private failToConnect(fallback = 'no connection'): void {
    const reasons = [...this.connectFailures.keys()].join(', ') || fallback;
    this.finishWith(new Error(`cannot connect to ${this.spec.url}: ${reasons}`));
  }

  // --- sending -------------------------------------------------------------

  private intendedAt(index: number): number {
    return this.t0 + (index + this.spec.phase) * this.period;
  }

  /** Sends what is due on idle connections; arms a timer for the next due request. */
  private dispatch(): void {
    if (!this.sending) return;
    const now = performance.now();
    if (!this.openLoop) {
      while (this.idle.length > 0) this.sendOn(this.idle.shift()!, now, now);
      return;
    }
    const due = Math.min(this.total, Math.max(0, Math.floor((now - this.t0) / this.period - this.spec.phase) + 1));
    while (this.next < due && this.idle.length > 0) this.sendOn(this.idle.shift()!, this.intendedAt(this.next++), now);
    if (this.next >= due && this.next < this.total && this.pumpTimer === undefined) {
      this.pumpTimer = setTimeout(this.onPumpTimer, Math.max(0, this.intendedAt(this.next) - now));
    }
  }

  private readonly onPumpTimer = (): void => {
    this.pumpTimer = undefined;
    this.dispatch();
  };

  private sendOn(slot: Slot, intendedAt: number, now: number): void {
    slot.busy = true;
    slot.intendedAt = intendedAt;
    slot.sentAt = now;
    slot.inWindow = intendedAt >= this.windowStart;
    // Latency counts from the intended time, less our own lateness: the time between when the request
    // could have gone out (intended, or later when a connection freed up) and when it did. That part
    // is the generator's timer granularity, not the target's doing; it is recorded separately.
    const couldSendAt = Math.max(intendedAt, slot.freeAt);
    slot.correctedFrom = intendedAt + (now - couldSendAt);
    if (slot.inWindow) {
      this.sent++;
      this.lag.recordValue(micros(now - couldSendAt));
    }
    this.inFlight++;
    slot.connection!.send();
  }

  // --- answers -------------------------------------------------------------

  private onResponse(slot: Slot, status: number, reusable: boolean): void {
    const now = performance.now();
    slot.busy = false;
    this.inFlight--;
    this.responses++;
    const corrected = micros(now - slot.correctedFrom);
    this.interval.recordValue(corrected);
    if (slot.inWindow) {
      this.completed++;
      this.corrected.recordValue(corrected);
      this.uncorrected.recordValue(micros(now - slot.sentAt));
      increment(this.statuses, status);
    }
    if (reusable) {
      slot.freeAt = now;
      this.idle.push(slot);
      if (this.sending) this.dispatch();
    }
    if (!this.sending) this.maybeFinish();
  }

  private onFailure(slot: Slot, kind: string): void {
    slot.busy = false;
    this.inFlight--;
    if (slot.inWindow) this.countError(kind);
    if (!this.sending) this.maybeFinish();
  }

  private countError(kind: string): void {
    this.errorCount++;
    increment(this.errors, kind);
  }

  private checkTimeouts(): void {
    const now = performance.now();
    for (const slot of this.slots) {
      if (slot.busy && now - slot.sentAt > this.spec.timeoutMs) {
        // The connection is unusable until it answers; replace it.
        this.onFailure(slot, 'timeout');
        slot.connection!.destroy();
        this.onClosed(slot, undefined);
      }
    }
  }

  private emitProgress(): void {
    const elapsedMs = performance.now() - this.t0;
    this.hooks.onProgress?.({ elapsedMs, responses: this.responses, errors: this.errorCount, interval: encodeHistogram(this.interval) });
    this.interval.reset();
  }

  // --- ending --------------------------------------------------------------

  private endWindow(): void {
    this.sending = false;
    clearTimeout(this.pumpTimer);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.inFlight === 0 && !this.sending && this.t0 !== 0) this.finishWith(undefined);
  }

  private readonly onAbort = (): void => {
    if (this.finished) return;
    this.partial = true;
    const now = performance.now();
    if (now < this.windowEnd) this.windowEnd = Math.max(this.windowStart, now);
    // Answers still outstanding are neither counted as completed nor as errors.
    this.finishWith(this.t0 === 0 ? new Error('load test stopped before it started') : undefined);
  };

  private finishWith(error: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.sending = false;
    clearTimeout(this.pumpTimer);
    clearTimeout(this.endTimer);
    clearInterval(this.checkTimer);
    clearInterval(this.progressTimer);
    this.hooks.signal?.removeEventListener('abort', this.onAbort);
    this.loopDelay.disable();
    for (const slot of this.slots) slot.connection?.destroy();
    this.slots.clear();
    if (error) return this.reject(error);
    const scheduled = this.openLoop ? this.scheduledIn(this.windowStart, this.windowEnd) : this.sent;
    this.resolve({
      startTimeMs: performance.timeOrigin + this.windowStart,
      endTimeMs: performance.timeOrigin + this.windowEnd,
      measuredMs: this.windowEnd - this.windowStart,
      requestedRate: this.spec.rate,
      scheduled,
      sent: this.sent,
      completed: this.completed,
      statuses: toRecord(this.statuses),
      errors: toRecord(this.errors),
      corrected: encodeHistogram(this.corrected),
      uncorrected: encodeHistogram(this.uncorrected),
      generatorLag: encodeHistogram(this.lag),
      // nanoseconds, less the sampling interval; 0 when never sampled.
      maxStallMs: Math.max(0, this.loopDelay.max / 1e6 - 5),
      partial: this.partial,
      shards: 1,
    });
  }

  /** Requests of the schedule intended in [from, to). */
  private scheduledIn(from: number, to: number): number {
    const firstAtOrAfter = (t: number): number => Math.max(0, Math.ceil((t - this.t0) / this.period - this.spec.phase - 1e-9));
    return Math.max(0, firstAtOrAfter(to) - firstAtOrAfter(from));
  }
}
