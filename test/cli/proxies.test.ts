import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCliFixture, type CliFixture } from './cli-harness.js';

const PROXIES = [
  { id: 'productpage-1', workload: 'productpage', lastAckVersion: '7', nack: null },
  { id: 'reviews-v2-1', workload: 'reviews-v2', lastAckVersion: '6', nack: { type: 'CDS', error: 'bad cluster' } },
];

describe('weft proxies', () => {
  let fx: CliFixture;
  before(async () => {
    fx = await startCliFixture({ proxies: () => PROXIES });
  });
  after(async () => {
    await fx.close();
  });

  test('a table of the connected proxies, one row each', async () => {
    const result = await fx.weft(['proxies']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['ID', 'WORKLOAD', 'LAST_ACK_VERSION', 'NACK']);
    assert.match(lines[1]!, /^productpage-1\s+productpage\s+7\s+-$/);
    assert.match(lines[2]!, /^reviews-v2-1\s+reviews-v2\s+6\s+\{"type":"CDS","error":"bad cluster"\}$/);
  });

  test('-o json prints what the server reports', async () => {
    const result = await fx.weft(['proxies', '-o', 'json']);
    assert.deepEqual(JSON.parse(result.stdout), PROXIES);
  });
});
