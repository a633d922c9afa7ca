import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareRuns } from '../../src/perf/compare.js';

describe('compareRuns', () => {
  const baseline = { qps: 1000, latencyMs: { p50: 1, p90: 2, p99: 4, max: 10 } };

  it('lists each shared percentile in order, then throughput, with deltas', () => {
    const result = compareRuns(baseline, { qps: 1000, latencyMs: { p99: 4.1, p50: 1, max: 10, p75: 3 } }, 5);
    assert.deepEqual(result.rows.map((r) => r.metric), ['p50', 'p99', 'max', 'throughput']);
    const p99 = result.rows[1]!;
    assert.ok(Math.abs(p99.delta - 0.1) < 1e-9);
    assert.ok(Math.abs(p99.deltaPercent! - 2.5) < 1e-9);
    assert.equal(p99.change, 'same');
    assert.equal(result.verdict, 'pass');
  });

  it('judges latency lower-is-better and throughput higher-is-better', () => {
    const result = compareRuns(baseline, { qps: 800, latencyMs: { p50: 0.5, p90: 2, p99: 6, max: 10 } }, 10);
    const change = Object.fromEntries(result.rows.map((r) => [r.metric, r.change]));
    assert.deepEqual(change, { p50: 'better', p90: 'same', p99: 'worse', max: 'same', throughput: 'worse' });
    assert.equal(result.verdict, 'regression');
  });

  it('treats any change from a zero baseline as beyond tolerance', () => {
    const result = compareRuns({ qps: 0, latencyMs: {} }, { qps: 5, latencyMs: {} });
    assert.equal(result.rows[0]!.deltaPercent, null);
    assert.equal(result.rows[0]!.change, 'better');
  });

  it('rejects a negative tolerance', () => {
    assert.throws(() => compareRuns(baseline, baseline, -1), /tolerance must be a percentage/);
  });
});
