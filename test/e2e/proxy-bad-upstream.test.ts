/**
 * Misbehaving upstreams behind a real `weft proxy`: one that resets, one that
 * hangs, one that answers garbage, one that truncates its body, one that refuses
 * connections, and ones whose framing is ambiguous (CL+TE, two Content-Lengths).
 * Each gives the client a 502/503/504 (or a closed connection once the response
 * has started), never a hung client; /stats and the access log (a file) show
 * Envoy's counters, response flags and details.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl, freePort, rawSend, startHttpProxy, startUpstream, statValue, type HttpProxyProcess, type Upstream } from './harness.js';

interface RawUpstream {
  port: number;
  /** Requests (their first bytes) the server read. */
  requests: string[];
  close(): Promise<void>;
}

/** A TCP server that reads one request head per connection and then does `onRequest`. */
async function rawUpstream(onRequest: (socket: net.Socket) => void): Promise<RawUpstream> {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const before = head.length;
      head += chunk;
      if (before < head.length && head.includes('\r\n\r\n') && !head.slice(0, before).includes('\r\n\r\n')) {
        requests.push(head.slice(0, head.indexOf('\r\n')));
        onRequest(socket);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A keep-alive upstream that answers the first request on each connection and
 * closes the connection, unanswered, when a second request arrives on it: what a
 * server whose idle timeout just fired looks like to a pooled connection.
 */
async function closesReusedConnections(): Promise<RawUpstream> {
  const sockets = new Set<net.Socket>();
  const requests: string[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = '';
    let answered = 0;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      const heads = received.split('\r\n\r\n').length - 1;
      if (heads > answered && answered === 0) {
        answered = 1;
        requests.push(received.slice(0, received.indexOf('\r\n')));
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      } else if (heads > answered) {
        socket.destroy();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface LogLine {
  path?: string;
  response_code?: number | string;
  response_flags?: string;
  response_code_details?: string;
  upstream_cluster?: string;
}

describe('weft proxy: bad upstreams', () => {
  let proxy: HttpProxyProcess;
  let port: number;
  let logPath: string;
  let good: Upstream;
  const raws: RawUpstream[] = [];
  let reset: RawUpstream;
  let hang: RawUpstream;
  let stall: RawUpstream;
  let garbage: RawUpstream;
  let truncated: RawUpstream;
  let clte: RawUpstream;
  let dupcl: RawUpstream;
  let stale: RawUpstream;
  let switching: RawUpstream;
  let refusedPort: number;

  before(async () => {
    good = await startUpstream(undefined, 'good');
    reset = await rawUpstream((socket) => socket.resetAndDestroy());
    hang = await rawUpstream(() => undefined);
    stall = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst bytes'));
    garbage = await rawUpstream((socket) => socket.write('this is not http at all\r\n\r\n'));
    truncated = await rawUpstream((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nonly twenty bytes...'));
    clte = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'));
    dupcl = await rawUpstream((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!'));
    stale = await closesReusedConnections();
    // Switches protocols although nothing asked it to, then speaks "HTTP" on the switched connection.
    switching = await rawUpstream((socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nEVIL!'), 50);
    });
    raws.push(reset, hang, stall, garbage, truncated, clte, dupcl, stale, switching);
    refusedPort = await freePort(); // nothing listens there
    logPath = join(mkdtempSync(join(tmpdir(), 'weft-e2e-log-')), 'access.log');
    const routes = ['reset', 'hang', 'stall', 'garbage', 'truncated', 'refused', 'clte', 'dupcl', 'stale', 'switching', 'good'].map((name) => ({
      match: { prefix: `/${name}` },
      route: { cluster: name, ...(name === 'hang' || name === 'stall' ? { timeout: '0.5s' } : {}) },
    }));
    proxy = await startHttpProxy({
      listener: {
        routes,
        hcm: {
          access_log: [
            {
              name: 'envoy.access_loggers.file',
              typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: logPath },
            },
          ],
        },
      },
      clusters: [
        { name: 'reset', ports: [reset.port] },
        { name: 'hang', ports: [hang.port] },
        { name: 'stall', ports: [stall.port] },
        { name: 'garbage', ports: [garbage.port] },
        { name: 'truncated', ports: [truncated.port] },
        { name: 'refused', ports: [refusedPort] },
        { name: 'clte', ports: [clte.port] },
        { name: 'dupcl', ports: [dupcl.port] },
        { name: 'stale', ports: [stale.port] },
        { name: 'switching', ports: [switching.port] },
        { name: 'good', ports: [good.port] },
      ],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await Promise.all([good.close(), ...raws.map((raw) => raw.close())]);
  });

  /** Waits for the access log line of `path` (the file logger flushes every 100 ms). */
  async function logLine(path: string): Promise<LogLine> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      if (existsSync(logPath)) {
        const lines = readFileSync(logPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as LogLine);
        const found = lines.find((line) => line.path === path);
        if (found !== undefined) return found;
      }
      if (Date.now() > deadline) throw new Error(`no access log line for ${path}: ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : '(no file)'}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function get(path: string): Promise<{ status: number; body: string; elapsedMs: number }> {
    const result = await rawSend(port, `GET ${path} HTTP/1.1\r\nHost: example.com\r\n\r\n`, { responses: 1, timeoutMs: 10_000 });
    assert.equal(result.responses.length, 1, `no response for ${path}: ${JSON.stringify(result.response)}`);
    return { status: result.responses[0]!.status, body: result.responses[0]!.body, elapsedMs: result.elapsedMs };
  }

  it('answers 503 (UC) when the upstream resets the connection after reading the request', async () => {
    const rxResetBefore = await statValue(proxy, 'cluster.reset.upstream_rq_rx_reset');
    const res = await get('/reset');
    assert.equal(res.status, 503);
    assert.match(res.body, /upstream connect error or disconnect\/reset before headers/);
    assert.ok(res.elapsedMs < 5_000, `took ${res.elapsedMs} ms`);
    assert.equal(reset.requests[0], 'GET /reset HTTP/1.1');
    const line = await logLine('/reset');
    assert.equal(Number(line.response_code), 503);
    assert.equal(line.response_flags, 'UC');
    assert.match(line.response_code_details ?? '', /^upstream_reset_before_response_started\{/);
    assert.ok((await statValue(proxy, 'cluster.reset.upstream_rq_rx_reset')) > rxResetBefore);
  });

  it('answers 504 (UT) after the route timeout when the upstream never answers', async () => {
    const before = await statValue(proxy, 'cluster.hang.upstream_rq_timeout');
    const res = await get('/hang');
    assert.equal(res.status, 504);
    assert.equal(res.body, 'upstream request timeout');
    assert.ok(res.elapsedMs >= 450 && res.elapsedMs < 5_000, `504 after ${res.elapsedMs} ms with a 0.5 s route timeout`);
    assert.equal((await statValue(proxy, 'cluster.hang.upstream_rq_timeout')) - before, 1);
    const line = await logLine('/hang');
    assert.equal(Number(line.response_code), 504);
    assert.equal(line.response_flags, 'UT');
    assert.equal(line.response_code_details, 'upstream_response_timeout');
  });

  it('resets the client (UT) at the route timeout when the upstream stalls mid-body', async () => {
    const result = await rawSend(port, 'GET /stall HTTP/1.1\r\nHost: example.com\r\n\r\n', { timeoutMs: 10_000 });
    assert.match(result.response, /^HTTP\/1\.1 200 /);
    assert.ok(result.response.endsWith('first bytes'));
    assert.ok(result.closedByServer, 'the proxy must close the client connection');
    assert.ok(result.elapsedMs >= 450 && result.elapsedMs < 5_000, `closed after ${result.elapsedMs} ms with a 0.5 s route timeout`);
    const line = await logLine('/stall');
    assert.equal(Number(line.response_code), 200);
    assert.equal(line.response_flags, 'UT');
    assert.equal(await statValue(proxy, 'cluster.stall.upstream_rq_timeout'), 1);
  });

  it('answers 502 (UPE) when the upstream answers garbage', async () => {
    const protocolErrorsBefore = await statValue(proxy, 'cluster.garbage.upstream_cx_protocol_error');
    const res = await get('/garbage');
    assert.equal((await statValue(proxy, 'cluster.garbage.upstream_cx_protocol_error')) - protocolErrorsBefore, 1);
    assert.equal(res.status, 502);
    assert.ok(res.elapsedMs < 5_000);
    const line = await logLine('/garbage');
    assert.equal(Number(line.response_code), 502);
    assert.equal(line.response_flags, 'UPE');
    assert.equal(line.response_code_details, 'upstream_reset_before_response_started{protocol_error}');
  });

  it('answers 502 (UPE) to a response with both Content-Length and Transfer-Encoding, or two different Content-Lengths', async () => {
    const a = await get('/clte');
    assert.equal(a.status, 502);
    const b = await get('/dupcl');
    assert.equal(b.status, 502);
    for (const path of ['/clte', '/dupcl']) {
      const line = await logLine(path);
      assert.equal(Number(line.response_code), 502, path);
      assert.equal(line.response_flags, 'UPE', path);
    }
  });

  it('answers 502 (UPE) to a 101 for a request that asked for no upgrade, and never reuses that connection', async () => {
    // Two requests on one client connection: each must get its own 502, never the bytes sent after the 101.
    const result = await rawSend(port, 'GET /switching/1 HTTP/1.1\r\nHost: example.com\r\n\r\n', { responses: 1, timeoutMs: 5_000 });
    assert.deepEqual(result.responses.map((r) => r.status), [502], JSON.stringify(result.response));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await get('/switching/2');
    assert.equal(again.status, 502, again.body);
    assert.doesNotMatch(result.response + again.body, /EVIL|101/);
    assert.deepEqual(switching.requests, ['GET /switching/1 HTTP/1.1', 'GET /switching/2 HTTP/1.1']);
    const line = await logLine('/switching/1');
    assert.equal(Number(line.response_code), 502);
    assert.equal(line.response_flags, 'UPE');
  });

  it('closes the client connection (no hang) when the upstream truncates its body, with curl seeing a partial transfer', async () => {
    const result = await rawSend(port, 'GET /truncated HTTP/1.1\r\nHost: example.com\r\n\r\n', { timeoutMs: 10_000 });
    assert.match(result.response, /^HTTP\/1\.1 200 /);
    assert.match(result.response, /content-length: 100\r\n/i);
    assert.ok(result.closedByServer, 'the proxy must close the client connection');
    assert.ok(result.elapsedMs < 5_000, `closed after ${result.elapsedMs} ms`);
    assert.ok(result.response.endsWith('only twenty bytes...'));
    // curl, an independent client, reports the short body (exit 18: partial file).
    const viaCurl = await curl(['--max-time', '10', `http://127.0.0.1:${port}/truncated`]);
    assert.equal(viaCurl.code, 18, viaCurl.stderr);
    const line = await logLine('/truncated');
    assert.equal(Number(line.response_code), 200);
    assert.equal(line.response_flags, 'UC');
    assert.equal(line.response_code_details, 'upstream_reset_after_response_started{connection_termination}');
  });

  it('retries a GET once on a fresh connection when the pooled one was closed by the upstream (no retry policy needed)', async () => {
    assert.equal((await get('/stale/1')).status, 200);
    const second = await get('/stale/2');
    assert.equal(second.status, 200, second.body);
    assert.deepEqual(stale.requests, ['GET /stale/1 HTTP/1.1', 'GET /stale/2 HTTP/1.1']);
  });

  it('answers 503 (UF, connection failure) when the upstream refuses connections', async () => {
    const before = await statValue(proxy, 'cluster.refused.upstream_cx_connect_fail');
    const res = await get('/refused');
    assert.equal(res.status, 503);
    assert.match(res.body, /reset reason: connection failure/);
    assert.ok(res.elapsedMs < 5_000);
    assert.ok((await statValue(proxy, 'cluster.refused.upstream_cx_connect_fail')) > before);
    const line = await logLine('/refused');
    assert.equal(Number(line.response_code), 503);
    assert.equal(line.response_flags, 'UF');
    assert.equal(line.response_code_details, 'upstream_reset_before_response_started{connection_failure}');
  });

  it('keeps serving good requests and counts the failures in /stats', async () => {
    const res = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/good`]);
    assert.equal(res.stdout, '200');
    // reset 503, hang 504, garbage 502, clte 502, dupcl 502, refused 503 (the truncated 200 counts as 2xx).
    assert.ok((await statValue(proxy, 'http.ingress.downstream_rq_5xx')) >= 6);
    assert.ok((await statValue(proxy, 'cluster.good.upstream_rq_2xx')) >= 1);
    assert.ok((await statValue(proxy, 'http.ingress.downstream_rq_2xx')) >= 1);
    const prom = await (await proxy.admin('/stats/prometheus')).text();
    assert.match(prom, /envoy_cluster_upstream_rq_timeout\{envoy_cluster_name="hang"\} 1/);
  });
});
