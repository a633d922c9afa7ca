/**
 * Resilience end to end (issue 3, point 5): connect, route and idle timeouts,
 * retries under each retry_on condition, per-try timeouts, back-off, retry
 * budgets, request mirroring and weighted clusters, through a real `weft proxy`
 * child process. The upstream misbehaves on request: `x-fail` lists what each
 * successive try of the request keyed by `x-key` gets (a status, `status@ms`,
 * `reset` or `hang`); tries past the list get 200 with the hit count.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import * as net from 'node:net';
import { accessLog, curl, freePort, startHttpProxy, startUpstream, statValue, waitFor, type HttpProxyProcess, type Upstream } from './harness.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  elapsedMs: number;
}

function send(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, elapsedMs: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

let keySeq = 0;
const nextKey = (): string => `k${++keySeq}-${Date.now()}`;

/** The scripted upstream: see the file comment. */
async function startScripted(name: string): Promise<Upstream & { hits: Map<string, number>; hanging: ServerResponse[] }> {
  const hits = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const key = String(req.headers['x-key'] ?? '');
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    const script = String(req.headers['x-fail'] ?? '').split(',').filter((s) => s !== '');
    const step = script[n - 1];
    const answer = (status: number): void => {
      const body = JSON.stringify({ upstream: name, hits: n, headers: req.headers });
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    };
    if (step === undefined) return answer(200);
    if (step === 'reset') return void req.socket.destroy();
    if (step === 'hang') return void hanging.push(res);
    if (step === 'head-hang') {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
      return void hanging.push(res);
    }
    const [status, delay] = step.split('@').map(Number);
    if (delay === undefined) return answer(status!);
    setTimeout(() => answer(status!), delay);
  }, name);
  return Object.assign(upstream, { hits, hanging });
}

/**
 * A listener whose accept queue is full: the process never calls accept()
 * (its event loop is blocked in Atomics.wait), and we fill its backlog, so
 * the kernel drops further SYNs and a connect attempt hangs until timed out.
 */
