/**
 * Bad input from clients, end to end through a real `weft proxy`: the strict
 * HTTP/1.1 corpus (malformed and smuggling requests, alone and pipelined behind a
 * valid request), the valid corpus, slowloris heads and trickled bodies, and the
 * header-size limits. The upstream records every request it sees, so each test can
 * assert that nothing the client did not send ever reached it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import * as net from 'node:net';
import { MALFORMED_REQUESTS, VALID_REQUESTS, type MalformedRequest } from '../proxy/http1/corpus.js';
import { curl, mapLimit, rawSend, startHttpProxy, startUpstream, statValue, type HttpProxyProcess, type Upstream } from './harness.js';

/**
 * The only request head in the malformed corpus that is itself legitimate: a chunked
 * POST whose body (chunk sizes, chunk data, trailers) is what is broken. The proxy
 * streams, so the upstream may see exactly this request (and never its body's end);
 * for every other entry it must see nothing at all.
 */
const LEGITIMATE_CHUNKED_HEAD = 'POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n';
const hasLegitimateHead = (entry: MalformedRequest): boolean => entry.raw.startsWith(LEGITIMATE_CHUNKED_HEAD);
const HEAD_LEVEL = MALFORMED_REQUESTS.filter((entry) => !hasLegitimateHead(entry));
const BODY_LEVEL = MALFORMED_REQUESTS.filter(hasLegitimateHead);
const CONCURRENCY = 8;

type Seen = Upstream['seen'][number];

/** Every request the upstream saw for a body-level entry must be the legitimate chunked POST, nothing else. */
function assertOnlyLegitimateChunkedPosts(seen: Seen[], max: number, context: string): void {
  assert.ok(seen.length <= max, `${context}: upstream saw ${seen.length} requests, at most ${max} allowed`);
  for (const request of seen) {
    assert.equal(request.method, 'POST', context);
    assert.equal(request.url, '/', context);
    assert.equal(request.headers['host'], 'example.com', context);
    assert.equal(request.headers['transfer-encoding'], 'chunked', context);
    assert.equal(request.headers['content-length'], undefined, context);
  }
}

