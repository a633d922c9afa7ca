/**
 * HTTP/1.1 behaviour of `weft proxy` end to end, with curl and raw sockets as
 * independent clients: keep-alive and pooling, chunked bodies, 100-continue,
 * HEAD, hop-by-hop stripping, x-forwarded-*, x-request-id, traceparent,
 * WebSocket upgrade, and routing features.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as net from 'node:net';
import { curl, rawExchange, startHttpProxy, startUpstream, waitFor, type HttpProxyProcess, type Upstream } from './harness.js';

describe('weft proxy: HTTP/1.1 end to end', () => {
  let a: Upstream;
  let b: Upstream;
  let ws: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;
  const upgraded: net.Socket[] = [];

  before(async () => {
    a = await startUpstream(undefined, 'a');
    b = await startUpstream(undefined, 'b');
    ws = await startUpstream((_req, res) => res.end('not a websocket'), 'ws');
    ws.server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
      upgraded.push(socket);
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      if (head.length > 0) socket.write(unmaskFrame(head));
      socket.on('data', (frame: Buffer) => socket.write(unmaskFrame(frame)));
    });
    proxy = await startHttpProxy({
      listener: {
        hcm: { upgrade_configs: [{ upgrade_type: 'websocket' }], use_remote_address: true },
        virtualHosts: [
          {
            name: 'api',
            domains: ['api.example.com', 'api.example.com:*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'b' } }],
          },
          {
            name: 'default',
            domains: ['*'],
            response_headers_to_add: [{ header: { key: 'x-vhost', value: 'default' } }],
            routes: [
              { match: { path: '/direct' }, direct_response: { status: 418, body: { inline_string: 'teapot' } } },
              { match: { prefix: '/old' }, redirect: { path_redirect: '/new', response_code: 'FOUND' } },
              { match: { prefix: '/ws' }, route: { cluster: 'ws' } },
              { match: { prefix: '/b/', headers: [{ name: 'x-pick', string_match: { exact: 'b' } }] }, route: { cluster: 'b', prefix_rewrite: '/rewritten/' } },
              { match: { prefix: '/host' }, route: { cluster: 'a', host_rewrite_literal: 'rewritten.example' } },
              {
                match: { prefix: '/' },
                route: { cluster: 'a' },
                request_headers_to_add: [{ header: { key: 'x-added', value: 'yes' } }],
                request_headers_to_remove: ['x-secret'],
              },
            ],
          },
        ],
      },
      clusters: [
        { name: 'a', ports: [a.port] },
        { name: 'b', ports: [b.port] },
        { name: 'ws', ports: [ws.port] },
      ],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    for (const socket of upgraded) socket.destroy();
    await Promise.all([a.close(), b.close(), ws.close()]);
  });

  it('forwards a GET with x-forwarded-for, x-forwarded-proto, a generated x-request-id and traceparent untouched', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await curl(['-H', `traceparent: ${traceparent}`, `http://127.0.0.1:${port}/hello?x=1`]);
    assert.equal(res.code, 0, res.stderr);
    const body = JSON.parse(res.stdout) as { upstream: string; url: string; headers: Record<string, string> };
    assert.equal(body.upstream, 'a');
    assert.equal(body.url, '/hello?x=1');
    assert.equal(body.headers['traceparent'], traceparent);
    assert.equal(body.headers['x-forwarded-proto'], 'http');
    assert.equal(body.headers['x-forwarded-for'], '127.0.0.1');
    assert.match(body.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(body.headers['x-added'], 'yes');
  });

  it('keeps a client-supplied x-request-id and appends to an existing x-forwarded-for', async () => {
    const res = await curl(['-H', 'x-request-id: abc-123', '-H', 'x-forwarded-for: 10.0.0.1', `http://127.0.0.1:${port}/`]);
    const body = JSON.parse(res.stdout) as { headers: Record<string, string> };
    assert.equal(body.headers['x-request-id'], 'abc-123');
    assert.equal(body.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
  });

  it('strips hop-by-hop headers and the headers a Connection token names, and removes configured headers', async () => {
    const res = await curl(['-H', 'Connection: keep-alive, x-hop', '-H', 'x-hop: 1', '-H', 'keep-alive: timeout=5', '-H', 'te: trailers', '-H', 'x-secret: s', '-H', 'proxy-connection: keep-alive', `http://127.0.0.1:${port}/`]);
    const headers = (JSON.parse(res.stdout) as { headers: Record<string, string> }).headers;
    for (const name of ['x-hop', 'keep-alive', 'te', 'x-secret', 'proxy-connection']) assert.equal(headers[name], undefined, name);
  });

  it('routes by virtual host (with port), header match, and applies prefix and host rewrites', async () => {
    const byHost = JSON.parse((await curl(['-H', 'Host: api.example.com:8080', `http://127.0.0.1:${port}/x`])).stdout) as { upstream: string };
    assert.equal(byHost.upstream, 'b');
    const byHeader = JSON.parse((await curl(['-H', 'x-pick: b', `http://127.0.0.1:${port}/b/item?q=1`])).stdout) as { upstream: string; url: string };
    assert.equal(byHeader.upstream, 'b');
    assert.equal(byHeader.url, '/rewritten/item?q=1');
    const noHeader = JSON.parse((await curl([`http://127.0.0.1:${port}/b/item`])).stdout) as { upstream: string };
    assert.equal(noHeader.upstream, 'a');
    const host = JSON.parse((await curl([`http://127.0.0.1:${port}/host`])).stdout) as { headers: Record<string, string> };
    assert.equal(host.headers['host'], 'rewritten.example');
  });

  it('answers direct responses and redirects itself, with virtual host response headers', async () => {
    const direct = await curl(['-i', `http://127.0.0.1:${port}/direct`]);
    assert.match(direct.stdout, /^HTTP\/1.1 418/);
    assert.match(direct.stdout, /x-vhost: default/i);
    assert.match(direct.stdout, /teapot$/);
    const redirect = await curl(['-i', `http://127.0.0.1:${port}/old/path`]);
    assert.match(redirect.stdout, /^HTTP\/1.1 302/);
    assert.match(redirect.stdout, new RegExp(`location: http://127.0.0.1:${port}/new`, 'i'));
  });

  it('reuses one downstream connection for several requests and pools upstream connections', async () => {
    const urls = Array.from({ length: 5 }, (_, i) => `http://127.0.0.1:${port}/k${i}`);
    const res = await curl(['-v', ...urls]);
    assert.equal(res.code, 0);
    assert.equal((res.stderr.match(/Re-using existing connection/g) ?? []).length, 4, res.stderr);
    const connections = new Set(a.seen.slice(-5).map((s) => s.headers['x-request-id']));
    assert.equal(connections.size, 5);
  });

  it('streams a chunked upload and answers 100-continue', async () => {
    const body = 'x'.repeat(300_000);
    const res = await curl(['-v', '-H', 'Transfer-Encoding: chunked', '-H', 'Expect: 100-continue', '--data-binary', '@-', `http://127.0.0.1:${port}/upload`], body);
    assert.match(res.stderr, /HTTP\/1.1 100 Continue/);
    const echoed = JSON.parse(res.stdout) as { bodyBytes: number; headers: Record<string, string> };
    assert.equal(echoed.bodyBytes, body.length);
    assert.equal(echoed.headers['expect'], undefined);
    assert.equal(echoed.headers['transfer-encoding'], 'chunked');
  });

  it('answers HEAD with the upstream content-length and no body, then keeps the connection usable', async () => {
    const { response } = await rawExchange(port, `HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /after-head HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const [first, second] = response.split(/(?=HTTP\/1\.1 )/);
    assert.match(first!, /^HTTP\/1.1 200/);
    assert.match(first!, /content-length: \d+/i);
    assert.ok(first!.endsWith('\r\n\r\n'), 'HEAD response has no body');
    assert.match(second!, /"url":"\/after-head"/);
  });

  it('answers pipelined requests in order on one connection', async () => {
    const { response } = await rawExchange(port, `GET /p1 HTTP/1.1\r\nHost: x\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const order = [...response.matchAll(/"url":"(\/p\d)"/g)].map((m) => m[1]);
    assert.deepEqual(order, ['/p1', '/p2', '/p3']);
  });

  it('serves HTTP/1.0 clients with a close-delimited or length-delimited response', async () => {
    const { response, closedByServer } = await rawExchange(port, 'GET /ten HTTP/1.0\r\n\r\n');
    assert.match(response, /^HTTP\/1.1 200/);
    assert.match(response, /"url":"\/ten"/);
    assert.ok(closedByServer);
  });

  it('passes a WebSocket upgrade through and relays frames both ways', async () => {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    await waitFor(() => received.includes('\r\n\r\n'), 'the 101 response head', 3000);
    const head = received.toString('latin1', 0, received.indexOf('\r\n\r\n'));
    assert.match(head, /^HTTP\/1.1 101/);
    assert.match(head, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    received = received.subarray(received.indexOf('\r\n\r\n') + 4);
    socket.write(maskedTextFrame('hello through weft'));
    await waitFor(() => received.length >= 2 + 'hello through weft'.length, 'the echoed frame', 3000);
    assert.equal(received.subarray(2).toString(), 'hello through weft');
    socket.destroy();
  });

  it('reports requests in Envoy-style stats and weft_requests_total', async () => {
    const prom = await (await proxy.admin('/stats/prometheus')).text();
    assert.match(prom, /envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="ingress"\} \d+/);
    assert.match(prom, /envoy_cluster_upstream_rq_total\{envoy_cluster_name="a"\} \d+/);
    assert.match(prom, /weft_requests_total\{[^}]*response_code="200"[^}]*\} \d+/);
    assert.match(prom, /weft_request_duration_seconds_bucket\{/);
  });
});

/** A client frame (FIN, text, masked) as RFC 6455 requires clients to send. */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** The server's echo: the same payload, unmasked (short frames only). */
function unmaskFrame(frame: Buffer): Buffer {
  const length = frame[1]! & 0x7f;
  const mask = frame.subarray(2, 6);
  const payload = Buffer.from(frame.subarray(6, 6 + length).map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, length]), payload]);
}
