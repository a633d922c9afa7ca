import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import { createRetryState, SUPPORTED_RETRY_ON, type UpstreamOutcome } from '../../../src/proxy/router/retry-state.js';
import { retryPolicy, seededRandom } from './fixtures.js';

const OUTCOMES: Array<[string, UpstreamOutcome]> = [
  ['200', { kind: 'response', status: 200 }],
  ['404', { kind: 'response', status: 404 }],
  ['409', { kind: 'response', status: 409 }],
  ['429', { kind: 'response', status: 429 }],
  ['500', { kind: 'response', status: 500 }],
  ['501', { kind: 'response', status: 501 }],
  ['502', { kind: 'response', status: 502 }],
  ['503', { kind: 'response', status: 503 }],
  ['504', { kind: 'response', status: 504 }],
  ['599', { kind: 'response', status: 599 }],
  ['reset', { kind: 'reset' }],
  ['connect-failure', { kind: 'connect-failure' }],
  ['timeout', { kind: 'timeout' }],
];

describe('wouldRetry per retry_on token', () => {
  const retriable: Record<string, string[]> = {
    '5xx': ['500', '501', '502', '503', '504', '599', 'reset', 'connect-failure', 'timeout'],
    'gateway-error': ['502', '503', '504', 'reset', 'connect-failure', 'timeout'],
    reset: ['reset', 'connect-failure', 'timeout'],
    'connect-failure': ['connect-failure'],
    'retriable-4xx': ['409'],
    'retriable-status-codes': ['429', '503'],
    'refused-stream': [],
  };

  it('covers every supported token', () => {
    assert.deepEqual(Object.keys(retriable).sort(), [...SUPPORTED_RETRY_ON].sort());
  });

  for (const [token, expected] of Object.entries(retriable)) {
    for (const [label, outcome] of OUTCOMES) {
      const want = expected.includes(label);
      it(`${token}: ${label} -> ${want ? 'retry' : 'no retry'}`, () => {
        const state = createRetryState(retryPolicy({ retryOn: [token], retriableStatusCodes: [429, 503] }));
        assert.equal(state.wouldRetry(outcome), want);
      });
    }
  }

  it('tokens combine', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['connect-failure', 'retriable-4xx'] }));
    assert.equal(state.wouldRetry({ kind: 'connect-failure' }), true);
    assert.equal(state.wouldRetry({ kind: 'response', status: 409 }), true);
    assert.equal(state.wouldRetry({ kind: 'response', status: 503 }), false);
    assert.equal(state.wouldRetry({ kind: 'reset' }), false);
  });

  it('retriable-status-codes with an empty list retries nothing', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['retriable-status-codes'] }));
    assert.equal(state.wouldRetry({ kind: 'response', status: 503 }), false);
  });

  it('no policy: never retries', () => {
    const state = createRetryState(undefined);
    for (const [, outcome] of OUTCOMES) assert.equal(state.wouldRetry(outcome), false);
    assert.equal(state.nextBackOffMs(0.5), undefined);
    assert.equal(state.attempts, 1);
  });
});

describe('retry budget of one request', () => {
  it('num_retries retries, then none; attempts counts tries', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: 2 }));
    assert.equal(state.attempts, 1);
    assert.notEqual(state.nextBackOffMs(0), undefined);
    assert.equal(state.attempts, 2);
    assert.notEqual(state.nextBackOffMs(0), undefined);
    assert.equal(state.attempts, 3);
    assert.equal(state.nextBackOffMs(0), undefined);
    assert.equal(state.attempts, 3);
  });

  it('a policy without retry_on grants no retries', () => {
    assert.equal(createRetryState(retryPolicy({ retryOn: [], numRetries: 3 })).nextBackOffMs(0), undefined);
  });

  it('states from the same policy are independent', () => {
    const policy = retryPolicy({ retryOn: ['5xx'], numRetries: 1 });
    const first = createRetryState(policy);
    assert.notEqual(first.nextBackOffMs(0), undefined);
    assert.notEqual(createRetryState(policy).nextBackOffMs(0), undefined);
  });
});

