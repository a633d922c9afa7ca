/**
 * Server keepalive: a proxy whose connection goes silent without a FIN (host
 * gone, NAT entry dropped) is detected by HTTP/2 pings and its stream ends,
 * so it leaves `weft proxies` and its watch is closed; a healthy idle proxy
 * answers the pings and keeps its stream. The silence is a real TCP relay
 * that stops forwarding without closing either side.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createSnapshotCache } from '../../../src/controlplane/xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from '../../../src/controlplane/xds/server.js';
import type { ProxyStreamEvent } from '../../../src/controlplane/xds/proxy-status.js';
import { CLUSTER_TYPE_URL as CDS } from '../../../src/xds/type-urls.js';
import { connectAdsClient, type AdsTestClient } from './ads-test-client.js';
import { serviceSnapshot, type WeightedBackend } from './fixtures.js';

const BACKENDS: WeightedBackend[] = [{ cluster: 'echo-a', weight: 100, endpoints: [{ address: '127.0.0.1', port: 9001 }] }];

/** A TCP relay to `port` whose `freeze()` stops forwarding in both directions but leaves every socket open. */
async function startRelay(port: number): Promise<{ port: number; freeze(): void; close(): void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((downstream) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.push(downstream, upstream);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      for (const socket of sockets) {
        socket.unpipe();
        socket.pause();
      }
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('xds server: keepalive', () => {
  const cache = createSnapshotCache();
  const events: ProxyStreamEvent[] = [];
  let server: RunningXdsServer;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let client: AdsTestClient;

  before(async () => {
    server = await startXdsServer({ cache, log: pino({ level: 'silent' }), port: 0, keepalive: { timeMs: 100, timeoutMs: 300 }, onStreamEvent: (event) => events.push(event) });
    relay = await startRelay(server.port);
    client = connectAdsClient(relay.port);
  });

  after(async () => {
    client.close();
    relay.close();
    await server.close();
  });

  it('keeps an idle proxy that answers pings, and drops one whose connection went silent', async () => {
    cache.setSnapshot('silent', serviceSnapshot('v1', 'echo', BACKENDS));
    const stream = client.sotw();
    stream.send({ node: { id: 'silent' }, type_url: CDS });
    const first = await stream.next();
    stream.send({ type_url: CDS, version_info: first['version_info'], response_nonce: first['nonce'] });

    // Several ping intervals: the client's HTTP/2 layer answers them, so the stream stays.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(server.proxies().map((proxy) => proxy.nodeId), ['silent']);
    cache.setSnapshot('silent', serviceSnapshot('v2', 'echo', [{ ...BACKENDS[0]!, cluster: 'echo-b' }]));
    assert.equal((await stream.next())['version_info'], 'v2');

    relay.freeze();
    await until(() => events.some((event) => event.kind === 'disconnected' && event.nodeId === 'silent'), 'the silent proxy to be dropped');
    assert.deepEqual(server.proxies(), []);
  });
});
