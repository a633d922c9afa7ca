import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FilterStatus, type FilterInstanceFactory } from '../../../../src/proxy/filters/filter.js';
import { parseLocalRateLimitConfig } from '../../../../src/proxy/filters/local_ratelimit/config.js';
import { localRateLimitFilterFactory } from '../../../../src/proxy/filters/local_ratelimit/filter.js';
import { findHttpFilterByTypeUrl } from '../../../../src/proxy/filters/registry.js';
import type { FilterRequest } from '../../../../src/proxy/filters/filter.js';
import { ManualClock, RecordingCallbacks, makeContext, makeRequest, seededRandom } from '../harness.js';

const ALL = { default_value: { numerator: 100 } };

interface Setup {
  factory: FilterInstanceFactory;
  clock: ManualClock;
  stat(name: string): number;
}

function setup(extra: Record<string, unknown>, options: { random?: () => number; bucket?: Record<string, unknown> } = {}): Setup {
  const config = parseLocalRateLimitConfig(
    { stat_prefix: 'rl', token_bucket: options.bucket ?? { max_tokens: 3, fill_interval: '1s' }, ...extra },
    'local_ratelimit',
  );
  const clock = new ManualClock();
  const { context, store } = makeContext({ now: clock.now, ...(options.random ? { random: options.random } : {}) });
  return {
    factory: localRateLimitFilterFactory.createFilterFactory(config, context),
    clock,
    stat: (name) => store.counter(`rl.http_local_rate_limit.${name}`).value(),
  };
}

function runStream(s: Setup, request: FilterRequest = makeRequest()) {
  const callbacks = new RecordingCallbacks(s.clock.now);
  const filter = s.factory.create(callbacks);
  const status = filter.decodeHeaders(request, true);
  filter.onDestroy();
  return { callbacks, status, request };
}

