import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { FilterStatus, type FilterFactoryContext, type FilterInstanceFactory } from '../../../../src/proxy/filters/filter.js';
import { parseFaultConfig } from '../../../../src/proxy/filters/fault/config.js';
import { faultFilterFactory } from '../../../../src/proxy/filters/fault/filter.js';
import { findHttpFilterByTypeUrl } from '../../../../src/proxy/filters/registry.js';
import type { StatsStore } from '../../../../src/proxy/observe/stats-store.js';
import { HCM_PREFIX, RecordingCallbacks, makeContext, makeRequest, seededRandom } from '../harness.js';

interface Setup {
  factory: FilterInstanceFactory;
  store: StatsStore;
  counter(name: string): number;
  gauge(name: string): number;
}

function setup(raw: unknown, options: { random?: () => number } = {}): Setup {
  const config = parseFaultConfig(raw, 'fault');
  const { context, store }: { context: FilterFactoryContext; store: StatsStore } = makeContext(options);
  return {
    factory: faultFilterFactory.createFilterFactory(config, context),
    store,
    counter: (name) => store.counter(`${HCM_PREFIX}fault.${name}`).value(),
    gauge: (name) => store.gauge(`${HCM_PREFIX}fault.${name}`).value(),
  };
}

/** Runs one stream through decodeHeaders; returns its status and callbacks. */
function runStream(s: Setup, headers: Record<string, string> = {}) {
  const callbacks = new RecordingCallbacks();
  const filter = s.factory.create(callbacks);
  const status = filter.decodeHeaders(makeRequest(headers), true);
  return { filter, callbacks, status };
}

function useFakeTimers(t: TestContext): void {
  t.mock.timers.enable({ apis: ['setTimeout'] });
}

describe('fault filter: registration', () => {
  it('is found by its v3 type URL under its Envoy name', () => {
    const factory = findHttpFilterByTypeUrl('type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault');
    assert.equal(factory?.name, 'envoy.filters.http.fault');
  });
});

describe('fault filter: percentages', () => {
  const TRIALS = 10_000;
  const cases = [
    { percentage: { numerator: 30 }, expected: 0.3 },
    { percentage: { numerator: 250, denominator: 'TEN_THOUSAND' }, expected: 0.025 },
    { percentage: { numerator: 750_000, denominator: 'MILLION' }, expected: 0.75 },
  ];
  for (const { percentage, expected } of cases) {
    it(`aborts ${expected * 100}% of ${TRIALS} streams (within ±1.5%)`, () => {
      const s = setup({ abort: { http_status: 503, percentage } }, { random: seededRandom(42) });
      let aborted = 0;
      for (let i = 0; i < TRIALS; i++) {
        const { filter, callbacks, status } = runStream(s);
        if (status === FilterStatus.StopIteration) {
          aborted++;
          assert.deepEqual(callbacks.localReplies, [{ status: 503, body: 'fault filter abort', headers: [], details: 'fault_filter_abort' }]);
          assert.deepEqual(callbacks.flags, ['FI']);
        } else {
          assert.equal(callbacks.localReplies.length, 0);
        }
        filter.onDestroy();
      }
      assert.ok(Math.abs(aborted / TRIALS - expected) <= 0.015, `aborted ${aborted} of ${TRIALS}`);
      assert.equal(s.counter('aborts_injected'), aborted);
      assert.equal(s.gauge('active_faults'), 0);
    });
  }

  it(`delays 40% of ${TRIALS} streams (within ±1.5%) and never leaves a timer behind`, (t) => {
    useFakeTimers(t);
    const s = setup({ delay: { fixed_delay: '5s', percentage: { numerator: 40 } } }, { random: seededRandom(7) });
    let delayed = 0;
    for (let i = 0; i < TRIALS; i++) {
      const { filter, status } = runStream(s);
      if (status === FilterStatus.StopIteration) delayed++;
      filter.onDestroy();
    }
    assert.ok(Math.abs(delayed / TRIALS - 0.4) <= 0.015, `delayed ${delayed} of ${TRIALS}`);
    assert.equal(s.counter('delays_injected'), delayed);
    assert.equal(s.gauge('active_faults'), 0);
  });

  it('0% (the proto default) never injects and 100% always does', () => {
    const never = setup({ abort: { http_status: 500 } });
    const always = setup({ abort: { http_status: 500, percentage: { numerator: 100 } } });
    for (let i = 0; i < 100; i++) {
      assert.equal(runStream(never).status, FilterStatus.Continue);
      assert.equal(runStream(always).status, FilterStatus.StopIteration);
    }
  });
});