async function startBlackhole(): Promise<{ port: number; fillers: net.Socket[]; child: ChildProcess }> {
  const script = `
    const net = require('node:net');
    const server = net.createServer();
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
      process.stdout.write(server.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0));
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  const fillers: net.Socket[] = [];
  let connected = 0;
  for (let i = 0; i < 4; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => connected++);
    socket.on('error', () => undefined);
    fillers.push(socket);
  }
  await waitFor(() => connected >= 1, 'backlog filled');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(connected < fillers.length, 'the backlog never filled up');
  return { port, fillers, child };
}

describe('weft proxy: timeouts, retries, mirroring end to end', () => {
  let flaky: Awaited<ReturnType<typeof startScripted>>;
  let primary: Upstream;
  let shadow: Upstream;
  let shadowHang: Upstream;
  let wa: Upstream;
  let wb: Upstream;
  const shadowBodies: string[] = [];
  const hangSockets: net.Socket[] = [];
  let hangClosed = 0;
  let blackhole: Awaited<ReturnType<typeof startBlackhole>>;
  let closedPort: number;
  let proxy: HttpProxyProcess;
  let port: number;

  before(async () => {
    flaky = await startScripted('flaky');
    primary = await startUpstream(undefined, 'primary');
    shadow = await startUpstream((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        shadowBodies.push(body);
        res.statusCode = 500;
        res.end('shadow says no');
      });
    }, 'shadow');
    shadowHang = await startUpstream((req) => {
      hangSockets.push(req.socket);
      req.socket.on('close', () => hangClosed++);
    }, 'shadowHang');
    wa = await startUpstream(undefined, 'wa');
    wb = await startUpstream(undefined, 'wb');
    blackhole = await startBlackhole();
    closedPort = await freePort();

    const clusters: Array<Record<string, unknown> & { name: string; ports: number[] }> = [];
    const routes: unknown[] = [];
    /** One route and its own cluster (so stats are per scenario) on the scripted upstream. */
    const scenario = (name: string, route: Record<string, unknown>, cluster: Record<string, unknown> = {}, ports = [flaky.port]): void => {
      clusters.push({ name, ports, ...cluster });
      routes.push({ match: { prefix: `/${name}` }, route: { cluster: name, ...route } });
    };
    scenario('connect-timeout', {}, { connect_timeout: '0.25s' }, [blackhole.port]);
    scenario('route-timeout', { timeout: '0.3s' });
    scenario('idle', { timeout: '0s', idle_timeout: '0.4s' });
    scenario('pertry', { timeout: '5s', retry_policy: { retry_on: '5xx', num_retries: 1, per_try_timeout: '0.3s' } });
    scenario('r5xx', { retry_policy: { retry_on: '5xx', num_retries: 2 } });
    scenario('gateway', { retry_policy: { retry_on: 'gateway-error', num_retries: 2 } });
    scenario('reset', { retry_policy: { retry_on: 'reset', num_retries: 1 } });
    scenario('connect-failure', { retry_policy: { retry_on: 'connect-failure', num_retries: 1 } }, {}, [closedPort, flaky.port]);
    scenario('status-codes', { retry_policy: { retry_on: 'retriable-status-codes', retriable_status_codes: [409], num_retries: 1 } });
    scenario('no-policy', {});
    scenario('max-retries', { retry_policy: { retry_on: '5xx', num_retries: 3 } }, { circuit_breakers: { thresholds: [{ max_retries: 1 }] } });
    scenario('slow-body', { timeout: '0.3s' }, { outlier_detection: { consecutive_gateway_failure: 1, enforcing_consecutive_gateway_failure: 100 } });
    scenario('cancel-retry', { retry_policy: { retry_on: '5xx', num_retries: 1 } }, { circuit_breakers: { thresholds: [{ max_retries: 1 }] } });
    scenario('backoff', { retry_policy: { retry_on: '5xx', num_retries: 3, retry_back_off: { base_interval: '0.1s', max_interval: '1s' } } });
    scenario(
      'budget',
      { retry_policy: { retry_on: '5xx', num_retries: 1 } },
      { circuit_breakers: { thresholds: [{ retry_budget: { budget_percent: { value: 10 }, min_retry_concurrency: 1 } }] } },
    );
    clusters.push(
      { name: 'primary', ports: [primary.port] },
      { name: 'shadow', ports: [shadow.port] },
      { name: 'shadow-dead', ports: [closedPort] },
      { name: 'shadow-hang', ports: [shadowHang.port] },
      { name: 'shadow-capped', ports: [shadowHang.port], circuit_breakers: { thresholds: [{ max_requests: 1 }] } },
      { name: 'wa', ports: [wa.port] },
      { name: 'wb', ports: [wb.port] },
    );
    routes.push(
      { match: { prefix: '/mirror-ok' }, route: { cluster: 'primary', request_mirror_policies: [{ cluster: 'shadow' }] } },
      {
        match: { prefix: '/mirror-failing' },
        route: { cluster: 'primary', timeout: '1s', request_mirror_policies: [{ cluster: 'shadow-dead' }, { cluster: 'shadow-hang' }, { cluster: 'shadow' }] },
      },
      { match: { prefix: '/mirror-capped' }, route: { cluster: 'primary', timeout: '1s', request_mirror_policies: [{ cluster: 'shadow-capped' }] } },
      { match: { prefix: '/weighted' }, route: { weighted_clusters: { clusters: [{ name: 'wa', weight: 1 }, { name: 'wb', weight: 3 }] } } },
    );
    proxy = await startHttpProxy({
      listener: {
        routes,
        hcm: {
          stream_idle_timeout: '20s',
          access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }],
        },
      },
      clusters,
    });
    port = proxy.port;
  });

  after(async () => {
    if (process.env['E2E_DEBUG']) console.error(proxy?.output());
    await proxy?.stop();
    for (const res of flaky?.hanging ?? []) res.destroy();
    for (const socket of hangSockets) socket.destroy();
    for (const socket of blackhole?.fillers ?? []) socket.destroy();
    blackhole?.child.kill('SIGKILL');
    await Promise.all([flaky, primary, shadow, shadowHang, wa, wb].map((u) => u?.close()));
  });

  const stat = (cluster: string, name: string): Promise<number> => statValue(proxy, `cluster.${cluster}.${name}`);

  it('connect_timeout: an endpoint that never completes the handshake gives 503 UF after the timeout', async () => {
    const res = await send(port, '/connect-timeout');
    assert.equal(res.status, 503);
    assert.ok(res.elapsedMs >= 200, `answered after ${res.elapsedMs} ms`);
    assert.ok(res.elapsedMs < 5000, `answered after ${res.elapsedMs} ms`);
    assert.match(res.body, /upstream connect error/);
    assert.equal(await stat('connect-timeout', 'upstream_cx_connect_timeout'), 1);
    await waitFor(() => accessLog(proxy).some((e) => e['path'] === '/connect-timeout'), 'access log');
    assert.equal(accessLog(proxy).find((e) => e['path'] === '/connect-timeout')!['response_flags'], 'UF');
  });

  it('route timeout: a slow upstream gives 504 UT', async () => {
    const res = await send(port, '/route-timeout', { 'x-key': nextKey(), 'x-fail': '200@2000' });
    assert.equal(res.status, 504);
    assert.equal(res.body, 'upstream request timeout');
    assert.ok(res.elapsedMs >= 250 && res.elapsedMs < 1900, `answered after ${res.elapsedMs} ms`);
    assert.equal(await stat('route-timeout', 'upstream_rq_timeout'), 1);
    await waitFor(() => accessLog(proxy).some((e) => e['path'] === '/route-timeout'), 'access log');
    assert.equal(accessLog(proxy).find((e) => e['path'] === '/route-timeout')!['response_flags'], 'UT');
  });

  it('regression: a route timeout after the response started is no gateway failure for outlier detection', async () => {
    const started = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/slow-body', headers: { 'x-key': nextKey(), 'x-fail': 'head-hang' }, agent: false }, resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(started.statusCode, 200);
    // The proxy resets the stream at the route timeout: the client sees an aborted response.
    await new Promise<void>((resolve) => {
      started.on('error', () => {});
      started.on('close', resolve);
      started.resume();
    });
    assert.equal(await stat('slow-body', 'upstream_rq_timeout'), 1);
    assert.equal(await stat('slow-body', 'outlier_detection.ejections_detected_consecutive_gateway_failure'), 0);
    // A host that never answered is still blamed.
    assert.equal((await send(port, '/slow-body', { 'x-key': nextKey(), 'x-fail': 'hang' })).status, 504);
    assert.equal(await stat('slow-body', 'outlier_detection.ejections_detected_consecutive_gateway_failure'), 1);
  });

  it('route idle_timeout: a silent upstream times out on the route value, not the HCM one', async () => {
    const res = await send(port, '/idle', { 'x-key': nextKey(), 'x-fail': 'hang' });
    // Envoy answers 504 when the request was complete, 408 otherwise (maybeRequestTimeoutCode).
    assert.equal(res.status, 504);
    assert.ok(res.elapsedMs >= 300 && res.elapsedMs < 5000, `answered after ${res.elapsedMs} ms`);
    await waitFor(() => accessLog(proxy).some((e) => e['path'] === '/idle'), 'access log');
    assert.equal(accessLog(proxy).find((e) => e['path'] === '/idle')!['response_flags'], 'SI');
  });

  it('per_try_timeout: a hanging first try is retried and the second succeeds', async () => {
    const key = nextKey();
    const res = await send(port, '/pertry', { 'x-key': key, 'x-fail': 'hang' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).hits, 2);
    assert.equal(flaky.hits.get(key), 2);
    assert.equal(await stat('pertry', 'upstream_rq_per_try_timeout'), 1);
    assert.equal(await stat('pertry', 'upstream_rq_retry'), 1);
    assert.equal(await stat('pertry', 'upstream_rq_retry_success'), 1);
  });

  it('retry_on 5xx retries any 5xx and respects num_retries', async () => {
    const ok = nextKey();
    const res = await send(port, '/r5xx', { 'x-key': ok, 'x-fail': '500,503' });
    assert.equal(res.status, 200);
    assert.equal(flaky.hits.get(ok), 3);
    const exhausted = nextKey();
    const failed = await send(port, '/r5xx', { 'x-key': exhausted, 'x-fail': '500,500,500,500' });
    assert.equal(failed.status, 500);
    assert.equal(flaky.hits.get(exhausted), 3, '1 try + num_retries 2');
    assert.equal(await stat('r5xx', 'upstream_rq_retry'), 4);
    assert.equal(await stat('r5xx', 'upstream_rq_retry_limit_exceeded'), 1);
    // A 4xx is not a 5xx.
    const notRetried = nextKey();
    assert.equal((await send(port, '/r5xx', { 'x-key': notRetried, 'x-fail': '404' })).status, 404);
    assert.equal(flaky.hits.get(notRetried), 1);
  });

  it('retry_on gateway-error retries 502, 503 and 504 but not 500', async () => {
    for (const status of [502, 503, 504]) {
      const key = nextKey();
      const res = await send(port, '/gateway', { 'x-key': key, 'x-fail': String(status) });
      assert.equal(res.status, 200, `after ${status}`);
      assert.equal(flaky.hits.get(key), 2);
    }
    const key = nextKey();
    assert.equal((await send(port, '/gateway', { 'x-key': key, 'x-fail': '500' })).status, 500);
    assert.equal(flaky.hits.get(key), 1);
  });

  it('retry_on reset retries a connection reset but not a 503 response', async () => {
    const key = nextKey();
    const res = await send(port, '/reset', { 'x-key': key, 'x-fail': 'reset' });
    assert.equal(res.status, 200);
    assert.equal(flaky.hits.get(key), 2);
    const status = nextKey();
    assert.equal((await send(port, '/reset', { 'x-key': status, 'x-fail': '503' })).status, 503);
    assert.equal(flaky.hits.get(status), 1);
    // Without a retry policy a reset is a 503 UC.
    const bare = await send(port, '/no-policy', { 'x-key': nextKey(), 'x-fail': 'reset' });
    assert.equal(bare.status, 503);
  });

  it('retry_on connect-failure moves a request from a closed port to the live endpoint', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await send(port, '/connect-failure', { 'x-key': nextKey() });
      assert.equal(res.status, 200);
    }
    assert.ok((await stat('connect-failure', 'upstream_cx_connect_fail')) >= 1);
    assert.equal(await stat('connect-failure', 'upstream_rq_retry'), await stat('connect-failure', 'upstream_cx_connect_fail'));
  });

  it('retry_on retriable-status-codes retries only the listed codes', async () => {
    const listed = nextKey();
    assert.equal((await send(port, '/status-codes', { 'x-key': listed, 'x-fail': '409' })).status, 200);
    assert.equal(flaky.hits.get(listed), 2);
    const other = nextKey();
    assert.equal((await send(port, '/status-codes', { 'x-key': other, 'x-fail': '418' })).status, 418);
    assert.equal(flaky.hits.get(other), 1);
    const fiveXx = nextKey();
    assert.equal((await send(port, '/status-codes', { 'x-key': fiveXx, 'x-fail': '500' })).status, 500);
    assert.equal(flaky.hits.get(fiveXx), 1);
  });

  it('x-envoy-retry-on and x-envoy-max-retries from an internal request enable retries and are not forwarded', async () => {
    // Envoy's rule: internal = x-forwarded-for holds one internal address (use_remote_address is off here).
    const internal = { 'x-forwarded-for': '10.0.0.7' };
    const plain = nextKey();
    assert.equal((await send(port, '/no-policy', { ...internal, 'x-key': plain, 'x-fail': '500' })).status, 500);
    assert.equal(flaky.hits.get(plain), 1);
    const key = nextKey();
    const res = await curl(['-s', '-H', 'x-forwarded-for: 10.0.0.7', '-H', `x-key: ${key}`, '-H', 'x-fail: 500,502,503', '-H', 'x-envoy-retry-on: 5xx', '-H', 'x-envoy-max-retries: 3', `http://127.0.0.1:${port}/no-policy`]);
    const body = JSON.parse(res.stdout) as { hits: number; headers: Record<string, string> };
    assert.equal(body.hits, 4);
    assert.equal(body.headers['x-envoy-retry-on'], undefined);
    assert.equal(body.headers['x-envoy-max-retries'], undefined);
    const capped = nextKey();
    assert.equal((await send(port, '/no-policy', { ...internal, 'x-key': capped, 'x-fail': '500,500,500', 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '1' })).status, 500);
    assert.equal(flaky.hits.get(capped), 2);
  });

  it('regression: retry headers from an external client (no or public x-forwarded-for) are stripped, not honoured', async () => {
    const cases: Record<string, string>[] = [{}, { 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '10.0.0.7, 203.0.113.9' }];
    for (const xff of cases) {
      const key = nextKey();
      const res = await send(port, '/no-policy', { ...xff, 'x-key': key, 'x-fail': '500,500', 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '5' });
      assert.equal(res.status, 500, JSON.stringify(xff));
      assert.equal(flaky.hits.get(key), 1, JSON.stringify(xff));
      assert.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers['x-envoy-retry-on'], undefined);
    }
  });

  it('x-envoy-upstream-rq-timeout-ms overrides the route timeout for an internal request only, and is never forwarded', async () => {
    const internal = await send(port, '/no-policy', { 'x-forwarded-for': '127.0.0.1', 'x-key': nextKey(), 'x-fail': '200@1500', 'x-envoy-upstream-rq-timeout-ms': '200' });
    assert.equal(internal.status, 504);
    assert.equal(internal.body, 'upstream request timeout');
    assert.ok(internal.elapsedMs < 1400, `answered after ${internal.elapsedMs} ms`);
    const external = await send(port, '/no-policy', { 'x-key': nextKey(), 'x-fail': '200@400', 'x-envoy-upstream-rq-timeout-ms': '100', 'x-envoy-upstream-rq-per-try-timeout-ms': '100' });
    assert.equal(external.status, 200);
    const seen = (JSON.parse(external.body) as { headers: Record<string, string> }).headers;
    assert.equal(seen['x-envoy-upstream-rq-timeout-ms'], undefined);
    assert.equal(seen['x-envoy-upstream-rq-per-try-timeout-ms'], undefined);
  });

  it('x-envoy-upstream-rq-per-try-timeout-ms gives an internal request a per-try timeout its retries use', async () => {
    const key = nextKey();
    const res = await send(port, '/no-policy', { 'x-forwarded-for': '10.0.0.7', 'x-key': key, 'x-fail': 'hang', 'x-envoy-retry-on': '5xx', 'x-envoy-upstream-rq-per-try-timeout-ms': '200' });
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).hits, 2);
  });

  it('circuit_breakers max_retries counts concurrent retries, not the retries of one request', async () => {
    // One request retried twice in sequence holds at most one retry at a time.
    const key = nextKey();
    const res = await send(port, '/max-retries', { 'x-key': key, 'x-fail': '500,500' });
    assert.equal(res.status, 200);
    assert.equal(flaky.hits.get(key), 3);
    assert.equal(await stat('max-retries', 'upstream_rq_retry_overflow'), 0);
    // Two requests failing at once: only one may retry.
    const keys = [nextKey(), nextKey()];
    const both = await Promise.all(keys.map((k) => send(port, '/max-retries', { 'x-key': k, 'x-fail': '500@200,500@200' })));
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 500]);
    assert.equal(await stat('max-retries', 'upstream_rq_retry_overflow'), 1);
  });

  it('regression: a client that leaves while its retry is in flight gives back the retry slot (max_retries)', async () => {
    for (let i = 0; i < 2; i++) {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/cancel-retry', headers: { 'x-key': nextKey(), 'x-fail': '500,hang' }, agent: false });
      req.on('error', () => {});
      req.end();
      await waitFor(async () => (await stat('cancel-retry', 'upstream_rq_retry')) === i + 1, 'retry started');
      req.destroy();
      await waitFor(async () => (await stat('cancel-retry', 'upstream_rq_cancelled')) === i + 1, 'cancelled');
    }
    assert.equal(await stat('cancel-retry', 'circuit_breakers.default.rq_retry_open'), 0);
    const key = nextKey();
    const res = await send(port, '/cancel-retry', { 'x-key': key, 'x-fail': '500' });
    assert.equal(res.status, 200);
    assert.equal(await stat('cancel-retry', 'upstream_rq_retry_overflow'), 0);
  });

  it('back-off: retries with base_interval 100 ms wait between tries (loose lower bound)', async () => {
    const baseline = await send(port, '/no-policy', { 'x-key': nextKey() });
    const replies = await Promise.all(Array.from({ length: 3 }, () => send(port, '/backoff', { 'x-key': nextKey(), 'x-fail': '500,500,500' })));
    for (const res of replies) {
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.body).hits, 4);
      // Three back-offs, each below its ceiling (100, 200, 400 ms), plus generous slack.
      assert.ok(res.elapsedMs < 5000, `took ${res.elapsedMs} ms`);
    }
    // Each back-off is uniform in [0, ceiling): nine of them summing under 100 ms is vanishingly unlikely.
    const total = replies.reduce((sum, r) => sum + r.elapsedMs, 0);
    assert.ok(total >= 100 + 3 * Math.min(baseline.elapsedMs, 50), `total ${total} ms`);
  });

  it('retry budget: with many concurrent failing requests only a few are retried', async () => {
    const n = 20;
    const keys = Array.from({ length: n }, () => nextKey());
    const replies = await Promise.all(keys.map((key) => send(port, '/budget', { 'x-key': key, 'x-fail': '503@300,503@300' })));
    for (const res of replies) assert.equal(res.status, 503);
    const retried = keys.filter((k) => flaky.hits.get(k) === 2).length;
    const overflow = await stat('budget', 'upstream_rq_retry_overflow');
    assert.ok(retried >= 1, 'the budget allows min_retry_concurrency retries');
    assert.ok(retried < n / 2, `${retried} of ${n} retried`);
    assert.ok(overflow >= n / 2, `retry overflow ${overflow}`);
    assert.equal(await stat('budget', 'upstream_rq_retry'), retried);
    assert.equal(retried + overflow, n);
  });

  it('mirroring: the shadow gets the request with host <host>-shadow; the client sees only the primary', async () => {
    const res = await curl(['-s', '-i', '-H', 'Host: svc.example', '--data-binary', 'mirror me', `http://127.0.0.1:${port}/mirror-ok/x`]);
    assert.match(res.stdout, /^HTTP\/1.1 200/);
    assert.match(res.stdout, /x-upstream: primary/i);
    await waitFor(() => shadow.seen.some((s) => s.url === '/mirror-ok/x'), 'shadow request');
    const copy = shadow.seen.find((s) => s.url === '/mirror-ok/x')!;
    assert.equal(copy.method, 'POST');
    assert.equal(copy.headers['host'], 'svc.example-shadow');
    await waitFor(() => shadowBodies.includes('mirror me'), 'shadow body');
    assert.equal(primary.seen.find((s) => s.url === '/mirror-ok/x')!.headers['host'], 'svc.example');
    // With a port, the suffix goes on the host name (Envoy's shadowAppendedHost).
    await send(port, '/mirror-ok/port', { host: 'svc.example:8080' });
    await waitFor(() => shadow.seen.some((s) => s.url === '/mirror-ok/port'), 'shadow request with a port');
    assert.equal(shadow.seen.find((s) => s.url === '/mirror-ok/port')!.headers['host'], 'svc.example-shadow:8080');
  });

  it('mirroring: dead, hanging and failing shadows never affect the client, and a hanging shadow is bounded by the route timeout', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await send(port, `/mirror-failing/${i}`, { host: 'svc.example' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-upstream'], 'primary');
      assert.ok(res.elapsedMs < 900, `took ${res.elapsedMs} ms`);
    }
    await waitFor(() => hangSockets.length >= 1, 'hanging shadow reached');
    assert.ok((await stat('shadow-dead', 'upstream_cx_connect_fail')) >= 1);
    // The shadow request is abandoned at the route timeout (1 s), as Envoy's shadow uses the route's timeout.
    await waitFor(() => hangSockets.length >= 3 && hangClosed === hangSockets.length, 'hanging shadow connections closed', 5000);
  });

  it("regression: shadows respect the shadow cluster's max_requests and give the slot back", async () => {
    const first = await send(port, '/mirror-capped/1');
    const second = await send(port, '/mirror-capped/2');
    assert.deepEqual([first.status, second.status], [200, 200]);
    await waitFor(async () => (await stat('shadow-capped', 'upstream_rq_pending_overflow')) === 1, 'second shadow refused');
    assert.equal(await stat('shadow-capped', 'upstream_rq_total'), 1);
    // The hanging shadow is abandoned at the route timeout (1 s); then the slot is free again.
    await waitFor(async () => (await stat('shadow-capped', 'upstream_rq_active')) === 0, 'shadow slot released', 5000);
    await send(port, '/mirror-capped/3');
    await waitFor(async () => (await stat('shadow-capped', 'upstream_rq_total')) === 2, 'third shadow sent');
  });

  it('weighted clusters split traffic by weight (1:3)', async () => {
    const counts = { wa: 0, wb: 0 } as Record<string, number>;
    for (let i = 0; i < 400; i++) {
      const res = await send(port, '/weighted');
      counts[String(res.headers['x-upstream'])]!++;
    }
    assert.equal(counts['wa']! + counts['wb']!, 400);
    const share = counts['wb']! / 400;
    assert.ok(share > 0.65 && share < 0.85, `wb share ${share}`);
  });
});
