/**
 * A real proxyless xDS client, @grpc/grpc-js-xds, resolves `xds:///echo`
 * through our ADS server and calls two real gRPC servers: a 90/10 weighted
 * route is honoured within ±5% over 2000 calls, and a new 50/50 snapshot takes
 * effect on the same channel, without restarting the client; moving the
 * route to a new cluster fails no call (old clusters go last), and within one
 * cluster it round-robins across the endpoints EDS lists and follows EDS
 * removing and adding one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createSnapshotCache } from '../../../src/controlplane/xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from '../../../src/controlplane/xds/server.js';
import { countBackends, newEchoClient, registerXdsClient, share, startGrpcEchoServer, waitForShare, type EchoClient, type GrpcEchoServer } from '../../support/grpc-echo.js';
import { serviceSnapshot, type WeightedBackend } from './fixtures.js';

const NODE_ID = 'echo-client';
const CALLS = 2000;

describe('xds server with @grpc/grpc-js-xds as a proxyless client', () => {
  const cache = createSnapshotCache();
  const log = pino({ level: 'silent' });
  let xdsServer: RunningXdsServer;
  const echoServers: GrpcEchoServer[] = [];
  let client: EchoClient | undefined;
  let backendPorts: [number, number];

  const backends = (weightA: number): WeightedBackend[] => [
    { cluster: 'echo-a', weight: weightA, endpoints: [{ address: '127.0.0.1', port: backendPorts[0] }] },
    { cluster: 'echo-b', weight: 100 - weightA, endpoints: [{ address: '127.0.0.1', port: backendPorts[1] }] },
  ];

  before(async () => {
    const a = await startGrpcEchoServer('a');
    const b = await startGrpcEchoServer('b');
    echoServers.push(a, b);
    backendPorts = [a.port, b.port];
    xdsServer = await startXdsServer({ cache, log, port: 0 });
    registerXdsClient(xdsServer.port, { id: NODE_ID, metadata: { workload: 'echo-client' } });
  });

  after(async () => {
    client?.close();
    await xdsServer.close();
    await Promise.all(echoServers.map((server) => server.close()));
  });

  it('honours a 90/10 split within ±5% over 2000 calls, then a 50/50 split on the same channel', async () => {
    cache.setSnapshot(NODE_ID, serviceSnapshot('v1', 'echo', backends(90)));
    client = newEchoClient('xds:///echo');

    const first = await countBackends(client, CALLS);
    const firstShare = share(first, 'a');
    assert.ok(Math.abs(firstShare - 0.9) <= 0.05, `backend a answered ${(firstShare * 100).toFixed(1)}% of calls, wanted 90% ± 5`);

    const proxy = xdsServer.proxies().find((each) => each.nodeId === NODE_ID);
    assert.ok(proxy, 'the client shows up as a connected proxy');
    assert.equal(Object.keys(proxy.types).length, 4, 'it subscribed to LDS, RDS, CDS and EDS');
    for (const type of Object.values(proxy.types)) assert.equal(type.ackedVersion, 'v1');

    cache.setSnapshot(NODE_ID, serviceSnapshot('v2', 'echo', backends(50)));
    // The push takes a round trip; probe in small batches until the new split shows, within a bound.
    const deadline = Date.now() + 10_000;
    while (share(await countBackends(client, 200), 'a') > 0.7) {
      assert.ok(Date.now() < deadline, 'the 50/50 split did not take effect within 10 s');
    }
    const second = await countBackends(client, CALLS);
    const secondShare = share(second, 'a');
    assert.ok(Math.abs(secondShare - 0.5) <= 0.05, `backend a answered ${(secondShare * 100).toFixed(1)}% of calls, wanted 50% ± 5`);
    const routes = xdsServer.proxies().find((each) => each.nodeId === NODE_ID)!.types['type.googleapis.com/envoy.config.route.v3.RouteConfiguration'];
    assert.equal(routes?.ackedVersion, 'v2');
  });

  it('moves to a new cluster without a failed call, spreads calls across its endpoints and follows EDS removing and re-adding one', async () => {
    const oneCluster = (version: string, ports: readonly number[]) =>
      serviceSnapshot(version, 'echo', [{ cluster: 'echo-all', weight: 100, endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) }]);
    // echo-a and echo-b go away in the same snapshot; any call failing on the way fails the test.
    cache.setSnapshot(NODE_ID, oneCluster('v3', backendPorts));
    client ??= newEchoClient('xds:///echo');
    await waitForShare(client, 'a', 0.5, { tolerance: 0.1 });

    cache.setSnapshot(NODE_ID, oneCluster('v4', [backendPorts[1]]));
    await waitForShare(client, 'b', 1, { tolerance: 0 });
    const eds = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
    assert.equal(xdsServer.proxies().find((each) => each.nodeId === NODE_ID)!.types[eds]?.ackedVersion, 'v4');

    cache.setSnapshot(NODE_ID, oneCluster('v5', backendPorts));
    await waitForShare(client, 'a', 0.5, { tolerance: 0.1 });
  });
});