describe('fault filter: delay and the filter chain contract', () => {
  it('stops iteration, then continues decoding exactly once when the delay elapses', (t) => {
    useFakeTimers(t);
    const s = setup({ delay: { fixed_delay: '0.200s', percentage: { numerator: 100 } } });
    const { filter, callbacks, status } = runStream(s);
    assert.equal(status, FilterStatus.StopIteration);
    assert.deepEqual(callbacks.flags, ['DI']);
    assert.equal(s.counter('delays_injected'), 1);
    assert.equal(s.gauge('active_faults'), 1);
    t.mock.timers.tick(199);
    assert.equal(callbacks.continueCount, 0);
    t.mock.timers.tick(1);
    assert.equal(callbacks.continueCount, 1);
    // The delay is over and nothing else is injected: no longer an active fault.
    assert.equal(s.gauge('active_faults'), 0);
    t.mock.timers.tick(10_000);
    filter.onDestroy();
    assert.equal(callbacks.continueCount, 1);
    assert.equal(callbacks.localReplies.length, 0);
    assert.equal(s.gauge('active_faults'), 0);
  });

  it('a delay followed by an abort ends the stream after the delay instead of continuing', (t) => {
    useFakeTimers(t);
    const s = setup({
      delay: { fixed_delay: '1s', percentage: { numerator: 100 } },
      abort: { http_status: 504, percentage: { numerator: 100 } },
    });
    const { filter, callbacks, status } = runStream(s);
    assert.equal(status, FilterStatus.StopIteration);
    assert.equal(callbacks.localReplies.length, 0, 'the abort waits for the delay');
    t.mock.timers.tick(1000);
    assert.equal(callbacks.continueCount, 0);
    assert.deepEqual(callbacks.localReplies.map((r) => r.status), [504]);
    assert.deepEqual(callbacks.flags, ['DI', 'FI']);
    assert.equal(s.counter('delays_injected'), 1);
    assert.equal(s.counter('aborts_injected'), 1);
    assert.equal(s.gauge('active_faults'), 1, 'one active fault per stream until it ends');
    filter.onDestroy();
    assert.equal(s.gauge('active_faults'), 0);
  });

  it('clears the delay timer when the stream is destroyed first', (t) => {
    useFakeTimers(t);
    const s = setup({ delay: { fixed_delay: '1s', percentage: { numerator: 100 } } });
    const { filter, callbacks } = runStream(s);
    t.mock.timers.tick(500);
    filter.onDestroy();
    assert.equal(s.gauge('active_faults'), 0);
    t.mock.timers.tick(10_000);
    assert.equal(callbacks.continueCount, 0);
    assert.equal(callbacks.localReplies.length, 0);
    filter.onDestroy();
    assert.equal(s.gauge('active_faults'), 0, 'a second onDestroy changes nothing');
  });

  it('a real (unmocked) short delay resumes the stream', async () => {
    const s = setup({ delay: { fixed_delay: '0.010s', percentage: { numerator: 100 } } });
    const { filter, callbacks } = runStream(s);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(callbacks.continueCount, 1);
    filter.onDestroy();
  });
});

describe('fault filter: header-controlled faults', () => {
  it('x-envoy-fault-delay-request sets the delay only when header_delay is configured', (t) => {
    useFakeTimers(t);
    const s = setup({ delay: { header_delay: {}, percentage: { numerator: 100 } } });
    const delayed = runStream(s, { 'x-envoy-fault-delay-request': '50' });
    assert.equal(delayed.status, FilterStatus.StopIteration);
    t.mock.timers.tick(49);
    assert.equal(delayed.callbacks.continueCount, 0);
    t.mock.timers.tick(1);
    assert.equal(delayed.callbacks.continueCount, 1);
    for (const value of [undefined, 'abc', '-5', '0', '1.5']) {
      const headers: Record<string, string> = value === undefined ? {} : { 'x-envoy-fault-delay-request': value };
      assert.equal(runStream(s, headers).status, FilterStatus.Continue, `header ${String(value)}`);
    }
    assert.equal(s.counter('delays_injected'), 1);

    const fixed = setup({ delay: { fixed_delay: '1s', percentage: { numerator: 100 } } });
    const ignored = runStream(fixed, { 'x-envoy-fault-delay-request': '5' });
    t.mock.timers.tick(5);
    assert.equal(ignored.callbacks.continueCount, 0, 'fixed_delay ignores the header');
    t.mock.timers.tick(995);
    assert.equal(ignored.callbacks.continueCount, 1);
  });

  it('x-envoy-fault-abort-request sets the status only when header_abort is configured', () => {
    const s = setup({ abort: { header_abort: {}, percentage: { numerator: 100 } } });
    const aborted = runStream(s, { 'x-envoy-fault-abort-request': '429' });
    assert.equal(aborted.status, FilterStatus.StopIteration);
    assert.deepEqual(aborted.callbacks.localReplies.map((r) => r.status), [429]);
    for (const value of [undefined, '199', '600', 'x']) {
      const headers: Record<string, string> = value === undefined ? {} : { 'x-envoy-fault-abort-request': value };
      assert.equal(runStream(s, headers).status, FilterStatus.Continue, `header ${String(value)}`);
    }
    const fixed = setup({ abort: { http_status: 503, percentage: { numerator: 100 } } });
    assert.deepEqual(runStream(fixed, { 'x-envoy-fault-abort-request': '429' }).callbacks.localReplies.map((r) => r.status), [503]);
  });

  it('the percentage headers lower, never raise, the configured numerator', () => {
    // random() = 0.3 draws 30 of 100: a numerator of 31+ hits, 30 or less does not.
    const random = () => 0.3;
    const capped = setup({ abort: { header_abort: {}, percentage: { numerator: 50 } } }, { random });
    const abort = (percentage?: string) =>
      runStream(capped, {
        'x-envoy-fault-abort-request': '503',
        ...(percentage === undefined ? {} : { 'x-envoy-fault-abort-request-percentage': percentage }),
      }).status;
    assert.equal(abort(), FilterStatus.StopIteration, 'no header: the configured 50%');
    assert.equal(abort('31'), FilterStatus.StopIteration);
    assert.equal(abort('30'), FilterStatus.Continue);
    assert.equal(abort('0'), FilterStatus.Continue);
    assert.equal(abort('bad'), FilterStatus.StopIteration, 'an invalid header keeps the configured 50%');

    const low = setup({ delay: { header_delay: {}, percentage: { numerator: 20 } } }, { random });
    const delay = runStream(low, { 'x-envoy-fault-delay-request': '10', 'x-envoy-fault-delay-request-percentage': '100' });
    assert.equal(delay.status, FilterStatus.Continue, '100 from the header is capped at the configured 20');

    const fixed = setup({ abort: { http_status: 503, percentage: { numerator: 50 } } }, { random });
    assert.equal(
      runStream(fixed, { 'x-envoy-fault-abort-request-percentage': '0' }).status,
      FilterStatus.StopIteration,
      'a fixed abort ignores the percentage header',
    );
  });
});

