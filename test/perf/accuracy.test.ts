/**
 * Does `weft perf` measure what happened? Real target servers in their own
 * processes, real sockets, the library API as the control plane calls it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../../src/perf/index.js';
import { preferTimely, startTargetServer, type TargetServer } from './harness.js';

describe('weft perf accuracy', () => {
  let delayed: TargetServer;
  let stalling: TargetServer;
  let fast: TargetServer;

  before(async () => {
    [delayed, stalling, fast] = await Promise.all([
      startTargetServer(['--delay', '10']),
      // Stalls once for 1 s, 4 s into the run.
      startTargetServer(['--stall-after', '4000', '--stall-for', '1000']),
      startTargetServer(),
    ]);
    preferTimely(process.pid); // the generator runs in this process (the targets already do)
  });
  after(async () => {
    await Promise.all([delayed.close(), stalling.close(), fast.close()]);
  });

  it('a server answering after 10 ms has p50 10 ms +- 1 ms', async () => {
    const result = await runLoad({ url: delayed.url, rate: 200, durationMs: 5000, warmupMs: 1000, connections: 16 });
    assert.equal(result.statusCodes['200'], result.requests.completed);
    assert.ok(result.requests.completed >= 990, `completed ${result.requests.completed}`);
    assert.ok(Math.abs(result.latencyMs.p50 - 10) <= 1, `p50 ${result.latencyMs.p50} ms`);
    assert.ok(result.latencyMs.min >= 10, `min ${result.latencyMs.min} ms: faster than the server can answer`);
  });

  it('a 1 s stall in a 10 s constant-rate run shows in the corrected p99 and not in the uncorrected one', async () => {
    const result = await runLoad({ url: stalling.url, rate: 200, durationMs: 10_000, connections: 4 });
    assert.deepEqual(result.errors, {});
    assert.equal(result.requests.completed, result.requests.scheduled);
    // ~200 requests were due during the stall, waiting from 0 to 1000 ms: the top 10% of the run.
    assert.ok(result.latencyMs.p99 >= 500, `corrected p99 ${result.latencyMs.p99} ms`);
    assert.ok(result.latencyMs.max >= 950, `corrected max ${result.latencyMs.max} ms`);
    // Only the requests on the 4 connections when it began saw it from their send time.
    assert.ok(result.uncorrectedLatencyMs.p99 < 100, `uncorrected p99 ${result.uncorrectedLatencyMs.p99} ms`);
    assert.ok(result.uncorrectedLatencyMs.max >= 950, `uncorrected max ${result.uncorrectedLatencyMs.max} ms`);
  });

  it('2000 rps for 10 s achieves the rate within 1%', async () => {
    const result = await runLoad({ url: fast.url, rate: 2000, durationMs: 10_000, connections: 64 });
    assert.equal(result.rateReached, true);
    assert.ok(Math.abs(result.achievedRps - 2000) / 2000 <= 0.01, `achieved ${result.achievedRps} rps`);
    assert.equal(result.requests.scheduled, 20_000);
    assert.equal(result.latencyMs.count, result.requests.completed);
  });
});