describe('local_ratelimit filter', () => {
  it('is found by its v3 type URL under its Envoy name', () => {
    const factory = findHttpFilterByTypeUrl('type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit');
    assert.equal(factory?.name, 'envoy.filters.http.local_ratelimit');
  });

  it('is a no-op without filter_enabled, as in Envoy (0% by default)', () => {
    const s = setup({ filter_enforced: ALL });
    for (let i = 0; i < 10; i++) assert.equal(runStream(s).status, FilterStatus.Continue);
    assert.equal(s.stat('enabled'), 0);
    assert.equal(s.stat('rate_limited'), 0);
  });

  it('allows a burst of max_tokens, then answers 429 local_rate_limited with flag RL', () => {
    const s = setup({ filter_enabled: ALL, filter_enforced: ALL });
    for (let i = 0; i < 3; i++) {
      const { status, callbacks } = runStream(s);
      assert.equal(status, FilterStatus.Continue);
      assert.equal(callbacks.localReplies.length, 0);
    }
    const { status, callbacks } = runStream(s);
    assert.equal(status, FilterStatus.StopIteration);
    assert.deepEqual(callbacks.localReplies, [{ status: 429, body: 'local_rate_limited', headers: [], details: 'local_rate_limited' }]);
    assert.deepEqual(callbacks.flags, ['RL']);
    assert.equal(callbacks.continueCount, 0);
    assert.deepEqual(
      ['enabled', 'ok', 'rate_limited', 'enforced'].map((n) => s.stat(n)),
      [4, 3, 1, 1],
    );
  });

  it('admits again after the bucket refills on the injected clock', () => {
    const s = setup({ filter_enabled: ALL, filter_enforced: ALL }, { bucket: { max_tokens: 2, tokens_per_fill: 2, fill_interval: '1s' } });
    runStream(s);
    runStream(s);
    assert.equal(runStream(s).status, FilterStatus.StopIteration);
    s.clock.advance(500);
    assert.equal(runStream(s).status, FilterStatus.Continue);
    assert.equal(runStream(s).status, FilterStatus.StopIteration);
    s.clock.advance(60_000);
    assert.equal(runStream(s).status, FilterStatus.Continue);
    assert.equal(runStream(s).status, FilterStatus.Continue);
    assert.equal(runStream(s).status, FilterStatus.StopIteration, 'the refill is capped at max_tokens');
  });

  it('uses status.code and response_headers_to_add for the local reply', () => {
    const s = setup(
      {
        filter_enabled: ALL,
        filter_enforced: ALL,
        status: { code: 503 },
        response_headers_to_add: [{ header: { key: 'x-local-rate-limit', value: 'true' } }],
      },
      { bucket: { max_tokens: 1, fill_interval: '1s' } },
    );
    assert.deepEqual(runStream(s).callbacks.localReplies, []);
    const { callbacks } = runStream(s);
    assert.equal(callbacks.localReplies[0]?.status, 503);
    assert.deepEqual(callbacks.localReplies[0]?.headers, [['x-local-rate-limit', 'true']]);
  });

  it('enabled but not enforced: passes, counts rate_limited, adds request_headers_to_add_when_not_enforced', () => {
    const s = setup(
      {
        filter_enabled: ALL,
        request_headers_to_add_when_not_enforced: [{ header: { key: 'x-would-be-limited', value: 'yes' } }],
        response_headers_to_add: [{ header: { key: 'x-limited', value: 'true' } }],
      },
      { bucket: { max_tokens: 1, fill_interval: '1s' } },
    );
    const first = runStream(s);
    assert.equal(first.request.headers.get('x-would-be-limited'), undefined);
    const limited = runStream(s);
    assert.equal(limited.status, FilterStatus.Continue);
    assert.equal(limited.request.headers.get('x-would-be-limited'), 'yes');
    assert.deepEqual(limited.callbacks.localReplies, []);
    assert.deepEqual(limited.callbacks.flags, []);
    assert.deepEqual(['enabled', 'ok', 'rate_limited', 'enforced'].map((n) => s.stat(n)), [2, 1, 1, 0]);
  });

  it('filter_enabled and filter_enforced are fractions of requests (seeded, within ±1.5%)', () => {
    const TRIALS = 10_000;
    const s = setup(
      {
        filter_enabled: { default_value: { numerator: 50 } },
        filter_enforced: { default_value: { numerator: 2500, denominator: 'TEN_THOUSAND' } },
      },
      { random: seededRandom(99), bucket: { max_tokens: 1, fill_interval: '1s' } },
    );
    let rejected = 0;
    for (let i = 0; i < TRIALS; i++) if (runStream(s).status === FilterStatus.StopIteration) rejected++;
    const enabled = s.stat('enabled');
    assert.ok(Math.abs(enabled / TRIALS - 0.5) <= 0.015, `enabled ${enabled}`);
    assert.equal(s.stat('ok'), 1, 'the clock never moves: one token only');
    assert.equal(s.stat('rate_limited'), enabled - 1);
    const enforcedShare = s.stat('enforced') / s.stat('rate_limited');
    assert.ok(Math.abs(enforcedShare - 0.25) <= 0.015, `enforced share ${enforcedShare}`);
    assert.equal(rejected, s.stat('enforced'));
  });

  it('DRAFT_VERSION_03 adds x-ratelimit-limit / -remaining / -reset to every enabled response', () => {
    const s = setup(
      { filter_enabled: ALL, filter_enforced: ALL, enable_x_ratelimit_headers: 'DRAFT_VERSION_03' },
      { bucket: { max_tokens: 2, fill_interval: '3s' } },
    );
    const headers = (callbacks: RecordingCallbacks) =>
      ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'].map((n) => callbacks.responseHeader(n));
    assert.deepEqual(headers(runStream(s).callbacks), ['2', '1', '0']);
    assert.deepEqual(headers(runStream(s).callbacks), ['2', '0', '3']);
    const limited = runStream(s);
    assert.equal(limited.status, FilterStatus.StopIteration);
    assert.deepEqual(headers(limited.callbacks), ['2', '0', '3'], 'the 429 carries them too');

    const off = setup({ filter_enabled: ALL, filter_enforced: ALL });
    assert.deepEqual(runStream(off).callbacks.responseHeaders, []);
    const disabled = setup({ enable_x_ratelimit_headers: 'DRAFT_VERSION_03' });
    assert.deepEqual(runStream(disabled).callbacks.responseHeaders, [], 'not enabled for the request: no headers');
  });
});