describe('fault filter: max_active_faults', () => {
  it('refuses new faults while the limit is reached and counts faults_overflow', (t) => {
    useFakeTimers(t);
    const s = setup({ max_active_faults: 2, delay: { fixed_delay: '10s', percentage: { numerator: 100 } } });
    const first = runStream(s);
    const second = runStream(s);
    assert.equal(first.status, FilterStatus.StopIteration);
    assert.equal(second.status, FilterStatus.StopIteration);
    assert.equal(s.gauge('active_faults'), 2);
    const third = runStream(s);
    assert.equal(third.status, FilterStatus.Continue);
    assert.deepEqual(third.callbacks.flags, []);
    assert.equal(s.counter('faults_overflow'), 1);
    assert.equal(s.counter('delays_injected'), 2);
    first.filter.onDestroy();
    assert.equal(s.gauge('active_faults'), 1);
    const fourth = runStream(s);
    assert.equal(fourth.status, FilterStatus.StopIteration);
    for (const stream of [second, third, fourth]) stream.filter.onDestroy();
    assert.equal(s.gauge('active_faults'), 0);
  });

  it('an overflowing delay still lets the abort try (and overflow) on its own', (t) => {
    useFakeTimers(t);
    const s = setup({
      max_active_faults: 1,
      delay: { fixed_delay: '10s', percentage: { numerator: 100 } },
      abort: { http_status: 503, percentage: { numerator: 100 } },
    });
    const holder = runStream(s);
    assert.equal(holder.status, FilterStatus.StopIteration);
    const refused = runStream(s);
    assert.equal(refused.status, FilterStatus.Continue);
    assert.equal(s.counter('faults_overflow'), 2, 'Envoy checks the limit once per fault it tries');
    holder.filter.onDestroy();
    refused.filter.onDestroy();
  });
});

describe('fault filter: downstream selection and stats', () => {
  it('downstream_nodes limits faults to x-envoy-downstream-service-node', () => {
    const s = setup({ downstream_nodes: ['node-a'], abort: { http_status: 503, percentage: { numerator: 100 } } });
    assert.equal(runStream(s, { 'x-envoy-downstream-service-node': 'node-a' }).status, FilterStatus.StopIteration);
    assert.equal(runStream(s, { 'x-envoy-downstream-service-node': 'node-b' }).status, FilterStatus.Continue);
    assert.equal(runStream(s).status, FilterStatus.Continue);
  });

  it('counts fault.<downstream cluster>.* unless disable_downstream_cluster_stats', () => {
    const abort = { http_status: 503, percentage: { numerator: 100 } };
    const s = setup({ abort });
    runStream(s, { 'x-envoy-downstream-service-cluster': 'frontend' });
    assert.equal(s.store.counter(`${HCM_PREFIX}fault.frontend.aborts_injected`).value(), 1);
    assert.equal(s.counter('aborts_injected'), 1);

    const quiet = setup({ abort, disable_downstream_cluster_stats: true });
    runStream(quiet, { 'x-envoy-downstream-service-cluster': 'frontend' });
    assert.equal(quiet.counter('aborts_injected'), 1);
    assert.equal(quiet.store.counter(`${HCM_PREFIX}fault.frontend.aborts_injected`).value(), 0);
  });
});
