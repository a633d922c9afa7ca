import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareRuns } from '../../src/perf/compare.js';
import { runWeft } from './harness.js';

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

describe('weft perf compare (CLI)', () => {
  it('warns when the runs measured different things: protocol, partial, rate not reached', async () => {
    // Regression: an http1 run against an http2 one, or against a partial run, compared silently.
    const dir = mkdtempSync(join(tmpdir(), 'weft-perf-compare-'));
    const write = (name: string, labels: Record<string, string>): string => {
      const file = join(dir, name);
      writeFileSync(file, JSON.stringify({ performance_test_result: { labels, actual_QPS: 100, latencies_ms: { p50: 1, p99: 2 } } }));
      return file;
    };
    const a = write('a.json', { 'weft.dev/protocol': 'http1', 'weft.dev/mode': 'open-loop' });
    const b = write('b.json', { 'weft.dev/protocol': 'http2', 'weft.dev/mode': 'open-loop', 'weft.dev/partial': 'true' });
    const run = runWeft(['perf', 'compare', a, b]);
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /verdict: pass/);
    assert.deepEqual(run.stderr().trim().split('\n'), [
      'weft perf compare: warning: the runs differ in protocol: http1 vs http2',
      `weft perf compare: warning: ${b} is a partial result (stopped early)`,
    ]);
    const same = runWeft(['perf', 'compare', a, a]);
    assert.equal(await same.exited, 0, same.stderr());
    assert.equal(same.stderr(), '');
  });
});
