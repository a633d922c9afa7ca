/**
 * Streaming and backpressure through `weft proxy` (issue 3, point 3: "a 1 GB
 * upload or download passes through in constant memory"): 1 GiB downloads and
 * uploads with Content-Length and chunked framing, a client that stops reading
 * and an upstream that stops reading. The proxy's RSS is sampled from /proc
 * during each transfer; its growth must not follow the bytes transferred.
 *
 * Bodies carry a position-dependent byte pattern (byte i = i mod 251), so every
 * byte's value and order is checked at the receiving end (with memcmp, not a
 * JS loop). Throughput through the proxy and direct is reported as test
 * diagnostics.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import * as net from 'node:net';
import { curl, processMemory, sampleRss, startHttpProxy, startUpstream, statValue, waitFor, type HttpProxyProcess, type Upstream } from './harness.js';

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
/** Peak RSS growth allowed over the pre-transfer baseline: constant, not proportional to the body. */
const RSS_GROWTH_LIMIT = 64 * MiB;
/**
 * Peak RSS allowed over the baseline taken once after warm-up, for every transfer in the
 * suite (2.7 GiB in all): memory a previous transfer kept must not hide the next one's growth.
 */
const RSS_SUITE_LIMIT = 96 * MiB;
/** How long the slow reader / slow upstream stops reading. */
const STALL_MS = 2000;

// --- the byte pattern ---------------------------------------------------------------------------

const PERIOD = 251;
/** One write's worth of pattern; its length is a multiple of PERIOD so consecutive writes stay in phase. */
const BLOCK = patternBuffer(PERIOD * 256);
/** Reference for verification: any received slice of up to REF_SPAN bytes is compared against it. */
const REF_SPAN = 4 * MiB;
const REF = patternBuffer(PERIOD + REF_SPAN);

function patternBuffer(length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = i % PERIOD;
  return buf;
}

/** Checks and counts received bytes against the pattern; `mismatchAt` is the first bad offset (-1 = none). */
class PatternVerifier {
  bytes = 0;
  mismatchAt = -1;

  update(chunk: Buffer): void {
    for (let start = 0; start < chunk.length && this.mismatchAt === -1; start += REF_SPAN) {
      const slice = chunk.subarray(start, Math.min(chunk.length, start + REF_SPAN));
      const phase = (this.bytes + start) % PERIOD;
      if (!slice.equals(REF.subarray(phase, phase + slice.length))) this.mismatchAt = this.bytes + start;
    }
    this.bytes += chunk.length;
  }
}

/** Writes `total` pattern bytes with backpressure; `progress` counts bytes handed to the stream so far. */
async function writePattern(out: Writable, total: number, progress: { written: number } = { written: 0 }): Promise<void> {
  while (progress.written < total) {
    const n = Math.min(BLOCK.length, total - progress.written);
    const ok = out.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n));
    progress.written += n;
    if (!ok) await once(out, 'drain');
  }
}

// --- the upstream -----------------------------------------------------------------------------

/** Bytes the upstream's download handler has handed to its socket, per request path; `aborted` once its socket closed mid-body. */
const served = new Map<string, { written: number; aborted?: boolean }>();
/** Bytes the upstream's upload handler has read so far, per request path. */
const received = new Map<string, PatternVerifier>();

/**
 * GET  /download/<name>?bytes=N[&chunked=1]  streams N pattern bytes (Content-Length unless chunked).
 * POST /upload/<name>[?stall=1]              reads the body (after a stall, if asked) and answers its count and check.
 */
