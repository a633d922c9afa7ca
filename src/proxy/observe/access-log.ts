/**
 * File and stdio access loggers (Envoy's `envoy.access_loggers.file`,
 * `stdout`, `stderr`).
 *
 * Each logger formats entries with its compiled format and appends the line to
 * a sink shared by every logger with the same path (a registry), so a config
 * reload that keeps a path reuses the open file. A sink batches lines and hands
 * one string at a time to a stream: when the batch reaches `flushBytes`, or
 * after `flushIntervalMs` on an unref'd timer. While a write is in flight lines
 * keep batching; when the batch would exceed `maxBufferedBytes` (a slow disk or
 * a stalled stdout pipe) new lines are dropped and counted, so memory stays
 * bounded (at most the buffer plus one in-flight batch) and the event loop never
 * waits on the disk.
 *
 * Stats (Envoy's `access_logs.file.*`, shared by all sinks): write_buffered,
 * write_completed, write_failed, flushed_by_timer, lines_dropped (Weft's), and
 * the gauge write_total_buffered (bytes waiting, as characters).
 */
import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { ConfigError } from '../../lib/errors.js';
import { proxyRootLogger, type Logger } from '../../lib/json-log.js';
import type { AccessLogConfig } from '../config/types.js';
import type { AccessLogEntry } from './access-log-entry.js';
import { compileAccessLogFormat, type LogFormatter } from './format.js';
import { defineStats, type DeclaredStats, type StatsScope } from './stats.js';
import { createStatsStore } from './stats-store.js';

export interface AccessLogger {
  log(e: AccessLogEntry): void;
  /** Releases this logger's reference to its sink; the last one flushes and closes the file. */
  close(): Promise<void>;
}

export const ACCESS_LOG_STATS = {
  counters: ['write_buffered', 'write_completed', 'write_failed', 'flushed_by_timer', 'lines_dropped'],
  gauges: ['write_total_buffered'],
  histograms: [],
} as const;

type AccessLogStats = DeclaredStats<typeof ACCESS_LOG_STATS>;

export interface AccessLogSettings {
  /** The root stats scope; stats go under `access_logs.file.`. */
  stats: StatsScope;
  /** Default 100 ms. */
  flushIntervalMs: number;
  /** Write as soon as this many characters are batched. Default 64 KiB. */
  flushBytes: number;
  /** Drop lines beyond this many batched characters. Default 16 MiB. */
  maxBufferedBytes: number;
}

interface ResolvedSettings {
  stats: AccessLogStats;
  flushIntervalMs: number;
  flushBytes: number;
  maxBufferedBytes: number;
}

const log = (): Logger => proxyRootLogger().child({ component: 'access-log' });

function resolve(settings: Partial<AccessLogSettings>): ResolvedSettings {
  return {
    // Until the proxy passes its store, stats go to a private one nobody renders.
    stats: defineStats((settings.stats ?? createStatsStore()).scope('access_logs.file.'), ACCESS_LOG_STATS),
    flushIntervalMs: settings.flushIntervalMs ?? 100,
    flushBytes: settings.flushBytes ?? 64 * 1024,
    maxBufferedBytes: settings.maxBufferedBytes ?? 16 * 1024 * 1024,
  };
}

let settings = resolve({});
const sinks = new Map<string, LogSink>();

/** Sets the stats scope and buffering for sinks opened from now on (call once at startup). */
export function configureAccessLogs(options: Partial<AccessLogSettings>): void {
  settings = resolve(options);
}

/** Opens (or shares) the sink for `config.path` and returns a logger with the config's format. */
export function createAccessLogger(config: AccessLogConfig): AccessLogger {
  const format = compileAccessLogFormat(config, 'access_log.typed_config.log_format');
  let sink = sinks.get(config.path);
  if (sink === undefined) {
    sink = new LogSink(config.path, openStream(config.path), settings);
    sinks.set(config.path, sink);
  }
  sink.refs++;
  return new SinkLogger(format, sink);
}

/** Flushes and closes every sink (proxy shutdown). */
export async function closeAllAccessLogs(): Promise<void> {
  const all = Array.from(sinks.values());
  sinks.clear();
  await Promise.all(all.map((sink) => sink.close()));
}

