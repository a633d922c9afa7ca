import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/lib/errors.js';
import { parseLocalRateLimitConfig } from '../../../../src/proxy/filters/local_ratelimit/config.js';

const P = 'http_filters[1].typed_config';
const BUCKET = { max_tokens: 10, fill_interval: '1s' };
const base = (extra: Record<string, unknown> = {}) => ({ stat_prefix: 'rl', token_bucket: BUCKET, ...extra });

describe('local_ratelimit config: accepted', () => {
  it('applies Envoy defaults: 0% enabled and enforced, 429, one token per fill, no x-ratelimit headers', () => {
    assert.deepEqual(parseLocalRateLimitConfig(base(), P), {
      statPrefix: 'rl',
      maxTokens: 10,
      tokensPerFill: 1,
      fillIntervalMs: 1000,
      enabled: { numerator: 0, denominator: 100 },
      enforced: { numerator: 0, denominator: 100 },
      status: 429,
      responseHeaders: [],
      requestHeadersWhenNotEnforced: [],
      xRateLimitHeaders: false,
    });
  });

  it('reads every supported field', () => {
    const c = parseLocalRateLimitConfig(
      {
        stat_prefix: 'rl',
        token_bucket: { max_tokens: 5, tokens_per_fill: 2, fill_interval: '0.050s' },
        filter_enabled: { runtime_key: 'rl_enabled', default_value: { numerator: 100, denominator: 'HUNDRED' } },
        filter_enforced: { default_value: { numerator: 5000, denominator: 'TEN_THOUSAND' } },
        status: { code: 'ServiceUnavailable' },
        response_headers_to_add: [
          { header: { key: 'x-limited', value: 'a' } },
          { header: { key: 'x-limited', value: 'b' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          { header: { key: 'x-empty', value: '' } },
          { header: { key: 'x-kept', value: '' }, keep_empty_value: true },
          { header: { key: 'x-missing', value: 'c' }, append_action: 'OVERWRITE_IF_EXISTS' },
          { header: { key: 'x-percent', value: '50%%' } },
        ],
        request_headers_to_add_when_not_enforced: [{ header: { key: 'x-would-limit', value: 'true' }, append: false }],
        enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
        local_rate_limit_per_downstream_connection: false,
      },
      P,
    );
    assert.equal(c.tokensPerFill, 2);
    assert.equal(c.fillIntervalMs, 50);
    assert.deepEqual(c.enabled, { numerator: 100, denominator: 100 });
    assert.deepEqual(c.enforced, { numerator: 5000, denominator: 10_000 });
    assert.equal(c.status, 503);
    assert.deepEqual(c.responseHeaders, [['x-limited', 'b'], ['x-kept', ''], ['x-percent', '50%']]);
    assert.deepEqual(c.requestHeadersWhenNotEnforced, [
      { op: 'OVERWRITE_IF_EXISTS_OR_ADD', name: 'x-would-limit', lowerName: 'x-would-limit', value: 'true' },
    ]);
    assert.equal(c.xRateLimitHeaders, true);
  });

  const statuses: Array<[unknown, number]> = [[503, 503], ['BadRequest', 400], [200, 429], ['Continue', 429]];
  for (const [code, expected] of statuses) {
    it(`status.code ${JSON.stringify(code)} -> ${expected} (below 400 means 429)`, () => {
      assert.equal(parseLocalRateLimitConfig(base({ status: { code } }), P).status, expected);
    });
  }
});

describe('local_ratelimit config: rejected with the field path', () => {
  const cases: Array<{ raw: unknown; path: string; reason: RegExp }> = [
    { raw: { token_bucket: BUCKET }, path: `${P}.stat_prefix`, reason: /required/ },
    { raw: base({ stat_prefix: '' }), path: `${P}.stat_prefix`, reason: /must not be empty/ },
    { raw: { stat_prefix: 'rl' }, path: `${P}.token_bucket`, reason: /required/ },
    { raw: base({ bogus: true }), path: `${P}.bogus`, reason: /unknown field/ },
    { raw: base({ token_bucket: { max_tokens: 1 } }), path: `${P}.token_bucket.fill_interval`, reason: /required/ },
    { raw: base({ token_bucket: { max_tokens: 0, fill_interval: '1s' } }), path: `${P}.token_bucket.max_tokens`, reason: />= 1/ },
    { raw: base({ token_bucket: { max_tokens: 1, tokens_per_fill: 0, fill_interval: '1s' } }), path: `${P}.token_bucket.tokens_per_fill`, reason: />= 1/ },
    { raw: base({ token_bucket: { max_tokens: 1, fill_interval: '0.049s' } }), path: `${P}.token_bucket.fill_interval`, reason: />= 50ms/ },
    { raw: base({ token_bucket: { max_tokens: 1, fill_interval: '1m' } }), path: `${P}.token_bucket.fill_interval`, reason: /invalid duration/ },
    { raw: base({ token_bucket: { max_tokens: 1, fill_interval: '1s', extra: 1 } }), path: `${P}.token_bucket.extra`, reason: /unknown field/ },
    { raw: base({ filter_enabled: { runtime_key: 'k' } }), path: `${P}.filter_enabled.default_value`, reason: /required/ },
    { raw: base({ filter_enforced: { default_value: { numerator: 1, denominator: 'TEN' } } }), path: `${P}.filter_enforced.default_value.denominator`, reason: /supported: HUNDRED/ },
    { raw: base({ status: { code: 0 } }), path: `${P}.status.code`, reason: /StatusCode enum/ },
    { raw: base({ status: { code: 999 } }), path: `${P}.status.code`, reason: /StatusCode enum/ },
    { raw: base({ status: { code: 'Teapot' } }), path: `${P}.status.code`, reason: /StatusCode enum/ },
    { raw: base({ status: {} }), path: `${P}.status.code`, reason: /required/ },
    { raw: base({ enable_x_ratelimit_headers: 'DRAFT_VERSION_04' }), path: `${P}.enable_x_ratelimit_headers`, reason: /supported: OFF, DRAFT_VERSION_03/ },
    { raw: base({ local_rate_limit_per_downstream_connection: true }), path: `${P}.local_rate_limit_per_downstream_connection`, reason: /not supported yet/ },
    { raw: base({ descriptors: [] }), path: `${P}.descriptors`, reason: /not supported yet/ },
    { raw: base({ always_consume_default_token_bucket: false }), path: `${P}.always_consume_default_token_bucket`, reason: /not supported yet/ },
    { raw: base({ response_headers_to_add: [{ header: { key: ':status', value: '1' } }] }), path: `${P}.response_headers_to_add[0].header.key`, reason: /pseudo-header/ },
    { raw: base({ request_headers_to_add_when_not_enforced: [{ header: { key: 'Host', value: 'x' } }] }), path: `${P}.request_headers_to_add_when_not_enforced[0].header.key`, reason: /host header cannot be modified/ },
    { raw: base({ response_headers_to_add: [{ header: { key: 'x', value: '%START_TIME%' } }] }), path: `${P}.response_headers_to_add[0].header.value`, reason: /substitution %START_TIME% is not supported yet/ },
    { raw: base({ response_headers_to_add: [{ header: { key: 'x', value: 'v' }, append: true, append_action: 'ADD_IF_ABSENT' }] }), path: `${P}.response_headers_to_add[0].append`, reason: /not both/ },
    { raw: base({ response_headers_to_add: [{ header: { key: 'x', value: 'v' }, append_action: 'PREPEND' }] }), path: `${P}.response_headers_to_add[0].append_action`, reason: /unsupported value/ },
    { raw: base({ response_headers_to_add: Array.from({ length: 11 }, () => ({ header: { key: 'x', value: 'v' } })) }), path: `${P}.response_headers_to_add`, reason: /10/ },
  ];
  for (const { raw, path, reason } of cases) {
    it(`${path}: ${reason.source}`, () => {
      assert.throws(
        () => parseLocalRateLimitConfig(raw, P),
        (err: unknown) => err instanceof ConfigError && err.path === path && reason.test(err.reason),
      );
    });
  }
});
