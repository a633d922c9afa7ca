/**
 * The HTTP filter extension point (Envoy's `envoy/http/filter.h`): interfaces only.
 *
 * A filter chain is built once per config version from `HttpFilterFactory`s; each
 * request gets fresh per-stream filter instances. Hooks return an explicit status:
 *  - `Continue`: hand the headers to the next filter.
 *  - `StopIteration`: the filter holds the stream (e.g. a fault delay) and later
 *    calls `callbacks.continueDecoding()`, or ends it with `sendLocalReply()`.
 * A filter never throws across the chain; a bug surfaces as a 500 local reply.
 */
import type { HeaderMap } from '../http1/headers.js';
import type { StatsScope } from '../observe/stats.js';

export const enum FilterStatus {
  Continue = 0,
  StopIteration = 1,
}

/** The request as filters see it. Header names are lower-case for lookups. */
export interface FilterRequest {
  readonly method: string;
  /** Path with query, as received (origin-form). */
  readonly path: string;
  readonly authority: string;
  readonly headers: HeaderMap;
  readonly scheme: 'http' | 'https';
  /** The downstream peer's IP address (as `FilterCallbacks.remoteAddress`). */
  readonly remoteAddress: string;
}

/** The downstream connection as filters (and the listener's network filters) see it. */
export interface DownstreamInfo {
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  /** The peer's identity on an mTLS connection (its certificate's URI SAN, a SPIFFE ID); undefined on plaintext. */
  readonly peerPrincipal: string | undefined;
}

export interface FilterCallbacks {
  /** Ends the stream with a locally generated response; later filters and the router do not run. `details` goes to the access log (%RESPONSE_CODE_DETAILS%). */
  sendLocalReply(status: number, body: string, headers: ReadonlyArray<readonly [string, string]>, details: string): void;
  /** Resumes the chain after `StopIteration`. */
  continueDecoding(): void;
  /** Adds an Envoy response flag (e.g. 'RL', 'FI', 'DI') to the access log. */
  addResponseFlag(flag: string): void;
  /** Adds a header to the eventual response (local or upstream). */
  addResponseHeader(name: string, value: string): void;
  readonly remoteAddress: string;
  /** The connection the request arrived on. */
  readonly downstream: DownstreamInfo;
  /** Milliseconds, monotonic; injectable for tests. */
  now(): number;
}

export interface HttpFilter {
  decodeHeaders(request: FilterRequest, endStream: boolean): FilterStatus;
  /** Called once when the stream ends for any reason (release timers, counters). */
  onDestroy(): void;
}

export interface FilterFactoryContext {
  /** Scope for the filter's stats, already prefixed with the HCM's `http.<stat_prefix>.` */
  stats: StatsScope;
  /** The root scope, for filters whose Envoy stats are not under the HCM's prefix (local_ratelimit: `<stat_prefix>.http_local_rate_limit.`). */
  rootStats: StatsScope;
  now(): number;
  random(): number;
}

/** A filter's config parser, used by the bootstrap loader only (it may load the schema validator). */
export interface HttpFilterConfigParser<Config = unknown> {
  /** Well-known name, e.g. 'envoy.filters.http.fault'. */
  readonly name: string;
  /** The `@type` URLs this filter accepts. */
  readonly typeUrls: readonly string[];
  /** Validates the typed_config (without `@type`); throws ConfigError with `path` on bad input. */
  parseConfig(raw: unknown, path: string): Config;
}

/** A filter at runtime: builds per-stream instances from its parsed config. Must not import the config loader. */
export interface HttpFilterFactory<Config = unknown> {
  readonly name: string;
  readonly typeUrls: readonly string[];
  /** Called once per config version; returns the per-stream constructor. Shared state (a token bucket) lives in the closure. */
  createFilterFactory(config: Config, context: FilterFactoryContext): FilterInstanceFactory;
}

export interface FilterInstanceFactory {
  create(callbacks: FilterCallbacks): HttpFilter;
  /** Releases shared resources (timers) when the config version is retired. */
  close(): void;
}
