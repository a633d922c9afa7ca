/**
 * A real proxyless xDS client, @grpc/grpc-js-xds, resolves `xds:///echo`
 * through our ADS server and calls two real gRPC servers: a 90/10 weighted
 * route is honoured within ±5% over 2000 calls, and a new 50/50 snapshot takes
 * effect on the same channel, without restarting the client.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import grpcXds from '@grpc/grpc-js-xds';
import { pino } from 'pino';
import { createSnapshotCache } from '../../../src/controlplane/xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from '../../../src/controlplane/xds/server.js';
import { serviceSnapshot, type WeightedBackend } from './fixtures.js';

const ECHO_PROTO = fileURLToPath(new URL('../../../../test/controlplane/xds/echo.proto', import.meta.url));
const NODE_ID = 'echo-client';
const CALLS = 2000;
const CONCURRENCY = 50;

interface EchoReply {
  server: string;
}
type EchoClient = grpc.Client & {
  Echo(request: { message: string }, callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void): void;
};
type EchoClientConstructor = new (target: string, credentials: grpc.ChannelCredentials) => EchoClient;

function echoPackage(): { service: grpc.ServiceDefinition; Client: EchoClientConstructor } {
  const definition = protoLoader.loadSync(ECHO_PROTO, { keepCase: true });
  // loadPackageDefinition's result is untyped by design: the shape comes from the .proto.
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { weft: { test: { Echo: grpc.ServiceClientConstructor } } };
  const Echo = loaded.weft.test.Echo;
  return { service: Echo.service, Client: Echo as unknown as EchoClientConstructor };
}

async function startEchoServer(name: string, service: grpc.ServiceDefinition): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  server.addService(service, {
    Echo(call: grpc.ServerUnaryCall<{ message: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply & { message: string }>) {
      callback(null, { message: call.request.message, server: name });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { port, server };
}

function call(client: EchoClient): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Echo({ message: 'hi' }, (error, reply) => (error !== null ? reject(error) : resolve(reply!.server)));
  });
}

/** Makes `count` calls, `CONCURRENCY` at a time; returns how many each server answered. */
async function countBackends(client: EchoClient, count: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      const server = await call(client);
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return counts;
}

function share(counts: Map<string, number>, server: string): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return (counts.get(server) ?? 0) / total;
}

describe('xds server with @grpc/grpc-js-xds as a proxyless client', () => {
  const cache = createSnapshotCache();
  const log = pino({ level: 'silent' });
  const echo = echoPackage();
  let xdsServer: RunningXdsServer;
  const echoServers: grpc.Server[] = [];
  let client: EchoClient | undefined;
  let backendPorts: [number, number];

  const backends = (weightA: number): WeightedBackend[] => [
    { cluster: 'echo-a', weight: weightA, endpoints: [{ address: '127.0.0.1', port: backendPorts[0] }] },
    { cluster: 'echo-b', weight: 100 - weightA, endpoints: [{ address: '127.0.0.1', port: backendPorts[1] }] },
  ];

  before(async () => {
    const a = await startEchoServer('a', echo.service);
    const b = await startEchoServer('b', echo.service);
    echoServers.push(a.server, b.server);
    backendPorts = [a.port, b.port];
    xdsServer = await startXdsServer({ cache, log, port: 0 });
    process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${xdsServer.port}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, cluster: 'test', locality: {}, metadata: { workload: 'echo-client' } },
    });
    grpcXds.register();
  });

  after(async () => {
    client?.close();
    await xdsServer.close();
    await Promise.all(echoServers.map((server) => new Promise<void>((resolve) => server.tryShutdown(() => resolve()))));
  });

  it('honours a 90/10 split within ±5% over 2000 calls, then a 50/50 split on the same channel', async () => {
    cache.setSnapshot(NODE_ID, serviceSnapshot('v1', 'echo', backends(90)));
    client = new echo.Client('xds:///echo', grpc.credentials.createInsecure());

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
});
