/**
 * A small logger that writes pino's JSON line format (`level`, `time`, `pid`,
 * `hostname`, bindings, fields, `msg`; errors under `err` as pino's serializer
 * renders them) synchronously to stderr, for processes that must stay small:
 * the proxy. Importing pino costs a sidecar ~8 MB of RSS (its module graph,
 * thread-stream and the V8 code they pull in); the proxy logs a few lines per
 * config change, so it uses this and the control plane keeps pino (lib/log.ts).
 *
 * `Logger` is the narrow interface the proxy asks for; a pino logger satisfies it too.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

/** pino's level numbers. */
export const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const SILENT = Infinity;

/** The level named by WEFT_LOG_LEVEL (trace, debug, info, warn, error, fatal, silent); info by default. */
export function levelFromEnv(): string {
  const wanted = process.env['WEFT_LOG_LEVEL'];
  if (wanted === undefined || wanted === '') return 'info';
  if (wanted === 'silent' || Object.hasOwn(LEVELS, wanted)) return wanted;
  process.stderr.write(`weft: ignoring WEFT_LOG_LEVEL=${wanted} (not a log level); using info\n`);
  return 'info';
}

/** pino's std error serializer, in short: type, message, stack, own enumerable fields, cause. */
function serializeError(err: Error, seen: Set<unknown>): Record<string, unknown> {
  seen.add(err);
  const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Error', message: err.message, stack: err.stack };
  for (const [key, value] of Object.entries(err)) {
    if (!(key in out)) out[key] = value instanceof Error && !seen.has(value) ? serializeError(value, seen) : value;
  }
  if (err.cause instanceof Error && !seen.has(err.cause)) out['cause'] = serializeError(err.cause, seen);
  return out;
}

function replacer(): (key: string, value: unknown) => unknown {
  const seen = new Set<unknown>();
  return (_key, value) => {
    if (value instanceof Error) return seen.has(value) ? '[Circular]' : serializeError(value, seen);
    if (typeof value === 'bigint') return value.toString();
    return value;
  };
}

/** The fd write, retried briefly when a non-blocking stderr pipe is full; a line that still cannot go is dropped. */
function writeLine(line: string): void {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      writeSync(2, line);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

class JsonLogger implements Logger {
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;

  /** `prefix` is the serialized pid/hostname/bindings part, built once per child. */
  constructor(
    private readonly threshold: number,
    private readonly prefix: string,
    private readonly write: (line: string) => void,
  ) {
    this.trace = this.method(10);
    this.debug = this.method(20);
    this.info = this.method(30);
    this.warn = this.method(40);
    this.error = this.method(50);
    this.fatal = this.method(60);
  }

  child(bindings: Record<string, unknown>): Logger {
    const extra = JSON.stringify(bindings, replacer()).slice(1, -1);
    return new JsonLogger(this.threshold, extra === '' ? this.prefix : `${this.prefix},${extra}`, this.write);
  }

  private method(level: number): LogFn {
    if (level < this.threshold) return () => undefined;
    return (fieldsOrMsg: object | string, msg?: string) => {
      let fields = '';
      let text = msg;
      if (typeof fieldsOrMsg === 'string') text = fieldsOrMsg;
      else {
        try {
          fields = JSON.stringify(fieldsOrMsg, replacer()).slice(1, -1);
        } catch (err) {
          fields = `"logError":${JSON.stringify(String(err))}`;
        }
      }
      let line = `{"level":${level},"time":${Date.now()},${this.prefix}`;
      if (fields !== '') line += `,${fields}`;
      if (text !== undefined) line += `,"msg":${JSON.stringify(text)}`;
      this.write(`${line}}\n`);
    };
  }
}

/** A root logger: `{"level":..,"time":..,"pid":..,"hostname":..,"name":..}` then the bindings of its children. */
export function createJsonLogger(name: string, level: string = levelFromEnv(), write: (line: string) => void = writeLine): Logger {
  const threshold = level === 'silent' ? SILENT : LEVELS[level] ?? LEVELS['info']!;
  return new JsonLogger(threshold, `"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"name":${JSON.stringify(name)}`, write);
}

let proxyRoot: Logger | undefined;

/** The proxy process's root logger, created on first use (WEFT_LOG_LEVEL is read then). */
export function proxyRootLogger(): Logger {
  return (proxyRoot ??= createJsonLogger('weft'));
}