function streamingHandler(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (req.method === 'GET' && url.pathname.startsWith('/download/')) {
    const total = Number(url.searchParams.get('bytes'));
    if (url.searchParams.get('chunked') !== '1') res.setHeader('content-length', total);
    res.setHeader('content-type', 'application/octet-stream');
    const progress: { written: number; aborted?: boolean } = { written: 0 };
    served.set(url.pathname, progress);
    res.on('close', () => (progress.aborted = !res.writableFinished));
    writePattern(res, total, progress).then(
      () => res.end(),
      () => res.destroy(),
    );
    return;
  }
  if (req.method === 'POST' && url.pathname.startsWith('/upload/')) {
    const verifier = new PatternVerifier();
    received.set(url.pathname, verifier);
    req.on('data', (chunk: Buffer) => verifier.update(chunk));
    req.on('end', () => {
      const body = JSON.stringify({ bytes: verifier.bytes, mismatchAt: verifier.mismatchAt, chunked: req.headers['transfer-encoding'] === 'chunked' });
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
    if (url.searchParams.get('stall') === '1') {
      req.pause();
      setTimeout(() => req.resume(), STALL_MS);
    }
    return;
  }
  if (req.method === 'POST' && url.pathname === '/echo') {
    // Full duplex: the response streams back while the request is still arriving.
    res.setHeader('content-type', 'application/octet-stream');
    req.pipe(res);
    return;
  }
  res.statusCode = 404;
  res.end();
}

// --- clients --------------------------------------------------------------------------------------

interface DownloadResult {
  status: number;
  headers: IncomingMessage['headers'];
  bytes: number;
  mismatchAt: number;
  seconds: number;
}

/** What a pattern-verifying client saw, once the response ended. */
function downloadResult(res: IncomingMessage, verifier: PatternVerifier, started: bigint): DownloadResult {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    bytes: verifier.bytes,
    mismatchAt: verifier.mismatchAt,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/**
 * GETs a pattern body as fast as it arrives. `stall`, when given, runs once
 * after the first body bytes with the response paused (a slow reader).
 */
function download(port: number, path: string, stall?: () => Promise<void>): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } }, (res) => {
      const verifier = new PatternVerifier();
      let stalled = stall === undefined;
      res.on('data', (chunk: Buffer) => {
        verifier.update(chunk);
        if (!stalled) {
          stalled = true;
          res.pause();
          stall!().then(() => res.resume(), reject);
        }
      });
      res.on('end', () => resolve(downloadResult(res, verifier, started)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

interface UploadResult {
  status: number;
  body: { bytes: number; mismatchAt: number; chunked: boolean };
  seconds: number;
}

/** POSTs `total` pattern bytes, with Content-Length or chunked; `progress` counts bytes written so far. */
function upload(port: number, path: string, total: number, chunked: boolean, progress: { written: number } = { written: 0 }): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const headers: Record<string, string> = { connection: 'close', 'content-type': 'application/octet-stream' };
    if (!chunked) headers['content-length'] = String(total);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as UploadResult['body'], seconds: Number(process.hrtime.bigint() - started) / 1e9 });
        } catch (err) {
          reject(new Error(`bad upload response ${res.statusCode}: ${text}`, { cause: err }));
        }
      });
    });
    req.on('error', reject);
    writePattern(req, total, progress).then(() => req.end(), reject);
  });
}

/** POSTs `total` pattern bytes (Content-Length) and reads the echoed response body while still sending. */
function echo(port: number, total: number): Promise<DownloadResult & { writtenAtFirstByte: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const progress = { written: 0 };
    const headers = { connection: 'close', 'content-type': 'application/octet-stream', 'content-length': String(total) };
    const req = request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', agent: false, headers }, (res) => {
      const writtenAtFirstByte = progress.written;
      const verifier = new PatternVerifier();
      res.on('data', (chunk: Buffer) => verifier.update(chunk));
      res.on('end', () => resolve({ ...downloadResult(res, verifier, started), writtenAtFirstByte }));
      res.on('error', reject);
    });
    req.on('error', reject);
    writePattern(req, total, progress).then(() => req.end(), reject);
  });
}

const mb = (bytes: number): string => (bytes / MiB).toFixed(1);
const rate = (bytes: number, seconds: number): string => `${(bytes / 1e6 / seconds).toFixed(0)} MB/s`;

// --- the suite --------------------------------------------------------------------------------------

