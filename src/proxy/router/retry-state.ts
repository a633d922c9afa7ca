/**
 * Per-request retry decisions under a route's RetryPolicy, as Envoy's
 * RetryStateImpl makes them. Budgets and circuit breakers (max_retries, retry
 * budgets) are the cluster's business and are checked by the caller; this
 * module only answers "is this outcome retriable?" and "how long to back off?".
 *
 * retry_on tokens (Envoy router filter docs, x-envoy-retry-on):
 *  - 5xx: any 5xx response, or no response at all (reset, connect failure, per-try timeout).
 *  - gateway-error: 502, 503, 504 responses; like 5xx it also covers resets,
 *    connect failures and per-try timeouts (Envoy's wouldRetryFromReset treats
 *    every reset, including a per-try timeout's local reset, as retriable under
 *    5xx, gateway-error and reset).
 *  - reset: no response at all (disconnect, reset, per-try timeout, connect failure).
 *  - connect-failure: the upstream connection could not be established.
 *  - retriable-4xx: 409 only.
 *  - retriable-status-codes: the policy's retriable_status_codes.
 *  - refused-stream: an HTTP/2 REFUSED_STREAM reset; never happens on HTTP/1.1 upstreams.
 */
import type { RetryPolicy } from '../config/types.js';
import type { HeaderMap } from '../http1/headers.js';

export type UpstreamOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'reset' }
  | { kind: 'connect-failure' }
  /** The per-try timeout fired. */
  | { kind: 'timeout' };

export interface RetryState {
  /** Whether this outcome should be retried under the policy (ignores budgets). */
  wouldRetry(outcome: UpstreamOutcome): boolean;
  /**
   * If a retry remains, consumes it and returns the back-off delay in ms for
   * `random` in [0,1); undefined when no retries are left.
   */
  nextBackOffMs(random: number): number | undefined;
  /** Tries so far including the first (each successful nextBackOffMs adds one). */
  readonly attempts: number;
}

const RETRY_ON_5XX = 1 << 0;
const RETRY_ON_GATEWAY_ERROR = 1 << 1;
const RETRY_ON_RESET = 1 << 2;
const RETRY_ON_CONNECT_FAILURE = 1 << 3;
const RETRY_ON_RETRIABLE_4XX = 1 << 4;
const RETRY_ON_REFUSED_STREAM = 1 << 5;
const RETRY_ON_RETRIABLE_STATUS_CODES = 1 << 6;

const FLAG_BY_TOKEN: ReadonlyMap<string, number> = new Map([
  ['5xx', RETRY_ON_5XX],
  ['gateway-error', RETRY_ON_GATEWAY_ERROR],
  ['reset', RETRY_ON_RESET],
  ['connect-failure', RETRY_ON_CONNECT_FAILURE],
  ['retriable-4xx', RETRY_ON_RETRIABLE_4XX],
  ['refused-stream', RETRY_ON_REFUSED_STREAM],
  ['retriable-status-codes', RETRY_ON_RETRIABLE_STATUS_CODES],
]);

/** The retry_on tokens this module understands; the config loader should reject others. */
export const SUPPORTED_RETRY_ON: readonly string[] = [...FLAG_BY_TOKEN.keys()];

const NO_RESPONSE_FLAGS = RETRY_ON_5XX | RETRY_ON_GATEWAY_ERROR | RETRY_ON_RESET;

/** Envoy's defaults when only headers ask for retries: one retry, 25 ms base, 10x max. */
const DEFAULT_NUM_RETRIES = 1;
const DEFAULT_BASE_INTERVAL_MS = 25;

function parseRetryOn(tokens: readonly string[]): number {
  let flags = 0;
  for (const token of tokens) flags |= FLAG_BY_TOKEN.get(token.trim()) ?? 0;
  return flags;
}

// A policy object lives for a config version; parse its tokens once, not per request.
const flagsByPolicy = new WeakMap<RetryPolicy, number>();

function policyFlags(policy: RetryPolicy): number {
  let flags = flagsByPolicy.get(policy);
  if (flags === undefined) {
    flags = parseRetryOn(policy.retryOn);
    flagsByPolicy.set(policy, flags);
  }
  return flags;
}

