/**
 * An open-loop, fixed-rate HTTP/1.1 load generator (what wrk cannot do).
 *
 * Request i is due at its intended time i/rate after the start, whatever happened
 * to earlier requests. Requests go out on N keep-alive connections, one request
 * per connection at a time; a due request waits for the longest-idle connection.
 *
 * Latency accounting (coordinated omission): when the target is slow and every
 * connection is busy, a due request's clock starts at its intended time, so
 * the queueing the target caused is counted. When a connection was free at the
 * intended time but our own timer fired late, the clock starts when we sent it:
 * the generator's lateness is not the target's, and is reported separately.
 */
import net from 'node:net';
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js';
import { ResponseFramer } from './http1-response.js';

const NS_PER_SEC = 1e9;
const NS_PER_MS = 1e6;

/** When each request of a fixed-rate run is due, in ns since the run started. */
export class FixedRateSchedule {
  /** Number of requests in the run. */
  readonly total: number;

  constructor(readonly ratePerSec: number, durationMs: number) {
    if (!(ratePerSec > 0)) throw new RangeError('rate must be positive');
    this.total = Math.floor((durationMs * ratePerSec) / 1000);
  }

  intendedAtNs(index: number): number {
    return Math.ceil((index * NS_PER_SEC) / this.ratePerSec);
  }

  /** How many requests are due at `nowNs`: those with index < the result. */
  dueCount(nowNs: number): number {
    if (nowNs < 0) return 0;
    // The division is a float estimate; nudge it so it agrees exactly with intendedAtNs.
    let count = Math.min(this.total, Math.floor((nowNs * this.ratePerSec) / NS_PER_SEC) + 1);
    while (count > 0 && this.intendedAtNs(count - 1) > nowNs) count--;
    while (count < this.total && this.intendedAtNs(count) <= nowNs) count++;
    return count;
  }
}

/**
 * The latency charged to the target for one request: its time on the wire plus
 * the time it waited for a connection, counted from its intended time.
 * `connectionFreeAtNs` is when the connection it went out on became idle.
 */
export function chargedLatencyNs(intendedNs: number, connectionFreeAtNs: number, sentNs: number, completedNs: number): number {
  return completedNs - sentNs + Math.max(0, connectionFreeAtNs - intendedNs);
}

/** How late the generator itself was sending: time between "could have sent" and "sent". */
export function generatorLagNs(intendedNs: number, connectionFreeAtNs: number, sentNs: number): number {
  return Math.max(0, sentNs - Math.max(intendedNs, connectionFreeAtNs));
}

export interface FixedRateOptions {
  host: string;
  port: number;
  /** Request paths, used in turn. */
  paths: readonly string[];
  ratePerSec: number;
  durationMs: number;
  connections: number;
  /** Requests intended before this are sent but not recorded (JIT and pool warm-up). Default 0. */
  warmupMs?: number;
  /** How long to wait for outstanding responses after the last request is due. Default 5 s. */
  drainTimeoutMs?: number;
}

export interface FixedRateResult {
  /** Requests the schedule asked for. */
  scheduled: number;
  /** 2xx responses recorded in the histogram (after warm-up). */
  recorded: number;
  /** Non-2xx responses, broken connections and requests never answered. */
  errors: number;
  /** All 2xx responses (warm-up included) per second of schedule. */
  achievedRps: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number };
  generatorLagP99Ms: number;
}

interface InFlight {
  index: number;
  intendedNs: number;
  freeAtNs: number;
  sentNs: number;
}

interface Connection {
  socket: net.Socket;
  framer: ResponseFramer;
  inFlight: InFlight | undefined;
  /** When the connection last became idle. */
  freeAtNs: number;
}

