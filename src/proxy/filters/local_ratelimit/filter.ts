/**
 * Envoy's HTTP local rate limit filter, per stream (`local_ratelimit.cc` semantics).
 * One token bucket per config version, shared by every stream of the listener.
 *
 *   not enabled (filter_enabled draw)  -> pass, no stats
 *   enabled: `enabled`++, take a token -> `ok`++ and pass
 *   no token: `rate_limited`++; not enforced (filter_enforced draw) -> add
 *     request_headers_to_add_when_not_enforced and pass; enforced -> `enforced`++,
 *     local reply `status` / `local_rate_limited`, flag RL, response_headers_to_add.
 *
 * With DRAFT_VERSION_03, every enabled request's response carries x-ratelimit-limit /
 * -remaining / -reset. Envoy reads the bucket when the response headers are encoded;
 * Weft reads it when the request is admitted (the interface has no encode hook).
 */
import { defineStats } from '../../observe/stats.js';
import {
  FilterStatus,
  type FilterCallbacks,
  type FilterFactoryContext,
  type FilterInstanceFactory,
  type FilterRequest,
  type HttpFilter,
  type HttpFilterFactory,
} from '../filter.js';
import { fractionHit } from '../fraction.js';
import { applyMutations } from '../../router/header-mutations.js';
import { LOCAL_RATE_LIMIT_FILTER_NAME, LOCAL_RATE_LIMIT_TYPE_URL } from '../names.js';
import type { LocalRateLimitConfig } from './config.js';
import { TokenBucket } from './token-bucket.js';

/** Envoy's ALL_LOCAL_RATE_LIMIT_STATS, under `<stat_prefix>.http_local_rate_limit.` (root scope). */
export const LOCAL_RATE_LIMIT_STATS = {
  counters: ['enabled', 'enforced', 'rate_limited', 'ok'],
  gauges: [],
  histograms: [],
} as const;

export const X_RATELIMIT_LIMIT = 'x-ratelimit-limit';
export const X_RATELIMIT_REMAINING = 'x-ratelimit-remaining';
export const X_RATELIMIT_RESET = 'x-ratelimit-reset';

/** State shared by every stream of one config version. */
interface RateLimitShared {
  readonly config: LocalRateLimitConfig;
  readonly bucket: TokenBucket;
  readonly stats: ReturnType<typeof defineStats<typeof LOCAL_RATE_LIMIT_STATS>>;
  readonly random: () => number;
  /** x-ratelimit-limit never changes: rendered once. */
  readonly limitHeaderValue: string;
}

class LocalRateLimitFilter implements HttpFilter {
  constructor(
    private readonly shared: RateLimitShared,
    private readonly callbacks: FilterCallbacks,
  ) {}

  decodeHeaders(request: FilterRequest): FilterStatus {
    const { config, bucket, stats, random } = this.shared;
    if (!fractionHit(config.enabled.numerator, config.enabled.denominator, random)) return FilterStatus.Continue;
    stats.enabled.inc();
    const allowed = bucket.tryConsume();
    if (config.xRateLimitHeaders) {
      this.callbacks.addResponseHeader(X_RATELIMIT_LIMIT, this.shared.limitHeaderValue);
      this.callbacks.addResponseHeader(X_RATELIMIT_REMAINING, String(bucket.remaining()));
      this.callbacks.addResponseHeader(X_RATELIMIT_RESET, String(bucket.resetSeconds()));
    }
    if (allowed) {
      stats.ok.inc();
      return FilterStatus.Continue;
    }
    stats.rate_limited.inc();
    if (!fractionHit(config.enforced.numerator, config.enforced.denominator, random)) {
      applyMutations(request.headers, config.requestHeadersWhenNotEnforced);
      return FilterStatus.Continue;
    }
    stats.enforced.inc();
    this.callbacks.addResponseFlag('RL');
    this.callbacks.sendLocalReply(config.status, 'local_rate_limited', config.responseHeaders, 'local_rate_limited');
    return FilterStatus.StopIteration;
  }

  onDestroy(): void {}
}

export const localRateLimitFilterFactory = {
  name: LOCAL_RATE_LIMIT_FILTER_NAME,
  typeUrls: [LOCAL_RATE_LIMIT_TYPE_URL],
  createFilterFactory(config: LocalRateLimitConfig, context: FilterFactoryContext): FilterInstanceFactory {
    const shared: RateLimitShared = {
      config,
      bucket: new TokenBucket(config.maxTokens, config.tokensPerFill, config.fillIntervalMs, context.now),
      // Envoy creates these in the root scope, not under the HCM's `http.<stat_prefix>.`.
      stats: defineStats(context.rootStats.scope(`${config.statPrefix}.http_local_rate_limit.`), LOCAL_RATE_LIMIT_STATS),
      random: context.random,
      limitHeaderValue: String(config.maxTokens),
    };
    return {
      create: (callbacks) => new LocalRateLimitFilter(shared, callbacks),
      // The bucket is refilled lazily from the clock: no timer to release.
      close: () => {},
    };
  },
} satisfies HttpFilterFactory<LocalRateLimitConfig>;
