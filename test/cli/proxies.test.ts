import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyStatus, TypeStatus } from '../../src/controlplane/xds/proxy-status.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '../../src/xds/type-urls.js';
import { startCliFixture, type CliFixture } from './cli-harness.js';

const synced = (version: string): TypeStatus => ({ sentVersion: version, ackedVersion: version, lastNonce: '1', subscribed: ['*'] });

const PROXIES: ProxyStatus[] = [
  {
    streamId: 1,
    nodeId: 'sidecar~productpage.default',
    nodeCluster: 'productpage',
    nodeMetadata: { WORKLOAD: 'productpage' },
    protocol: 'delta',
    peer: '127.0.0.1:40001',
    connectedAt: new Date(Date.now() - 3 * 3600_000).toISOString(),
    types: { [LISTENER_TYPE_URL]: synced('7'), [ROUTE_CONFIGURATION_TYPE_URL]: synced('7'), [CLUSTER_TYPE_URL]: synced('7'), [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: synced('7') },
  },
  {
    streamId: 2,
    nodeId: 'grpc-client',
    nodeCluster: '',
    nodeMetadata: {},
    protocol: 'sotw',
    peer: '127.0.0.1:40002',
    connectedAt: new Date(Date.now() - 5 * 60_000).toISOString(),
    types: {
      [LISTENER_TYPE_URL]: synced('6'),
      [CLUSTER_TYPE_URL]: { ...synced('5'), nackError: { rejectedVersion: '6', code: 3, message: 'bad cluster', at: new Date().toISOString() } },
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: { ...synced('5'), sentVersion: '6' },
    },
  },
];

describe('weft proxies', () => {
  let fx: CliFixture;
  before(async () => {
    fx = await startCliFixture({ proxies: () => PROXIES });
  });
  after(async () => {
    await fx.close();
  });

  test('a table with one row per proxy and the ACKed version of each xDS type, with what is in flight or rejected', async () => {
    const result = await fx.weft(['proxies']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['NODE', 'PROTOCOL', 'PEER', 'AGE', 'LDS', 'RDS', 'CDS', 'EDS']);
    assert.match(lines[1]!, /^sidecar~productpage\.default\s+delta\s+127\.0\.0\.1:40001\s+3h\s+7\s+7\s+7\s+7$/);
    assert.match(lines[2]!, /^grpc-client\s+sotw\s+127\.0\.0\.1:40002\s+5m\s+6\s+-\s+5 \(NACK 6\)\s+5 \(sent 6\)$/);
  });

  test('-o json prints what the server reports', async () => {
    const result = await fx.weft(['proxies', '-o', 'json']);
    assert.deepEqual(JSON.parse(result.stdout), PROXIES);
  });
});