interface OpenedStream {
  readonly stream: Writable;
  /** False for the process's stdout/stderr, which must stay open. */
  readonly owned: boolean;
}

function openStream(path: string): OpenedStream {
  if (path === '/dev/stdout') return { stream: process.stdout, owned: false };
  if (path === '/dev/stderr') return { stream: process.stderr, owned: false };
  let fd: number;
  try {
    // Opened synchronously at config load so a bad path rejects the config, as Envoy does.
    fd = openSync(path, 'a');
  } catch (cause) {
    throw new ConfigError('access_log.typed_config.path', `cannot open ${path} for appending: ${(cause as Error).message}`, { cause });
  }
  return { stream: createWriteStream(path, { fd, flags: 'a' }), owned: true };
}

class SinkLogger implements AccessLogger {
  private closed = false;

  constructor(
    private readonly format: LogFormatter,
    private readonly sink: LogSink,
  ) {}

  log(e: AccessLogEntry): void {
    if (!this.closed) this.sink.append(this.format(e));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (--this.sink.refs > 0) return Promise.resolve();
    if (sinks.get(this.sink.path) === this.sink) sinks.delete(this.sink.path);
    return this.sink.close();
  }
}

class LogSink {
  refs = 0;
  private batch: string[] = [];
  private batched = 0;
  private writing = false;
  private timerArmed = false;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private reportedFailure = false;
  private idleWaiters: Array<() => void> = [];
  private readonly stream: Writable;
  private readonly owned: boolean;
  private readonly stats: AccessLogStats;

  constructor(
    readonly path: string,
    opened: OpenedStream,
    private readonly settings: ResolvedSettings,
  ) {
    this.stream = opened.stream;
    this.owned = opened.owned;
    this.stats = settings.stats;
    // Write errors arrive in the write callback too; this listener only keeps them from crashing the process.
    this.stream.on('error', this.onStreamError);
  }

  append(line: string): void {
    if (this.closing || this.batched + line.length > this.settings.maxBufferedBytes) {
      this.stats.lines_dropped.inc();
      return;
    }
    this.batch.push(line);
    this.batched += line.length;
    this.stats.write_buffered.inc();
    this.stats.write_total_buffered.inc(line.length);
    if (this.batched >= this.settings.flushBytes) this.flush();
    else this.armTimer();
  }

  /** Idempotent: a sink can be closed by its last logger and by closeAllAccessLogs. */
  close(): Promise<void> {
    if (this.closed === undefined) {
      this.closing = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.flush();
      const idle = this.writing ? new Promise<void>((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
      this.closed = idle.then(() => this.endStream());
    }
    return this.closed;
  }

  private endStream(): Promise<void> {
    this.stream.off('error', this.onStreamError);
    if (!this.owned || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.stream.once('error', () => resolve());
      this.stream.end(resolve);
    });
  }

  private armTimer(): void {
    if (this.timerArmed || this.writing) return;
    this.timerArmed = true;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, this.settings.flushIntervalMs);
      this.timer.unref();
    } else {
      this.timer.refresh();
    }
  }

  private readonly onTimer = (): void => {
    this.timerArmed = false;
    this.stats.flushed_by_timer.inc();
    this.flush();
  };

  private flush(): void {
    if (this.writing || this.batch.length === 0) return;
    const data = this.batch.length === 1 ? this.batch[0]! : this.batch.join('');
    const size = this.batched;
    this.batch = [];
    this.batched = 0;
    this.writing = true;
    this.stream.write(data, (err) => this.onWritten(err, size));
  }

  private onWritten(err: Error | null | undefined, size: number): void {
    this.writing = false;
    this.stats.write_total_buffered.dec(size);
    if (err) {
      this.stats.write_failed.inc();
      if (!this.reportedFailure) log().warn({ path: this.path, err }, 'access log write failed; later failures are only counted');
      this.reportedFailure = true;
    } else {
      this.stats.write_completed.inc();
    }
    if (this.batch.length > 0 && (this.closing || this.batched >= this.settings.flushBytes)) {
      this.flush();
      return;
    }
    if (this.batch.length > 0) {
      this.armTimer();
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private readonly onStreamError = (): void => {};
}
