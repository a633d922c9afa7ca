/**
 * The SMP document against the types of SMP's protos (PerformanceTestConfig.Client
 * and friends), for a real run: fields whose proto type a naive copy breaks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLoad, toSmpResult } from '../../src/perf/index.js';
import { startTargetServer, type TargetServer } from './harness.js';

describe('SMP document', () => {
  let target: TargetServer;
  before(async () => {
    target = await startTargetServer();
  });
  after(async () => {
    await target.close();
  });

  it('Client.rps is an int64 (a fractional rate rounds, never to 0); content_type matches the header case-insensitively', async () => {
    const result = await runLoad({ url: target.url, rate: 0.4, durationMs: 500, connections: 1, headers: [['Content-TYPE', 'application/json']] });
    const client = toSmpResult(result).performance_test_config.clients[0]!;
    // 0 would read as "as fast as possible"; 0.4 is not an int64 at all.
    assert.equal(client.rps, 1);
    assert.equal(result.options.rate, 0.4);
    assert.equal(client.content_type, 'application/json');
    const closedLoop = await runLoad({ url: target.url, durationMs: 200, connections: 1 });
    assert.equal(toSmpResult(closedLoop).performance_test_config.clients[0]!.rps, 0);
  });
});