async function curlStatus(port: number, path = '/'): Promise<string> {
  const res = await curl(['-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `http://127.0.0.1:${port}${path}`]);
  return res.stdout;
}

describe('weft proxy: malformed and smuggling requests (corpus)', () => {
  let upstream: Upstream;
  /** Accepts heads up to 128 KiB (Node's own limit is 16 KiB), for the under-the-limit checks. */
  let roomy: Server;
  let roomySeen = 0;
  let proxy: HttpProxyProcess;
  let port: number;

  before(async () => {
    upstream = await startUpstream(undefined, 'recorder');
    roomy = createServer({ maxHeaderSize: 128 * 1024 }, (req, res) => {
      roomySeen++;
      req.resume();
      req.on('end', () => res.end('roomy'));
    });
    roomy.listen(0, '127.0.0.1');
    await once(roomy, 'listening');
    proxy = await startHttpProxy({
      listener: {
        routes: [
          // `OPTIONS *` has no path to prefix-match; as in Envoy, a route must name it.
          { match: { path: '*' }, route: { cluster: 'recorder' } },
          { match: { prefix: '/roomy' }, route: { cluster: 'roomy' } },
          { match: { prefix: '/' }, route: { cluster: 'recorder' } },
        ],
      },
      clusters: [
        { name: 'recorder', ports: [upstream.port] },
        { name: 'roomy', ports: [(roomy.address() as net.AddressInfo).port] },
      ],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
    roomy.closeAllConnections();
    await new Promise((resolve) => roomy.close(resolve));
  });

  it(`has a corpus of at least 100 entries, some with a legitimate chunked head`, () => {
    assert.ok(MALFORMED_REQUESTS.length >= 100, String(MALFORMED_REQUESTS.length));
    assert.ok(BODY_LEVEL.length >= 10, String(BODY_LEVEL.length));
  });

  it('answers each malformed head with its status and closes; the upstream sees nothing; others keep being served', async () => {
    const protocolErrorsBefore = await statValue(proxy, 'http.ingress.downstream_cx_protocol_error');
    const seenBefore = upstream.seen.length;
    const failures: string[] = [];
    const batches = chunk(HEAD_LEVEL, 25);
    for (const batch of batches) {
      const results = await mapLimit(batch, CONCURRENCY, (entry) => rawSend(port, entry.raw));
      batch.forEach((entry, i) => {
        const result = results[i]!;
        const statusLines = result.response.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
        if (statusLines.length !== 1 || statusLines[0] !== `HTTP/1.1 ${entry.status}` || !result.response.startsWith(`HTTP/1.1 ${entry.status} `)) {
          failures.push(`${entry.name}: expected exactly one ${entry.status}, got ${JSON.stringify(result.response.slice(0, 120))}`);
        }
        if (!result.closedByServer) failures.push(`${entry.name}: connection not closed by the proxy`);
        if (!/\r\nconnection: close\r\n/i.test(result.response)) failures.push(`${entry.name}: no connection: close`);
      });
      // The proxy keeps serving well-behaved clients between (and after) the bad ones.
      assert.equal(await curlStatus(port, '/between'), '200');
    }
    assert.deepEqual(failures, []);
    const reached = upstream.seen.slice(seenBefore).filter((request) => request.url !== '/between');
    assert.deepEqual(reached, [], 'the upstream must see nothing from a malformed head');
    const protocolErrors = (await statValue(proxy, 'http.ingress.downstream_cx_protocol_error')) - protocolErrorsBefore;
    assert.equal(protocolErrors, HEAD_LEVEL.length, 'downstream_cx_protocol_error counts each malformed request');
  });

  it('answers each malformed chunked body with its status and closes; the upstream sees at most the legitimate POST head', async () => {
    const seenBefore = upstream.seen.length;
    const results = await mapLimit(BODY_LEVEL, CONCURRENCY, (entry) => rawSend(port, entry.raw));
    const failures: string[] = [];
    BODY_LEVEL.forEach((entry, i) => {
      const result = results[i]!;
      const statusLines = result.response.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
      if (statusLines.length !== 1 || !result.response.startsWith(`HTTP/1.1 ${entry.status} `)) {
        failures.push(`${entry.name}: expected exactly one ${entry.status}, got ${JSON.stringify(result.response.slice(0, 120))}`);
      }
      if (!result.closedByServer) failures.push(`${entry.name}: connection not closed by the proxy`);
    });
    assert.deepEqual(failures, []);
    assertOnlyLegitimateChunkedPosts(upstream.seen.slice(seenBefore), BODY_LEVEL.length, 'body-level entries');
    assert.equal(await curlStatus(port), '200');
  });

  it('pipelined behind a valid request: the valid one gets 200, then the malformed one its 4xx, then the connection closes', async () => {
    const seenBefore = upstream.seen.length;
    const failures: string[] = [];
    const batches = chunk(MALFORMED_REQUESTS.map((entry, index) => ({ entry, index })), 30);
    for (const batch of batches) {
      const results = await mapLimit(batch, CONCURRENCY, ({ entry, index }) =>
        rawSend(port, `GET /pre/${index} HTTP/1.1\r\nHost: example.com\r\n\r\n${entry.raw}`),
      );
      batch.forEach(({ entry, index }, i) => {
        const result = results[i]!;
        const statuses = result.responses.map((r) => r.status);
        if (statuses.length !== 2 || statuses[0] !== 200 || statuses[1] !== entry.status) {
          failures.push(`${entry.name}: expected [200, ${entry.status}], got ${JSON.stringify(statuses)} ${JSON.stringify(result.response.slice(0, 80))}`);
          return;
        }
        const first = JSON.parse(result.responses[0]!.body) as { url: string };
        if (first.url !== `/pre/${index}`) failures.push(`${entry.name}: first response is for ${first.url}`);
        if (!result.closedByServer) failures.push(`${entry.name}: connection not closed by the proxy`);
      });
      assert.equal(await curlStatus(port, '/between'), '200');
    }
    assert.deepEqual(failures, []);
    const reached = upstream.seen.slice(seenBefore).filter((request) => request.url !== '/between');
    const pre = reached.filter((request) => request.url.startsWith('/pre/'));
    assert.deepEqual(
      pre.map((request) => request.url).sort(),
      MALFORMED_REQUESTS.map((_, index) => `/pre/${index}`).sort(),
      'each valid pipelined request reaches the upstream exactly once',
    );
    for (const request of pre) assert.equal(request.method, 'GET');
    assertOnlyLegitimateChunkedPosts(
      reached.filter((request) => !request.url.startsWith('/pre/')),
      BODY_LEVEL.length,
      'pipelined entries',
    );
  });

  it('never interprets anything after a malformed request: a valid request pipelined behind it is not answered or forwarded', async () => {
    const seenBefore = upstream.seen.length;
    const failures: string[] = [];
    const results = await mapLimit(HEAD_LEVEL, CONCURRENCY, (entry, index) => rawSend(port, `${entry.raw}GET /after/${index} HTTP/1.1\r\nHost: example.com\r\n\r\n`));
    HEAD_LEVEL.forEach((entry, i) => {
      const result = results[i]!;
      const statusLines = result.response.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];
      if (statusLines.length !== 1 || !result.response.startsWith(`HTTP/1.1 ${entry.status} `)) failures.push(`${entry.name}: ${JSON.stringify(statusLines)}`);
      if (!result.closedByServer) failures.push(`${entry.name}: connection not closed by the proxy`);
    });
    assert.deepEqual(failures, []);
    assert.deepEqual(upstream.seen.slice(seenBefore), []);
  });

  it('a smuggled request hidden in a CL.TE body never reaches the upstream, even pipelined', async () => {
    const seenBefore = upstream.seen.length;
    const smuggle =
      'POST /front HTTP/1.1\r\nHost: example.com\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.com\r\nX: y\r\n\r\n';
    const result = await rawSend(port, smuggle);
    assert.match(result.response, /^HTTP\/1\.1 400 /);
    assert.ok(result.closedByServer);
    // TE.CL the other way round, and a request hidden after a valid one's body.
    const teCl = await rawSend(port, 'POST /front HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGET /smuggled HTTP/1.1\r\n\r\n0\r\n\r\n');
    assert.match(teCl.response, /^HTTP\/1\.1 400 /);
    assert.deepEqual(upstream.seen.slice(seenBefore), []);
  });

  it('answers the valid corpus with 2xx responses in order', async () => {
    const seenBefore = upstream.seen.length;
    const results = await mapLimit(VALID_REQUESTS, CONCURRENCY, (entry) => rawSend(port, entry.raw, { responses: entry.expect.length, timeoutMs: 10_000 }));
    const failures: string[] = [];
    VALID_REQUESTS.forEach((entry, i) => {
      const result = results[i]!;
      if (entry.expect[0]!.method === 'CONNECT') {
        // Weft does not tunnel CONNECT: a local 501, and the upstream never sees it.
        if (result.responses[0]?.status !== 501) failures.push(`${entry.name}: expected 501, got ${result.responses[0]?.status}`);
        return;
      }
      if (result.responses.length !== entry.expect.length) {
        failures.push(`${entry.name}: expected ${entry.expect.length} responses, got ${JSON.stringify(result.response.slice(0, 200))}`);
        return;
      }
      entry.expect.forEach((expected, k) => {
        const response = result.responses[k]!;
        if (response.status < 200 || response.status > 299) {
          failures.push(`${entry.name}[${k}]: status ${response.status} ${response.body.slice(0, 100)}`);
          return;
        }
        const echoed = JSON.parse(response.body) as { method: string; url: string; bodyBytes: number };
        if (echoed.method !== expected.method) failures.push(`${entry.name}[${k}]: method ${echoed.method}`);
        if (echoed.url !== upstreamTarget(expected.target)) failures.push(`${entry.name}[${k}]: url ${echoed.url} for ${expected.target}`);
        if (echoed.bodyBytes !== Buffer.byteLength(expected.body, 'latin1')) failures.push(`${entry.name}[${k}]: ${echoed.bodyBytes} body bytes`);
      });
    });
    assert.deepEqual(failures, []);
    const expectedCount = VALID_REQUESTS.filter((e) => e.expect[0]!.method !== 'CONNECT').reduce((n, e) => n + e.expect.length, 0);
    assert.equal(upstream.seen.length - seenBefore, expectedCount);
  });

  it('answers 431 to oversized headers and 414 to an oversized request line with the default limits (curl)', async () => {
    const tooLargeBefore = await statValue(proxy, 'http.ingress.downstream_rq_too_large');
    const seenBefore = roomySeen;
    const big = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', `x-big: ${'b'.repeat(61 * 1024)}`, `http://127.0.0.1:${port}/roomy`]);
    assert.equal(big.stdout, '431');
    const longLine = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/roomy/${'a'.repeat(17 * 1024)}`]);
    assert.equal(longLine.stdout, '414');
    assert.equal(roomySeen, seenBefore, 'the upstream never sees an oversized request');
    // Just under the limits passes.
    const underHeaders = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', `x-big: ${'b'.repeat(58 * 1024)}`, `http://127.0.0.1:${port}/roomy`]);
    assert.equal(underHeaders.stdout, '200');
    const underLine = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/roomy/${'a'.repeat(15 * 1024)}`]);
    assert.equal(underLine.stdout, '200');
    assert.equal(roomySeen - seenBefore, 2);
    assert.ok((await statValue(proxy, 'http.ingress.downstream_rq_too_large')) - tooLargeBefore >= 1);
  });
});

describe('weft proxy: slow clients and tighter limits', () => {
  let upstream: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;
  const sockets: net.Socket[] = [];

  before(async () => {
    upstream = await startUpstream(undefined, 'recorder');
    proxy = await startHttpProxy({
      listener: {
        routes: [{ match: { prefix: '/' }, route: { cluster: 'recorder' } }],
        hcm: {
          request_headers_timeout: '1s',
          stream_idle_timeout: '1s',
          request_timeout: '3s',
          max_request_headers_kb: 8,
          common_http_protocol_options: { max_headers_count: 20 },
        },
      },
      clusters: [{ name: 'recorder', ports: [upstream.port] }],
    });
    port = proxy.port;
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await proxy.stop();
    await upstream.close();
  });

  it('closes 50 slowloris connections with 408 after request_headers_timeout while a normal client keeps getting fast 200s', async () => {
    const head = 'GET /slow HTTP/1.1\r\nHost: example.com\r\nX-Padding: ' + 'p'.repeat(200);
    const timeoutsBefore = await statValue(proxy, 'http.ingress.downstream_rq_header_timeout');
    const started = Date.now();
    const attackers = Array.from({ length: 50 }, () => slowloris(port, head, 100, sockets));
    let attackOver = false;
    const normal: number[] = [];
    const normalLoop = (async () => {
      while (!attackOver) {
        const t0 = Date.now();
        const status = await curlStatus(port, '/normal');
        assert.equal(status, '200');
        normal.push(Date.now() - t0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const results = await Promise.all(attackers);
    attackOver = true;
    await normalLoop;
    for (const result of results) {
      assert.match(result.response, /^HTTP\/1\.1 408 /, JSON.stringify(result.response.slice(0, 80)));
      assert.ok(result.closedByServer, 'slowloris connection closed by the proxy');
      assert.ok(result.firstByteToCloseMs >= 900, `closed after ${result.firstByteToCloseMs} ms, before the 1 s timeout`);
      assert.ok(result.firstByteToCloseMs < 6_000, `closed after ${result.firstByteToCloseMs} ms: the configured 1 s was not applied`);
      assert.ok(result.bytesSent < head.length, 'the head was still incomplete');
    }
    // The normal client was served while the attack went on, and quickly.
    const attackMs = Date.now() - started;
    assert.ok(normal.length >= 3, `only ${normal.length} normal requests during a ${attackMs} ms attack`);
    assert.ok(Math.max(...normal) < 2_000, `normal requests took up to ${Math.max(...normal)} ms`);
    assert.ok((await statValue(proxy, 'http.ingress.downstream_rq_header_timeout')) - timeoutsBefore >= 50);
    assert.equal(upstream.seen.filter((request) => request.url === '/slow').length, 0);
  });

  it('times out a partial head pipelined behind a complete request, then silent (408 after request_headers_timeout)', async () => {
    const result = await rawSend(port, 'GET /first HTTP/1.1\r\nHost: example.com\r\n\r\nGET /second HTTP/1.1\r\nHost: exa', { timeoutMs: 12_000 });
    assert.deepEqual(result.responses.map((r) => r.status), [200, 408], JSON.stringify(result.response.slice(0, 200)));
    assert.ok(result.closedByServer);
    assert.ok(result.elapsedMs >= 900 && result.elapsedMs < 6_000, `closed after ${result.elapsedMs} ms`);
    assert.equal(upstream.seen.filter((request) => request.url === '/second').length, 0);
  });

  it('bounds a stalled request body by stream_idle_timeout (408) and a trickled one by request_timeout (408)', async () => {
    const idleBefore = await statValue(proxy, 'http.ingress.downstream_rq_idle_timeout');
    const stalled = await rawSend(port, 'POST /stalled HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100\r\n\r\n0123456789', { timeoutMs: 10_000 });
    assert.match(stalled.response, /^HTTP\/1\.1 408 /);
    assert.ok(stalled.closedByServer);
    assert.ok(stalled.elapsedMs >= 900 && stalled.elapsedMs < 6_000, `stalled body answered after ${stalled.elapsedMs} ms`);
    assert.ok((await statValue(proxy, 'http.ingress.downstream_rq_idle_timeout')) - idleBefore >= 1);

    // A byte every 300 ms never trips the 1 s idle timeout; the 3 s request_timeout ends it.
    const trickle = await slowBody(port, 'POST /trickle HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\n', 300, sockets);
    assert.match(trickle.response, /^HTTP\/1\.1 408 /);
    assert.ok(trickle.closedByServer);
    assert.ok(trickle.elapsedMs >= 2_500 && trickle.elapsedMs < 9_000, `trickled body answered after ${trickle.elapsedMs} ms`);
    assert.ok(trickle.bytesSent > 4, `only ${trickle.bytesSent} body bytes were sent: the idle timeout fired instead`);
    assert.equal(await curlStatus(port), '200');
  });

  it('with max_request_headers_kb: 8, answers 431 to 9 KB of headers and passes 7 KB', async () => {
    const seenBefore = upstream.seen.length;
    const over = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', `x-big: ${'b'.repeat(9 * 1024)}`, `http://127.0.0.1:${port}/over`]);
    assert.equal(over.stdout, '431');
    const spread = Array.from({ length: 9 }, (_, i) => ['-H', `x-h${i}: ${'v'.repeat(1024)}`]).flat();
    const overSpread = await curl(['-o', '/dev/null', '-w', '%{http_code}', ...spread, `http://127.0.0.1:${port}/over`]);
    assert.equal(overSpread.stdout, '431');
    const under = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', `x-big: ${'b'.repeat(7 * 1024)}`, `http://127.0.0.1:${port}/under`]);
    assert.equal(under.stdout, '200');
    assert.deepEqual(upstream.seen.slice(seenBefore).map((request) => request.url), ['/under']);
  });

  it('with max_headers_count: 20, answers 431 to 21 header fields and passes 20', async () => {
    const seenBefore = upstream.seen.length;
    const fields = (n: number): string => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join('');
    // Host is one of the counted fields.
    const over = await rawSend(port, `GET /count-over HTTP/1.1\r\nHost: example.com\r\n${fields(20)}\r\n`);
    assert.match(over.response, /^HTTP\/1\.1 431 /);
    assert.ok(over.closedByServer);
    const at = await rawSend(port, `GET /count-at HTTP/1.1\r\nHost: example.com\r\n${fields(18)}Connection: close\r\n\r\n`);
    assert.ok(at.closedByServer);
    assert.equal(at.responses[0]?.status, 200, at.response.slice(0, 100));
    assert.deepEqual(upstream.seen.slice(seenBefore).map((request) => request.url), ['/count-at']);
  });
});

// --- helpers ---------------------------------------------------------------------------------

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The request-target the upstream sees: absolute-form becomes origin-form. */
function upstreamTarget(target: string): string {
  const match = /^[a-z]+:\/\/[^/?]*(.*)$/i.exec(target);
  if (match === null) return target;
  const rest = match[1]!;
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}

interface SlowResult {
  response: string;
  closedByServer: boolean;
  bytesSent: number;
  firstByteToCloseMs: number;
  elapsedMs: number;
}

/** Sends `head` one byte every `intervalMs` until the server answers or closes. */
async function slowloris(port: number, head: string, intervalMs: number, track: net.Socket[]): Promise<SlowResult> {
  const socket = net.connect(port, '127.0.0.1');
  track.push(socket);
  await once(socket, 'connect');
  return trickle(socket, Buffer.from(head, 'latin1'), 0, intervalMs);
}

/** Sends `head` at once, then body bytes one every `intervalMs`. */
async function slowBody(port: number, head: string, intervalMs: number, track: net.Socket[]): Promise<SlowResult> {
  const socket = net.connect(port, '127.0.0.1');
  track.push(socket);
  await once(socket, 'connect');
  const bytes = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(1000, 'x')]);
  const result = await trickle(socket, bytes, head.length, intervalMs);
  return { ...result, bytesSent: result.bytesSent - head.length };
}

function trickle(socket: net.Socket, bytes: Buffer, burst: number, intervalMs: number): Promise<SlowResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    let response = '';
    let sent = 0;
    let closedByServer = false;
    let finished = false;
    socket.setEncoding('latin1');
    const send = (n: number): void => {
      if (finished || socket.destroyed || sent >= bytes.length) return;
      socket.write(bytes.subarray(sent, sent + n));
      sent += n;
    };
    send(Math.max(1, burst));
    const timer = setInterval(() => send(1), intervalMs);
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      clearTimeout(guard);
      socket.destroy();
      resolve({ response, closedByServer, bytesSent: sent, firstByteToCloseMs: Date.now() - started, elapsedMs: Date.now() - started });
    };
    const guard = setTimeout(done, 15_000);
    socket.on('data', (data: string) => (response += data));
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    socket.on('error', () => {
      closedByServer = true;
      done();
    });
    socket.on('close', done);
  });
}