describe('back-off (Envoy JitteredExponentialBackOffStrategy)', () => {
  const cases: Array<[base: number, max: number, ceilings: number[]]> = [
    [25, 250, [25, 50, 100, 200, 250, 250]],
    [10, 30, [10, 20, 30, 30]],
    [100, 100, [100, 100, 100]],
  ];
  for (const [base, max, ceilings] of cases) {
    it(`base ${base} max ${max}: ceilings ${ceilings.join(', ')}`, () => {
      const high = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: ceilings.length, backOff: { baseIntervalMs: base, maxIntervalMs: max } }));
      const low = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: ceilings.length, backOff: { baseIntervalMs: base, maxIntervalMs: max } }));
      for (const ceiling of ceilings) {
        assert.equal(high.nextBackOffMs(0.999999), ceiling - 1, 'upper bound is exclusive');
        assert.equal(low.nextBackOffMs(0), 0, 'fully jittered: can be 0');
      }
    });
  }

  it('random delays stay within [0, ceiling) and use the range', () => {
    const random = seededRandom(7);
    const seen = new Set<number>();
    for (let run = 0; run < 500; run++) {
      const state = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: 3 }));
      for (const ceiling of [25, 50, 100]) {
        const delay = state.nextBackOffMs(random())!;
        assert.ok(Number.isInteger(delay) && delay >= 0 && delay < ceiling, `delay ${delay} for ceiling ${ceiling}`);
        if (ceiling === 25) seen.add(delay);
      }
    }
    assert.ok(seen.size >= 20, `first-retry delays cover the range (${seen.size} distinct values)`);
  });
});

describe('x-envoy-retry-on / x-envoy-max-retries request headers', () => {
  const headers = (...pairs: string[]) => HeaderMap.fromRaw(pairs);

  it('enable retries without a policy, with Envoy defaults (1 retry, 25 ms base)', () => {
    const state = createRetryState(undefined, headers('x-envoy-retry-on', '5xx'));
    assert.equal(state.wouldRetry({ kind: 'response', status: 500 }), true);
    assert.equal(state.nextBackOffMs(0.999999), 24);
    assert.equal(state.nextBackOffMs(0), undefined);
  });

  it('add tokens to the policy (comma list, spaces tolerated)', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['connect-failure'] }), headers('x-envoy-retry-on', 'retriable-4xx, unknown-token'));
    assert.equal(state.wouldRetry({ kind: 'response', status: 409 }), true);
    assert.equal(state.wouldRetry({ kind: 'connect-failure' }), true);
    assert.equal(state.wouldRetry({ kind: 'response', status: 500 }), false);
  });

  it('x-envoy-max-retries overrides num_retries', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: 1 }), headers('x-envoy-max-retries', '3'));
    for (let i = 0; i < 3; i++) assert.notEqual(state.nextBackOffMs(0), undefined);
    assert.equal(state.nextBackOffMs(0), undefined);
    assert.equal(state.attempts, 4);
  });

  it('x-envoy-max-retries 0 disables retries', () => {
    assert.equal(createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: 2 }), headers('x-envoy-max-retries', '0')).nextBackOffMs(0), undefined);
  });

  it('an unparsable x-envoy-max-retries is ignored', () => {
    const state = createRetryState(retryPolicy({ retryOn: ['5xx'], numRetries: 1 }), headers('x-envoy-max-retries', '-2'));
    assert.notEqual(state.nextBackOffMs(0), undefined);
    assert.equal(state.nextBackOffMs(0), undefined);
  });

  it('x-envoy-max-retries alone does not enable retries', () => {
    const state = createRetryState(undefined, headers('x-envoy-max-retries', '5'));
    assert.equal(state.wouldRetry({ kind: 'reset' }), false);
    assert.equal(state.nextBackOffMs(0), undefined);
  });
});