const NO_STATUS_CODES: readonly number[] = [];

class PolicyRetryState implements RetryState {
  attempts = 1;
  private nextIntervalMs: number;
  // Envoy doubles the interval while it stays below max/2, then pins it at max.
  private readonly doublingLimitMs: number;

  constructor(
    private readonly flags: number,
    private remaining: number,
    private readonly retriableStatusCodes: readonly number[],
    baseIntervalMs: number,
    private readonly maxIntervalMs: number,
  ) {
    this.nextIntervalMs = baseIntervalMs;
    this.doublingLimitMs = Math.floor(maxIntervalMs / 2);
  }

  wouldRetry(outcome: UpstreamOutcome): boolean {
    switch (outcome.kind) {
      case 'response':
        return this.retriableStatus(outcome.status);
      case 'connect-failure':
        return (this.flags & (NO_RESPONSE_FLAGS | RETRY_ON_CONNECT_FAILURE)) !== 0;
      case 'reset':
      case 'timeout':
        return (this.flags & NO_RESPONSE_FLAGS) !== 0;
    }
  }

  /**
   * Envoy's JitteredExponentialBackOffStrategy (source/common/common/backoff_strategy.cc):
   * the n-th retry waits a uniformly random time in [0, base * 2^(n-1)), the
   * ceiling doubling until it would pass max_interval and then staying at
   * max_interval. The router docs ("fully jittered exponential back-off ...
   * [0, (2^N-1)B)", configuration/http/http_filters/router_filter) describe the
   * same growth with a slightly different formula; we follow the code.
   */
  nextBackOffMs(random: number): number | undefined {
    if (this.remaining <= 0) return undefined;
    this.remaining--;
    this.attempts++;
    const ceiling = this.nextIntervalMs;
    this.nextIntervalMs = ceiling < this.doublingLimitMs ? ceiling * 2 : this.maxIntervalMs;
    return Math.floor(random * ceiling);
  }

  private retriableStatus(status: number): boolean {
    const flags = this.flags;
    if (flags & RETRY_ON_5XX && status >= 500 && status <= 599) return true;
    if (flags & RETRY_ON_GATEWAY_ERROR && status >= 502 && status <= 504) return true;
    if (flags & RETRY_ON_RETRIABLE_4XX && status === 409) return true;
    return (flags & RETRY_ON_RETRIABLE_STATUS_CODES) !== 0 && this.retriableStatusCodes.includes(status);
  }
}

/**
 * Retry state for one request. `requestHeaders`, when given, lets the client
 * widen the policy as Envoy allows: `x-envoy-retry-on` adds tokens and, when
 * any token applies, `x-envoy-max-retries` overrides the retry count. The
 * caller passes them only for internal requests and strips them before
 * forwarding, as Envoy's HCM and router do.
 */
export function createRetryState(policy: RetryPolicy | undefined, requestHeaders?: HeaderMap): RetryState {
  let flags = policy === undefined ? 0 : policyFlags(policy);
  let remaining = policy?.numRetries ?? DEFAULT_NUM_RETRIES;
  const retryOnHeader = requestHeaders?.get('x-envoy-retry-on');
  if (retryOnHeader !== undefined) flags |= parseRetryOn(retryOnHeader.split(','));
  const maxRetriesHeader = requestHeaders?.get('x-envoy-max-retries');
  if (flags !== 0 && maxRetriesHeader !== undefined && /^\d+$/.test(maxRetriesHeader)) remaining = Number(maxRetriesHeader);
  // Without any retry_on condition Envoy creates no retry state at all: no retries.
  if (flags === 0) remaining = 0;
  const baseIntervalMs = policy?.backOff.baseIntervalMs ?? DEFAULT_BASE_INTERVAL_MS;
  const maxIntervalMs = policy?.backOff.maxIntervalMs ?? baseIntervalMs * 10;
  return new PolicyRetryState(flags, remaining, policy?.retriableStatusCodes ?? NO_STATUS_CODES, baseIntervalMs, maxIntervalMs);
}
