/**
 * The tcp_proxy network filter through a real `weft proxy`: byte round trips
 * (up to 5 MB), half-close in both directions, weighted_clusters, idle_timeout,
 * an upstream that refuses connections, and the `tcp.<stat_prefix>.` stats.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { buildBootstrap, freePorts, startEchoServer, startProxy, statValue, waitFor, type ProxyProcess } from './harness.js';

type Echo = Awaited<ReturnType<typeof startEchoServer>>;

function tcpListener(name: string, port: number, config: Record<string, unknown>): unknown {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: port } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', ...config },
          },
        ],
      },
    ],
  };
}

/** Connects (allowing half-open), writes `payload`, half-closes, and collects everything until the proxy ends the stream. */
async function roundTrip(port: number, payload: Buffer): Promise<{ received: Buffer; ended: boolean }> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  let ended = false;
  socket.on('end', () => {
    ended = true;
    socket.end();
  });
  socket.end(payload);
  await once(socket, 'close');
  return { received: Buffer.concat(chunks), ended };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('weft proxy: tcp_proxy', () => {
  let echo1: Echo;
  let echo2: Echo;
  /** Replies only after the client half-closed: proves the FIN went upstream while the reply path stayed open. */
  let afterEnd: net.Server;
  let afterEndPort: number;
  let proxy: ProxyProcess;
  const ports = { single: 0, split: 0, idle: 0, dead: 0, half: 0 };
  let deadPort: number;

  before(async () => {
    echo1 = await startEchoServer('echo1');
    echo2 = await startEchoServer('echo2');
    afterEnd = net.createServer({ allowHalfOpen: true }, (socket) => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('end', () => socket.end(`received ${bytes} bytes, then your FIN`));
      socket.on('error', () => undefined);
    });
    afterEnd.listen(0, '127.0.0.1');
    await once(afterEnd, 'listening');
    afterEndPort = (afterEnd.address() as net.AddressInfo).port;
    const free = await freePorts(8);
    deadPort = free[0]!;
    (Object.keys(ports) as Array<keyof typeof ports>).forEach((key, i) => (ports[key] = free[i + 1]!));
    proxy = await startProxy(
      buildBootstrap({
        adminPort: free[6]!,
        listener: { port: free[7]!, routes: [{ match: { prefix: '/' }, direct_response: { status: 200 } }] },
        clusters: [
          { name: 'echo1', ports: [echo1.port] },
          { name: 'echo2', ports: [echo2.port] },
          { name: 'half', ports: [afterEndPort] },
          { name: 'dead', ports: [deadPort], connect_timeout: '1s' },
        ],
        tcpListeners: [
          tcpListener('tcp_single', ports.single, { stat_prefix: 'echo', cluster: 'echo1' }),
          tcpListener('tcp_split', ports.split, { stat_prefix: 'split', weighted_clusters: { clusters: [{ name: 'echo1', weight: 1 }, { name: 'echo2', weight: 1 }] } }),
          tcpListener('tcp_idle', ports.idle, { stat_prefix: 'idle', cluster: 'echo1', idle_timeout: '1s' }),
          tcpListener('tcp_dead', ports.dead, { stat_prefix: 'dead', cluster: 'dead' }),
          tcpListener('tcp_half', ports.half, { stat_prefix: 'half', cluster: 'half' }),
        ],
      }),
    );
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([echo1.close(), echo2.close(), new Promise((resolve) => afterEnd.close(resolve))]);
  });

  it('round-trips bytes, from a few to 5 MB, and counts them in tcp.<prefix>. stats', async () => {
    const small = await roundTrip(ports.single, Buffer.from('hello, tcp'));
    assert.equal(small.received.toString(), 'hello, tcp');
    assert.ok(small.ended);
    const big = randomBytes(5 * 1024 * 1024);
    const echoed = await roundTrip(ports.single, big);
    assert.equal(echoed.received.length, big.length);
    assert.equal(sha(echoed.received), sha(big));
    const total = 10 + big.length;
    await waitFor(async () => (await statValue(proxy, 'tcp.echo.downstream_cx_rx_bytes_total')) === total, 'rx bytes to be counted');
    assert.equal(await statValue(proxy, 'tcp.echo.downstream_cx_tx_bytes_total'), total);
    assert.equal(await statValue(proxy, 'tcp.echo.downstream_cx_total'), 2);
    assert.equal(await statValue(proxy, 'cluster.echo1.upstream_cx_total') >= 2, true);
  });

  it('propagates a half-close upstream and keeps the reply direction open', async () => {
    const res = await roundTrip(ports.half, Buffer.from('12345'));
    assert.equal(res.received.toString(), 'received 5 bytes, then your FIN');
    assert.ok(res.ended, 'the upstream\'s FIN reaches the client');
  });

  it('splits connections across weighted_clusters', async () => {
    const before1 = echo1.connections;
    const before2 = echo2.connections;
    const n = 40;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => roundTrip(ports.split, Buffer.from(`c${i}`))));
    results.forEach((r, i) => assert.equal(r.received.toString(), `c${i}`));
    const to1 = echo1.connections - before1;
    const to2 = echo2.connections - before2;
    assert.equal(to1 + to2, n);
    assert.ok(to1 >= 5 && to2 >= 5, `a 1:1 split sent ${to1} to echo1 and ${to2} to echo2`);
    await waitFor(async () => (await statValue(proxy, 'tcp.split.downstream_cx_total')) === n, 'split connections counted');
  });

  it('closes a connection idle for idle_timeout (1s) and counts idle_timeout', async () => {
    const socket = net.connect(ports.idle, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    socket.write('ping');
    const [first] = (await once(socket, 'data')) as [Buffer];
    assert.equal(first.toString(), 'ping');
    const idleSince = Date.now();
    await once(socket, 'close');
    const idleFor = Date.now() - idleSince;
    assert.ok(idleFor >= 900 && idleFor < 6000, `closed after ${idleFor} ms idle`);
    await waitFor(async () => (await statValue(proxy, 'tcp.idle.idle_timeout')) === 1, 'tcp.idle.idle_timeout');
  });

  it('keeps a connection that carries traffic alive past idle_timeout', async () => {
    const socket = net.connect(ports.idle, '127.0.0.1');
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    let closed = false;
    socket.on('close', () => (closed = true));
    let echoed = '';
    socket.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
    for (let i = 0; i < 6; i++) {
      socket.write(String(i));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(closed, false, 'traffic every 300 ms for 1.8 s keeps the tunnel open');
    assert.equal(echoed, '012345');
    socket.destroy();
  });

  it('closes the downstream promptly when the upstream port is closed', async () => {
    const socket = net.connect(ports.dead, '127.0.0.1');
    let received = 0;
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => undefined);
    await once(socket, 'connect');
    const started = Date.now();
    await once(socket, 'close');
    assert.ok(Date.now() - started < 2000, `closed after ${Date.now() - started} ms`);
    assert.equal(received, 0);
    await waitFor(async () => (await statValue(proxy, 'cluster.dead.upstream_cx_connect_fail')) >= 1, 'connect failure counted');
    assert.equal(await statValue(proxy, 'tcp.dead.downstream_cx_total'), 1);
  });
});