describe('weft proxy: streaming in constant memory, with backpressure', () => {
  let upstream: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;
  let pid: number;
  let suiteBaseline: number;

  before(async () => {
    upstream = await startUpstream(streamingHandler, 'streaming');
    proxy = await startHttpProxy({
      // The route timeout is lifted so a loaded machine cannot turn a slow transfer into a 504.
      listener: { routes: [{ match: { prefix: '/' }, route: { cluster: 'streaming', timeout: '0s' } }] },
      clusters: [{ name: 'streaming', ports: [upstream.port] }],
    });
    port = proxy.port;
    pid = proxy.child.pid!;
    // Warm up (JIT, pools) so the first measured transfer's baseline is representative.
    const warm = await download(port, `/download/warm?bytes=${16 * MiB}`);
    assert.equal(warm.bytes, 16 * MiB);
    suiteBaseline = processMemory(pid).rss;
  });

  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  /** Runs `transfer` while sampling the proxy's RSS; asserts the growth stays under the limit. */
  async function withinConstantMemory<T>(t: TestContext, label: string, transfer: () => Promise<T>): Promise<T> {
    const sampler = sampleRss(pid, 100);
    const result = await transfer();
    const { baseline, peak, samples } = sampler.stop();
    t.diagnostic(`${label}: proxy RSS baseline ${mb(baseline)} MiB, peak ${mb(peak)} MiB (+${mb(peak - baseline)} MiB, ${samples} samples)`);
    assert.ok(samples >= 2, 'RSS was sampled during the transfer');
    assert.ok(peak - baseline < RSS_GROWTH_LIMIT, `${label}: proxy RSS grew by ${mb(peak - baseline)} MiB (limit ${mb(RSS_GROWTH_LIMIT)} MiB)`);
    assert.ok(
      peak - suiteBaseline < RSS_SUITE_LIMIT,
      `${label}: proxy RSS peaked ${mb(peak - suiteBaseline)} MiB above its post-warm-up ${mb(suiteBaseline)} MiB (limit ${mb(RSS_SUITE_LIMIT)} MiB)`,
    );
    return result;
  }

  it('downloads 1 GiB (Content-Length) intact in constant memory', async (t) => {
    const direct = await download(upstream.port, `/download/direct-cl?bytes=${GiB}`);
    assert.equal(direct.bytes, GiB);
    const proxied = await withinConstantMemory(t, '1 GiB download, content-length', () => download(port, `/download/cl?bytes=${GiB}`));
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers['content-length'], String(GiB));
    assert.equal(proxied.bytes, GiB);
    assert.equal(proxied.mismatchAt, -1, 'every byte arrives in order');
    t.diagnostic(`1 GiB download: proxy ${rate(GiB, proxied.seconds)} (${proxied.seconds.toFixed(2)} s), direct ${rate(GiB, direct.seconds)} (${direct.seconds.toFixed(2)} s)`);
  });

  it('downloads 256 MiB (chunked) intact in constant memory', async (t) => {
    const total = 256 * MiB;
    const proxied = await withinConstantMemory(t, '256 MiB download, chunked', () => download(port, `/download/chunked?bytes=${total}&chunked=1`));
    assert.equal(proxied.status, 200);
    assert.equal(proxied.headers['transfer-encoding'], 'chunked');
    assert.equal(proxied.headers['content-length'], undefined);
    assert.equal(proxied.bytes, total);
    assert.equal(proxied.mismatchAt, -1, 'every byte arrives in order');
    t.diagnostic(`256 MiB chunked download: proxy ${rate(total, proxied.seconds)}`);
  });

  it('uploads 1 GiB (Content-Length) intact in constant memory', async (t) => {
    const direct = await upload(upstream.port, '/upload/direct-cl', GiB, false);
    assert.equal(direct.body.bytes, GiB);
    const proxied = await withinConstantMemory(t, '1 GiB upload, content-length', () => upload(port, '/upload/cl', GiB, false));
    assert.equal(proxied.status, 200);
    assert.deepEqual(proxied.body, { bytes: GiB, mismatchAt: -1, chunked: false });
    t.diagnostic(`1 GiB upload: proxy ${rate(GiB, proxied.seconds)} (${proxied.seconds.toFixed(2)} s), direct ${rate(GiB, direct.seconds)} (${direct.seconds.toFixed(2)} s)`);
  });

  it('uploads 256 MiB (chunked) intact in constant memory', async (t) => {
    const total = 256 * MiB;
    const proxied = await withinConstantMemory(t, '256 MiB upload, chunked', () => upload(port, '/upload/chunked', total, true));
    assert.equal(proxied.status, 200);
    assert.deepEqual(proxied.body, { bytes: total, mismatchAt: -1, chunked: true });
    t.diagnostic(`256 MiB chunked upload: proxy ${rate(total, proxied.seconds)}`);
  });

  it('echoes 256 MiB full duplex (response streams while the request is still sending) in constant memory', async (t) => {
    const total = 256 * MiB;
    const result = await withinConstantMemory(t, '256 MiB echo, full duplex', () => echo(port, total));
    assert.equal(result.status, 200);
    assert.equal(result.bytes, total);
    assert.equal(result.mismatchAt, -1);
    assert.ok(result.writtenAtFirstByte < total, 'the response began before the request body was fully sent');
    t.diagnostic(`256 MiB echo: proxy ${rate(total, result.seconds)} each way`);
  });

  it('serves curl a 256 MiB chunked download', async () => {
    const total = 256 * MiB;
    const result = await curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://127.0.0.1:${port}/download/curl?bytes=${total}&chunked=1`]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `200 ${total}`);
  });

  it('a client that stops reading stalls the upstream, not the proxy memory; the download completes when it resumes', async (t) => {
    const total = 200 * MiB;
    let writtenWhileStalled = 0;
    const result = await withinConstantMemory(t, '200 MiB download, slow reader', () =>
      download(port, `/download/slow-reader?bytes=${total}`, async () => {
        await new Promise((resolve) => setTimeout(resolve, STALL_MS));
        writtenWhileStalled = served.get('/download/slow-reader')?.written ?? 0;
      }),
    );
    t.diagnostic(`upstream had written ${mb(writtenWhileStalled)} MiB when the reader resumed after ${STALL_MS} ms`);
    // Kernel socket buffers on three loopback legs hold a few MiB each; without backpressure the upstream would be done.
    assert.ok(writtenWhileStalled > 0 && writtenWhileStalled < 64 * MiB, `upstream wrote ${mb(writtenWhileStalled)} MiB to a stalled reader`);
    assert.equal(result.status, 200);
    assert.equal(result.bytes, total);
    assert.equal(result.mismatchAt, -1);
  });

  it('a client that abandons a stalled download gets the upstream request cancelled', async () => {
    const cancelledBefore = await statValue(proxy, 'cluster.streaming.upstream_rq_cancelled');
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`GET /download/abandoned?bytes=${GiB} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await once(socket, 'data');
    socket.pause();
    await waitFor(() => (served.get('/download/abandoned')?.written ?? 0) > 0, 'the upstream streaming');
    socket.destroy();
    await waitFor(() => served.get('/download/abandoned')?.aborted === true, 'the upstream connection closed mid-body');
    assert.ok(served.get('/download/abandoned')!.written < 256 * MiB, 'the upstream stopped long before the end of the body');
    assert.ok((await statValue(proxy, 'cluster.streaming.upstream_rq_cancelled')) > cancelledBefore);
    // The proxy keeps serving.
    const next = await download(port, `/download/after-abandon?bytes=${MiB}`);
    assert.equal(next.bytes, MiB);
    assert.equal(next.mismatchAt, -1);
  });

  it('an upstream that stops reading stalls the client, not the proxy memory; the upload completes when it resumes', async (t) => {
    const total = 200 * MiB;
    const progress = { written: 0 };
    let writtenWhileStalled = 0;
    const result = await withinConstantMemory(t, '200 MiB upload, slow upstream', async () => {
      const pending = upload(port, '/upload/slow-upstream?stall=1', total, false, progress);
      // The upstream stalls for STALL_MS from the request head; look shortly before it resumes.
      await new Promise((resolve) => setTimeout(resolve, STALL_MS - 300));
      writtenWhileStalled = progress.written;
      return pending;
    });
    const readWhileStalled = received.get('/upload/slow-upstream');
    t.diagnostic(`client had written ${mb(writtenWhileStalled)} MiB while the upstream was not reading`);
    assert.ok(readWhileStalled !== undefined, 'the upstream saw the request');
    assert.ok(writtenWhileStalled > 0 && writtenWhileStalled < 64 * MiB, `client wrote ${mb(writtenWhileStalled)} MiB to a stalled upstream`);
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, { bytes: total, mismatchAt: -1, chunked: false });
  });
});
