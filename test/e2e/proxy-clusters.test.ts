/**
 * Clusters end to end (issue 3, point 4): load-balancing policies with endpoint
 * weights, RING_HASH hash policies, STRICT_DNS, circuit breakers, outlier
 * detection and active health checks, observed through a real `weft proxy`
 * child process, real upstream servers, its stats and its `/clusters` page.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { accessLog, curl, echoHandler, freePort, startHttpProxy, startUpstream, statValue, waitFor, type HttpProxyProcess, type Upstream } from './harness.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (optionally from a given local address). */
function send(port: number, path: string, opts: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: opts.headers, localAddress: opts.localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Endpoints with explicit load_balancing_weight, as a `load_assignment`. */
function weightedAssignment(name: string, endpoints: Array<{ port: number; weight?: number; address?: string }>): Record<string, unknown> {
  return {
    cluster_name: name,
    endpoints: [
      {
        lb_endpoints: endpoints.map(({ port, weight, address }) => ({
          endpoint: { address: { socket_address: { address: address ?? '127.0.0.1', port_value: port } } },
          ...(weight === undefined ? {} : { load_balancing_weight: weight }),
        })),
      },
    ],
  };
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** An upstream that parks every request until `releaseAll()`. */
async function startGate(name: string): Promise<Upstream & { held: ServerResponse[]; releaseAll(): void }> {
  const held: ServerResponse[] = [];
  const upstream = await startUpstream((_req, res) => {
    held.push(res);
  }, name);
  return Object.assign(upstream, {
    held,
    releaseAll() {
      for (const res of held.splice(0)) res.end(name);
    },
  });
}

describe('weft proxy: clusters end to end', () => {
  const upstreams: Upstream[] = [];
  let up: Record<string, Upstream>;
  let gateCx: Awaited<ReturnType<typeof startGate>>;
  let gateRq: Awaited<ReturnType<typeof startGate>>;
  let sickStatus = 503;
  let closedPort: number;
  let proxy: HttpProxyProcess;
  let port: number;

  before(async () => {
    const names = ['rr1', 'rr2', 'lrSlow', 'lrFast', 'h1', 'h2', 'h3', 'rand1', 'rand2', 'dns', 'odBad', 'odGood', 'hcOk', 'hcSick', 'tcpLive'];
    up = {};
    for (const name of names) {
      let handler = echoHandler(name);
      if (name === 'lrSlow') handler = (req, res) => setTimeout(() => echoHandler(name)(req, res), 150);
      if (name === 'odBad') {
        handler = (_req, res) => {
          res.statusCode = 500;
          res.setHeader('x-upstream', name);
          res.end('broken');
        };
      }
      if (name === 'hcOk' || name === 'hcSick') {
        handler = (req, res) => {
          if (req.url === '/healthz') {
            res.statusCode = name === 'hcSick' ? sickStatus : 200;
            res.end();
            return;
          }
          echoHandler(name)(req, res);
        };
      }
      up[name] = await startUpstream(handler, name);
      upstreams.push(up[name]!);
    }
    gateCx = await startGate('gateCx');
    gateRq = await startGate('gateRq');
    upstreams.push(gateCx, gateRq);
    closedPort = await freePort();
    const p = (name: string): number => up[name]!.port;
    const route = (prefix: string, cluster: string, extra: Record<string, unknown> = {}): unknown => ({ match: { prefix }, route: { cluster, ...extra } });
    proxy = await startHttpProxy({
      listener: {
        hcm: {
          access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }],
        },
        routes: [
          route('/rr', 'rr'),
          route('/lr', 'lr'),
          route('/hash/header', 'ring', { hash_policy: [{ header: { header_name: 'x-user' } }] }),
          route('/hash/cookie', 'ring', { hash_policy: [{ cookie: { name: 'session' } }] }),
          route('/hash/ip', 'ring', { hash_policy: [{ connection_properties: { source_ip: true } }] }),
          route('/random', 'random'),
          route('/dns', 'dns'),
          route('/cb/cx', 'cbcx'),
          route('/cb/rq', 'cbrq'),
          route('/od', 'od'),
          route('/hc/http', 'hchttp'),
          route('/hc/tcp', 'hctcp'),
        ],
      },
      clusters: [
        { name: 'rr', ports: [], lb_policy: 'ROUND_ROBIN', load_assignment: weightedAssignment('rr', [{ port: p('rr1'), weight: 1 }, { port: p('rr2'), weight: 2 }]) },
        { name: 'lr', ports: [p('lrSlow'), p('lrFast')], lb_policy: 'LEAST_REQUEST' },
        { name: 'ring', ports: [p('h1'), p('h2'), p('h3')], lb_policy: 'RING_HASH' },
        { name: 'random', ports: [p('rand1'), p('rand2')], lb_policy: 'RANDOM' },
        {
          name: 'dns',
          ports: [],
          type: 'STRICT_DNS',
          dns_lookup_family: 'V4_ONLY',
          dns_refresh_rate: '1s',
          load_assignment: weightedAssignment('dns', [{ address: 'localhost', port: p('dns') }]),
        },
        {
          name: 'cbcx',
          ports: [gateCx.port],
          circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 1 }] },
        },
        {
          name: 'cbrq',
          ports: [gateRq.port],
          circuit_breakers: { thresholds: [{ max_requests: 1 }] },
        },
        {
          name: 'od',
          ports: [p('odBad'), p('odGood')],
          outlier_detection: { consecutive_5xx: 3, interval: '0.2s', base_ejection_time: '1s', max_ejection_percent: 50 },
        },
        {
          name: 'hchttp',
          ports: [p('hcOk'), p('hcSick')],
          health_checks: [{ timeout: '1s', interval: '0.2s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/healthz' } }],
        },
        {
          name: 'hctcp',
          ports: [p('tcpLive'), closedPort],
          health_checks: [{ timeout: '1s', interval: '0.2s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {} }],
        },
      ],
    });
    port = proxy.port;
  });

  after(async () => {
    gateCx?.releaseAll();
    gateRq?.releaseAll();
    if (process.env["E2E_DEBUG"]) console.error(proxy?.output());
    await proxy?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('ROUND_ROBIN honours endpoint weights 1:2 over 300 requests', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await send(port, `/rr/${i}`);
      assert.equal(res.status, 200);
      seen.push(String(res.headers['x-upstream']));
    }
    const counts = countBy(seen);
    // Smooth weighted round robin is exact; allow a little slack for the order it starts in.
    assert.ok(Math.abs((counts.get('rr1') ?? 0) - 100) <= 3, `rr1 got ${counts.get('rr1')}`);
    assert.ok(Math.abs((counts.get('rr2') ?? 0) - 200) <= 3, `rr2 got ${counts.get('rr2')}`);
    // Interleaved rather than in bursts: never three rr2 in a row.
    assert.doesNotMatch(seen.map((s) => (s === 'rr1' ? 'a' : 'b')).join(''), /bbb/);
  });

  it('LEAST_REQUEST sends fewer requests to a slow endpoint under concurrency', async () => {
    const workers = 8;
    const perWorker = 15;
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; i < perWorker; i++) {
          const res = await send(port, `/lr/${w}/${i}`);
          assert.equal(res.status, 200);
          seen.push(String(res.headers['x-upstream']));
        }
      }),
    );
    const slow = countBy(seen).get('lrSlow') ?? 0;
    const fast = countBy(seen).get('lrFast') ?? 0;
    assert.equal(slow + fast, workers * perWorker);
    // Round robin would give each half; two choices by active requests favour the fast one.
    assert.ok(slow < 0.4 * (slow + fast), `slow ${slow}, fast ${fast}`);
    assert.ok(fast > slow, `slow ${slow}, fast ${fast}`);
  });

  it('RING_HASH by header: the same key sticks to one upstream, different keys spread', async () => {
    const owner = new Map<string, string>();
    for (let u = 0; u < 24; u++) {
      for (let i = 0; i < 3; i++) {
        const res = await send(port, '/hash/header', { headers: { 'x-user': `user-${u}` } });
        assert.equal(res.status, 200);
        const got = String(res.headers['x-upstream']);
        if (i === 0) owner.set(`user-${u}`, got);
        else assert.equal(got, owner.get(`user-${u}`), `user-${u} moved`);
      }
    }
    assert.ok(new Set(owner.values()).size >= 2, `all keys on ${[...new Set(owner.values())]}`);
  });

  it('RING_HASH by cookie: the same cookie sticks, different cookies spread (curl as client)', async () => {
    const owner = new Map<string, string>();
    for (let u = 0; u < 24; u++) {
      for (let i = 0; i < 3; i++) {
        const res = await curl(['-s', '-o', '/dev/null', '-D', '-', '-b', `theme=dark; session=s${u}`, `http://127.0.0.1:${port}/hash/cookie`]);
        assert.equal(res.code, 0, res.stderr);
        const got = /x-upstream: (\w+)/i.exec(res.stdout)?.[1] ?? '';
        assert.ok(got !== '', res.stdout);
        if (i === 0) owner.set(`s${u}`, got);
        else assert.equal(got, owner.get(`s${u}`), `cookie s${u} moved`);
      }
    }
    assert.ok(new Set(owner.values()).size >= 2);
  });

  it('RING_HASH by source IP: each client address sticks, several addresses spread', async () => {
    const owner = new Map<string, string>();
    for (let a = 1; a <= 24; a++) {
      const localAddress = `127.0.0.${a + 10}`;
      for (let i = 0; i < 3; i++) {
        const res = await send(port, '/hash/ip', { localAddress });
        assert.equal(res.status, 200);
        const got = String(res.headers['x-upstream']);
        if (i === 0) owner.set(localAddress, got);
        else assert.equal(got, owner.get(localAddress), `${localAddress} moved`);
      }
    }
    assert.ok(new Set(owner.values()).size >= 2);
  });

  it('RANDOM sends traffic to both endpoints', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 60; i++) seen.push(String((await send(port, '/random')).headers['x-upstream']));
    const counts = countBy(seen);
    assert.ok((counts.get('rand1') ?? 0) >= 5 && (counts.get('rand2') ?? 0) >= 5, JSON.stringify([...counts]));
  });

  it('STRICT_DNS resolves localhost and shows the host on /clusters', async () => {
    await waitFor(async () => (await statValue(proxy, 'cluster.dns.membership_healthy')) === 1, 'dns cluster has a healthy host');
    const res = await send(port, '/dns/x');
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-upstream'], 'dns');
    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, new RegExp(`^dns::127\\.0\\.0\\.1:${up['dns']!.port}::hostname::localhost$`, 'm'));
    assert.ok((await statValue(proxy, 'cluster.dns.update_success')) >= 1);
  });

  it('max_connections and max_pending_requests overflow give 503 UO with overflow stats', async () => {
    const first = send(port, '/cb/cx/1');
    await waitFor(() => gateCx.held.length === 1, 'first request at the upstream');
    const second = send(port, '/cb/cx/2');
    await waitFor(async () => (await statValue(proxy, 'cluster.cbcx.upstream_rq_pending_active')) === 1, 'second request pending');
    assert.equal(await statValue(proxy, 'cluster.cbcx.upstream_cx_overflow'), 1);
    assert.equal(await statValue(proxy, 'cluster.cbcx.circuit_breakers.default.cx_open'), 1);
    assert.equal(await statValue(proxy, 'cluster.cbcx.circuit_breakers.default.rq_pending_open'), 1);

    const third = await send(port, '/cb/cx/3');
    assert.equal(third.status, 503);
    assert.match(third.body, /overflow/);
    assert.equal(third.headers['x-envoy-overloaded'], 'true');
    assert.equal(await statValue(proxy, 'cluster.cbcx.upstream_rq_pending_overflow'), 1);
    await waitFor(() => accessLog(proxy).some((e) => e['path'] === '/cb/cx/3'), 'access log line');
    const entry = accessLog(proxy).find((e) => e['path'] === '/cb/cx/3')!;
    assert.equal(entry['response_flags'], 'UO');
    assert.equal(entry['response_code'], 503);

    // Releasing the first lets the pending one through on the same single connection.
    gateCx.releaseAll();
    assert.equal((await first).status, 200);
    await waitFor(() => gateCx.held.length === 1, 'second request at the upstream');
    gateCx.releaseAll();
    assert.equal((await second).status, 200);
    assert.equal(gateCx.seen.length, 2, 'the overflowed request never reached the upstream');
    assert.equal(await statValue(proxy, 'cluster.cbcx.upstream_cx_total'), 1);
  });

  it('max_requests overflow gives 503 UO without reaching the upstream', async () => {
    const first = send(port, '/cb/rq/1');
    await waitFor(() => gateRq.held.length === 1, 'first request at the upstream');
    assert.equal(await statValue(proxy, 'cluster.cbrq.circuit_breakers.default.rq_open'), 1);
    const second = await send(port, '/cb/rq/2');
    assert.equal(second.status, 503);
    assert.equal(second.headers['x-envoy-overloaded'], 'true');
    assert.equal(await statValue(proxy, 'cluster.cbrq.upstream_rq_pending_overflow'), 1);
    gateRq.releaseAll();
    assert.equal((await first).status, 200);
    assert.equal(gateRq.seen.length, 1);
    // Once the active request ended, a new one is admitted.
    const third = send(port, '/cb/rq/3');
    await waitFor(() => gateRq.held.length === 1, 'third request at the upstream');
    gateRq.releaseAll();
    assert.equal((await third).status, 200);
  });

  it('outlier detection ejects an endpoint after consecutive 5xx and brings it back after base_ejection_time', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await send(port, '/od')).status);
    assert.equal(statuses.filter((s) => s === 500).length, 3, String(statuses));
    assert.equal(await statValue(proxy, 'cluster.od.outlier_detection.ejections_enforced_total'), 1);
    assert.equal(await statValue(proxy, 'cluster.od.outlier_detection.ejections_enforced_consecutive_5xx'), 1);
    assert.equal(await statValue(proxy, 'cluster.od.outlier_detection.ejections_active'), 1);
    assert.equal(await statValue(proxy, 'cluster.od.membership_healthy'), 1);
    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, new RegExp(`^od::127\\.0\\.0\\.1:${up['odBad']!.port}::health_flags::(?!healthy).+$`, 'm'));

    const badHits = up['odBad']!.seen.length;
    for (let i = 0; i < 10; i++) assert.equal((await send(port, '/od')).status, 200);
    assert.equal(up['odBad']!.seen.length, badHits, 'the ejected endpoint got traffic');

    await waitFor(async () => (await statValue(proxy, 'cluster.od.outlier_detection.ejections_active')) === 0, 'the ejected endpoint returns', 8000);
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await send(port, '/od')).status);
    assert.ok(after.includes(500), `back in rotation: ${after}`);
    assert.ok(up['odBad']!.seen.length > badHits);
  });

  it('HTTP health checks keep traffic away from an endpoint whose /healthz answers 503, and let it back when it recovers', async () => {
    await waitFor(async () => (await statValue(proxy, 'cluster.hchttp.membership_healthy')) === 1, 'one healthy host');
    assert.ok((await statValue(proxy, 'cluster.hchttp.health_check.failure')) >= 1);
    for (let i = 0; i < 10; i++) {
      const res = await send(port, `/hc/http/${i}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-upstream'], 'hcOk');
    }
    assert.deepEqual(
      up['hcSick']!.seen.filter((s) => s.url !== '/healthz'),
      [],
      'the failing endpoint got traffic',
    );
    assert.ok(up['hcSick']!.seen.some((s) => s.url === '/healthz' && s.headers['user-agent'] !== undefined));
    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, new RegExp(`^hchttp::127\\.0\\.0\\.1:${up['hcSick']!.port}::health_flags::(?!healthy).+$`, 'm'));
    assert.match(clusters, new RegExp(`^hchttp::127\\.0\\.0\\.1:${up['hcOk']!.port}::health_flags::healthy$`, 'm'));

    sickStatus = 200;
    await waitFor(async () => (await statValue(proxy, 'cluster.hchttp.membership_healthy')) === 2, 'both healthy');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(String((await send(port, '/hc/http/again')).headers['x-upstream']));
    assert.ok(seen.includes('hcSick'), String(seen));
  });

  it('TCP health checks mark a closed port unhealthy; traffic goes to the live endpoint', async () => {
    await waitFor(async () => (await statValue(proxy, 'cluster.hctcp.membership_healthy')) === 1, 'one healthy host');
    assert.equal(await statValue(proxy, 'cluster.hctcp.membership_total'), 2);
    for (let i = 0; i < 8; i++) {
      const res = await send(port, '/hc/tcp');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-upstream'], 'tcpLive');
    }
    assert.ok((await statValue(proxy, 'cluster.hctcp.health_check.network_failure')) >= 1);
    assert.equal(await statValue(proxy, 'cluster.hctcp.upstream_cx_connect_fail'), 0, 'no request tried the closed port');
    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, new RegExp(`^hctcp::127\\.0\\.0\\.1:${closedPort}::health_flags::(?!healthy).+$`, 'm'));
  });

  it('/clusters lists every cluster with its hosts, weights and circuit breaker limits', async () => {
    const text = await (await proxy.admin('/clusters')).text();
    assert.match(text, new RegExp(`^rr::127\\.0\\.0\\.1:${up['rr2']!.port}::weight::2$`, 'm'));
    assert.match(text, /^cbcx::default_priority::max_connections::1$/m);
    assert.match(text, /^cbcx::default_priority::max_pending_requests::1$/m);
    assert.match(text, /^cbrq::default_priority::max_requests::1$/m);
    for (const name of ['h1', 'h2', 'h3']) assert.match(text, new RegExp(`^ring::127\\.0\\.0\\.1:${up[name]!.port}::rq_active::0$`, 'm'));
    const json = (await (await proxy.admin('/clusters?format=json')).json()) as unknown;
    assert.match(JSON.stringify(json), /"ring"/);
  });
});
