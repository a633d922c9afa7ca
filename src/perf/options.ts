/**
 * What a load test asks for (`LoadOptions`, the library API's input) and the
 * checks that turn user input into it. Every rejection names the option and
 * the reason, e.g. `rate: must be a positive number, got "0"`.
 */
import { parseDuration as parseGoDuration } from '../controlplane/model/duration.js';

export type LoadProtocol = 'http1' | 'http2' | 'grpc';
export const LOAD_PROTOCOLS: readonly LoadProtocol[] = ['http1', 'http2', 'grpc'];

export interface LoadOptions {
  /** `http://host:port/path`; for grpc the path is the method, `/package.Service/Method`. */
  url: string;
  protocol: LoadProtocol;
  /** Total requests per second across threads and agents (open loop); `undefined` runs closed loop as fast as possible (`--max`). */
  rate: number | undefined;
  durationMs: number;
  /** Load sent before the measured window and not recorded (JIT, connection and server warm-up). */
  warmupMs: number;
  /** Total connections across threads and agents; each carries one request at a time. */
  connections: number;
  /** Worker threads on this host (or on each agent). */
  threads: number;
  method: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | undefined;
  /** A request unanswered after this long counts as a `timeout` error and its connection is replaced. */
  timeoutMs: number;
  /** `host:port` of `weft perf agent`s; the load is split between them instead of run here. */
  agents: readonly string[];
}

export const LOAD_DEFAULTS = {
  protocol: 'http1',
  durationMs: 30_000,
  warmupMs: 0,
  connections: 32,
  threads: 1,
  method: 'GET',
  timeoutMs: 10_000,
} as const;

/** A load-test option that cannot be used: `option` is its name (`rate`, `headers[1]`). */
export class LoadOptionError extends Error {
  constructor(
    readonly option: string,
    readonly reason: string,
  ) {
    super(`${option}: ${reason}`);
    this.name = 'LoadOptionError';
  }
}

/** Fills defaults and checks every field; throws LoadOptionError on the first bad one. */
export function resolveLoadOptions(input: Partial<LoadOptions> & { url: string }): LoadOptions {
  const options: LoadOptions = {
    url: input.url,
    protocol: input.protocol ?? LOAD_DEFAULTS.protocol,
    rate: input.rate,
    durationMs: input.durationMs ?? LOAD_DEFAULTS.durationMs,
    warmupMs: input.warmupMs ?? LOAD_DEFAULTS.warmupMs,
    connections: input.connections ?? LOAD_DEFAULTS.connections,
    threads: input.threads ?? LOAD_DEFAULTS.threads,
    method: (input.method ?? LOAD_DEFAULTS.method).toUpperCase(),
    headers: input.headers ?? [],
    body: input.body,
    timeoutMs: input.timeoutMs ?? LOAD_DEFAULTS.timeoutMs,
    agents: input.agents ?? [],
  };
  if (!LOAD_PROTOCOLS.includes(options.protocol)) throw new LoadOptionError('protocol', `must be one of ${LOAD_PROTOCOLS.join(', ')}, got ${JSON.stringify(options.protocol)}`);
  targetOf(options.url, options.protocol);
  if (options.rate !== undefined && !(Number.isFinite(options.rate) && options.rate > 0)) throw new LoadOptionError('rate', `must be a positive number, got ${options.rate}`);
  positiveInteger('durationMs', options.durationMs);
  if (!(Number.isInteger(options.warmupMs) && options.warmupMs >= 0)) throw new LoadOptionError('warmupMs', `must be a whole number >= 0, got ${options.warmupMs}`);
  positiveInteger('connections', options.connections);
  positiveInteger('threads', options.threads);
  positiveInteger('timeoutMs', options.timeoutMs);
  const parts = Math.max(1, options.agents.length) * options.threads;
  if (options.connections < parts) throw new LoadOptionError('connections', `${options.connections} connections cannot be shared by ${parts} threads (at least one each)`);
  if (!/^[A-Z]+$/.test(options.method)) throw new LoadOptionError('method', `must be an HTTP method token, got ${JSON.stringify(options.method)}`);
  options.headers.forEach(([name, value], i) => {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new LoadOptionError(`headers[${i}]`, `bad header name ${JSON.stringify(name)}`);
    if (/[\r\n]/.test(value)) throw new LoadOptionError(`headers[${i}]`, 'header value contains a line break');
  });
  options.agents.forEach((agent, i) => {
    if (!/^[^\s/]+:\d+$/.test(agent)) throw new LoadOptionError(`agents[${i}]`, `must be host:port, got ${JSON.stringify(agent)}`);
  });
  return options;
}

function positiveInteger(option: string, value: number): void {
  if (!(Number.isInteger(value) && value > 0)) throw new LoadOptionError(option, `must be a whole number > 0, got ${value}`);
}

export interface Target {
  host: string;
  port: number;
  /** Path and query (the gRPC method for grpc). */
  path: string;
  tls: boolean;
  /** `scheme://host:port`, as HTTP/2 and gRPC clients take it. */
  origin: string;
}

export function targetOf(url: string, protocol: LoadProtocol): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LoadOptionError('url', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:') throw new LoadOptionError('url', `only http:// targets are supported (TLS is not), got ${parsed.protocol}//`);
  if (protocol === 'grpc' && !/^\/[^/]+\/[^/]+$/.test(parsed.pathname)) throw new LoadOptionError('url', `a grpc URL's path is the method, /package.Service/Method, got ${JSON.stringify(parsed.pathname)}`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  return { host, port, path: `${parsed.pathname}${parsed.search}`, tls: false, origin: `${parsed.protocol}//${parsed.host}` };
}

/**
 * A Go-style duration (`30s`, `500ms`, `1m30s`), the syntax PerformanceProfile
 * resources are validated with, so a stored profile always runs; or a bare
 * number of seconds, as wrk's `-d` takes it. Whole milliseconds.
 */
export function parseDuration(option: string, text: string): number {
  const trimmed = text.trim();
  const ms = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) * 1000 : parseGoDuration(trimmed);
  if (typeof ms === 'string') throw new LoadOptionError(option, ms);
  return Math.round(ms);
}

/** `Name: value` or `Name:value`. */
export function parseHeader(option: string, text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new LoadOptionError(option, `expected Name:value, got ${JSON.stringify(text)}`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}