function histogram(): Histogram {
  // Microseconds, 1 us .. 60 s, 3 significant digits.
  return buildHistogram({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

export function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const schedule = new FixedRateSchedule(options.ratePerSec, options.durationMs);
  const warmupNs = (options.warmupMs ?? 0) * NS_PER_MS;
  const requests = options.paths.map((path) =>
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUser-Agent: weft-bench\r\n\r\n`, 'latin1'),
  );
  const latencies = histogram();
  const lags = histogram();
  const startNs = process.hrtime.bigint();
  const clockNs = () => Number(process.hrtime.bigint() - startNs);

  const idle: Connection[] = []; // longest-idle first
  const live = new Set<Connection>();
  let nextToSend = 0;
  let answered = 0; // responses or failures, for requests that were sent
  let ok = 0;
  let errors = 0;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;

  return new Promise((resolve) => {
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      clearTimeout(drainTimer);
      // Whatever was never sent or never answered failed.
      errors += schedule.total - answered;
      for (const connection of live) connection.socket.destroy();
      const toMs = (us: number) => us / 1000;
      resolve({
        scheduled: schedule.total,
        recorded: latencies.totalCount,
        errors,
        achievedRps: ok / (options.durationMs / 1000),
        latencyMs: {
          p50: toMs(latencies.getValueAtPercentile(50)),
          p90: toMs(latencies.getValueAtPercentile(90)),
          p99: toMs(latencies.getValueAtPercentile(99)),
          p999: toMs(latencies.getValueAtPercentile(99.9)),
          max: toMs(latencies.maxValue),
        },
        generatorLagP99Ms: toMs(lags.getValueAtPercentile(99)),
      });
    };
    const drainTimer = setTimeout(finish, options.durationMs + (options.drainTimeoutMs ?? 5000));

    const maybeFinish = () => {
      if (answered === schedule.total || (live.size === 0 && nextToSend < schedule.total)) finish();
    };

    const send = (connection: Connection, nowNs: number) => {
      const index = nextToSend++;
      const intendedNs = schedule.intendedAtNs(index);
      connection.inFlight = { index, intendedNs, freeAtNs: connection.freeAtNs, sentNs: nowNs };
      connection.socket.write(requests[index % requests.length]);
    };

    const pump = () => {
      if (finished) return;
      const nowNs = clockNs();
      const due = schedule.dueCount(nowNs);
      while (nextToSend < due && idle.length > 0) send(idle.shift()!, nowNs);
      if (timer === undefined && due < schedule.total) {
        // Wake when the next request is due; Node timers have 1 ms resolution.
        timer = setTimeout(() => {
          timer = undefined;
          pump();
        }, Math.floor((schedule.intendedAtNs(due) - nowNs) / NS_PER_MS));
      }
    };

    const onResponse = (connection: Connection, status: number) => {
      const completedNs = clockNs();
      const request = connection.inFlight;
      if (!request) throw new Error('response without a request');
      connection.inFlight = undefined;
      answered++;
      if (status >= 200 && status < 300) {
        ok++;
        if (request.intendedNs >= warmupNs) {
          latencies.recordValue(Math.max(1, Math.round(chargedLatencyNs(request.intendedNs, request.freeAtNs, request.sentNs, completedNs) / 1000)));
          lags.recordValue(Math.max(1, Math.round(generatorLagNs(request.intendedNs, request.freeAtNs, request.sentNs) / 1000)));
        }
      } else {
        errors++;
      }
      connection.freeAtNs = completedNs;
      idle.push(connection);
      pump();
      maybeFinish();
    };

    const open = () => {
      const socket = net.connect(options.port, options.host);
      socket.setNoDelay(true);
      const connection: Connection = { socket, framer: new ResponseFramer((status) => onResponse(connection, status)), inFlight: undefined, freeAtNs: 0 };
      live.add(connection);
      socket.on('connect', () => {
        connection.freeAtNs = clockNs();
        idle.push(connection);
        pump();
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          connection.framer.feed(chunk);
        } catch (error) {
          socket.destroy(error as Error);
        }
      });
      socket.on('error', () => {}); // counted on close
      socket.on('close', () => {
        live.delete(connection);
        const idleAt = idle.indexOf(connection);
        if (idleAt >= 0) idle.splice(idleAt, 1);
        if (connection.inFlight) {
          connection.inFlight = undefined;
          answered++;
          errors++;
        }
        if (finished) return;
        // Replace a connection that had worked (the target closed it); give up on one that never connected.
        if (connection.freeAtNs > 0) open();
        maybeFinish();
      });
    };

    for (let i = 0; i < options.connections; i++) open();
  });
}
