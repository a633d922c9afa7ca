/**
 * `envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit`: schema,
 * validation and the normalized config. Parsed once per config version.
 *
 * Supported: stat_prefix, token_bucket, filter_enabled, filter_enforced, status,
 * response_headers_to_add, request_headers_to_add_when_not_enforced,
 * enable_x_ratelimit_headers, local_rate_limit_per_downstream_connection (false).
 * Envoy lets the filter-level token_bucket be absent (the bucket then comes from
 * per-route configs); Weft has no per-route filter configs, so it is required.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../../lib/errors.js';
import { durationMs } from '../../config/duration.js';
import { Bool, Duration, Enum, HeaderValueOption, NonEmptyStr, Obj, Opt, UInt, unsupportedFields, type RawHeaderValueOption } from '../../config/schema-common.js';
import { normalizeHeaderValueOptions } from '../../config/normalize-common.js';
import { compileValidator, type Validator } from '../../config/validator.js';
import { HeaderMap } from '../../http1/headers.js';
import { applyMutations, type MutationStep } from '../../router/header-mutations.js';
import { RuntimeFractionalPercent, toFraction, type RawRuntimeFractionalPercent } from '../fractional-percent.js';
import type { Fraction } from '../fraction.js';
import { LOCAL_RATE_LIMIT_FILTER_NAME, LOCAL_RATE_LIMIT_TYPE_URL } from '../names.js';
import type { HttpFilterConfigParser } from '../filter.js';
import { parseStatusCode, STATUS_CODE_REASON } from '../http-status.js';


/** Envoy: "local rate limit token bucket fill timer must be >= 50ms". */
export const MIN_FILL_INTERVAL_MS = 50;
const UINT32_MAX = 4_294_967_295;
const MAX_HEADER_OPTIONS = 10;

const TokenBucket = Obj({
  max_tokens: UInt({ minimum: 1, maximum: UINT32_MAX }),
  tokens_per_fill: Opt(UInt({ minimum: 1, maximum: UINT32_MAX })),
  fill_interval: Duration(),
});

const LocalRateLimit = Obj({
  stat_prefix: NonEmptyStr(),
  // `code` is checked after the schema: it may be a number or an enum name.
  status: Opt(Obj({ code: Type.Unknown() })),
  token_bucket: TokenBucket,
  filter_enabled: Opt(RuntimeFractionalPercent),
  filter_enforced: Opt(RuntimeFractionalPercent),
  request_headers_to_add_when_not_enforced: Opt(Type.Array(HeaderValueOption, { maxItems: MAX_HEADER_OPTIONS })),
  response_headers_to_add: Opt(Type.Array(HeaderValueOption, { maxItems: MAX_HEADER_OPTIONS })),
  enable_x_ratelimit_headers: Opt(Enum(['OFF', 'DRAFT_VERSION_03'])),
  local_rate_limit_per_downstream_connection: Opt(Bool()),
  ...unsupportedFields([
    'descriptors', 'stage', 'local_cluster_rate_limit', 'vh_rate_limits', 'always_consume_default_token_bucket',
    'rate_limited_as_resource_exhausted', 'rate_limits', 'max_dynamic_descriptors',
  ]),
});

const validateLocalRateLimit: Validator<Static<typeof LocalRateLimit>> = compileValidator(LocalRateLimit);

export interface LocalRateLimitConfig {
  readonly statPrefix: string;
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
  /** Absent filter_enabled / filter_enforced mean 0% (Envoy's default, for safety). */
  readonly enabled: Fraction;
  readonly enforced: Fraction;
  /** The local reply status: `status.code`, 429 when unset or below 400 (Envoy's toErrorCode). */
  readonly status: number;
  /** Headers of the rate-limited local reply, in order. */
  readonly responseHeaders: ReadonlyArray<readonly [string, string]>;
  /** Applied to the request when it is rate limited but not enforced. */
  readonly requestHeadersWhenNotEnforced: readonly MutationStep[];
  /** enable_x_ratelimit_headers: DRAFT_VERSION_03. */
  readonly xRateLimitHeaders: boolean;
}

export function parseLocalRateLimitConfig(raw: unknown, path: string): LocalRateLimitConfig {
  validateLocalRateLimit(raw, path);
  if (raw.local_rate_limit_per_downstream_connection === true) {
    throw new ConfigError(`${path}.local_rate_limit_per_downstream_connection`, 'not supported yet: only a bucket shared by all connections');
  }
  const fillIntervalMs = durationMs(raw.token_bucket.fill_interval, 0);
  if (fillIntervalMs < MIN_FILL_INTERVAL_MS) {
    throw new ConfigError(`${path}.token_bucket.fill_interval`, `must be >= ${MIN_FILL_INTERVAL_MS}ms`);
  }
  return {
    statPrefix: raw.stat_prefix,
    maxTokens: raw.token_bucket.max_tokens,
    tokensPerFill: raw.token_bucket.tokens_per_fill ?? 1,
    fillIntervalMs,
    enabled: runtimeFraction(raw.filter_enabled),
    enforced: runtimeFraction(raw.filter_enforced),
    status: parseStatus(raw.status, `${path}.status.code`),
    responseHeaders: localReplyHeaders(compileHeaderOptions(raw.response_headers_to_add, `${path}.response_headers_to_add`)),
    requestHeadersWhenNotEnforced: compileHeaderOptions(
      raw.request_headers_to_add_when_not_enforced,
      `${path}.request_headers_to_add_when_not_enforced`,
    ),
    xRateLimitHeaders: raw.enable_x_ratelimit_headers === 'DRAFT_VERSION_03',
  };
}

function runtimeFraction(raw: RawRuntimeFractionalPercent | undefined): Fraction {
  return toFraction(raw?.default_value);
}

const TOO_MANY_REQUESTS = 429;

function parseStatus(raw: { code: unknown } | undefined, path: string): number {
  if (raw === undefined) return TOO_MANY_REQUESTS;
  const code = parseStatusCode(raw.code);
  if (code === undefined) throw new ConfigError(path, STATUS_CODE_REASON);
  return code >= 400 ? code : TOO_MANY_REQUESTS;
}

/** Header value options (validated and normalized as everywhere else) as mutation steps. */
function compileHeaderOptions(raw: RawHeaderValueOption[] | undefined, path: string): MutationStep[] {
  return normalizeHeaderValueOptions(raw, path).map((option) => ({
    op: option.appendAction,
    name: option.key,
    lowerName: option.key.toLowerCase(),
    value: option.value,
  }));
}

/**
 * The local reply is built fresh, so its configured headers are resolved once: the
 * steps applied, in order, to an empty header map.
 */
function localReplyHeaders(steps: readonly MutationStep[]): Array<readonly [string, string]> {
  const headers = new HeaderMap();
  applyMutations(headers, steps);
  const out: Array<readonly [string, string]> = [];
  headers.forEach((name, value) => out.push([name, value]));
  return out;
}

export const localRateLimitConfigParser = {
  name: LOCAL_RATE_LIMIT_FILTER_NAME,
  typeUrls: [LOCAL_RATE_LIMIT_TYPE_URL],
  parseConfig: parseLocalRateLimitConfig,
} satisfies HttpFilterConfigParser<LocalRateLimitConfig>;
