/**
 * `weft demo` end to end: the real demo as a child process (control plane,
 * `weft apply`, six BookInfo services each with a `weft proxy` sidecar, and the
 * ingress gateway). curl, an independent client, goes through the gateway and
 * the sidecars: productpage's reviews must follow mesh.yaml's 50/50
 * TrafficSplit between v2 and v3 (each 30-70% of 60 pages, v1 never), and a
 * service is reachable by name through a sidecar's outbound port. The mesh is
 * STRICT mTLS: openssl sees each sidecar's SPIFFE certificate, plaintext is
 * refused, and calls outside BookInfo's call graph get 403. Then SIGINT
 * (Ctrl-C) must stop every process it started and exit 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { descendants, startDemo, type DemoProcess } from './demo-harness.js';
import { curl, processAlive } from './harness.js';

const PAGES = 60;
const SERVICE_ACCOUNTS = ['bookinfo-productpage', 'bookinfo-details', 'bookinfo-reviews', 'bookinfo-reviews', 'bookinfo-reviews', 'bookinfo-ratings'];

/** The subjectAltName of the certificate a TLS server presents, as openssl prints it. */
function serverCertificateSan(port: number): Promise<string> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName`], { timeout: 10_000 }, (_err, stdout) => resolve(stdout));
  });
}

describe('weft demo (BookInfo)', () => {
  let running: DemoProcess;
  let base: number;
  const output = (): string => running.output();

  before(async () => {
    running = await startDemo(2);
    base = running.base;
  });

  // Kills only what a failed test left running; the SIGINT test stops it otherwise.
  after(() => running?.kill());

  it('prints where productpage, the API and every sidecar are', () => {
    assert.ok(output().includes(`http://127.0.0.1:${base + 280}/productpage`), output());
    assert.ok(output().includes(`http://127.0.0.1:${base + 90}/config_dump`), output());
    assert.ok(output().includes(`http://127.0.0.1:${base + 80}`), output());
    for (let i = 0; i < 6; i++) assert.ok(output().includes(`http://127.0.0.1:${base + 100 + 10 * i}/config_dump`), output());
  });

  it('splits productpage\'s reviews 50/50 between v2 and v3, through the gateway and the sidecars', async () => {
    const servedBy = new Map<string, number>();
    for (let i = 0; i < PAGES; i++) {
      const res = await curl(['-f', `http://127.0.0.1:${base + 280}/productpage`]);
      assert.equal(res.code, 0, res.stderr);
      const unavailable = /Sorry[^<]*|Ratings service is currently unavailable/.exec(res.stdout);
      assert.equal(unavailable, null, `page ${i + 1}: details, reviews and ratings all answered`);
      const instance = /class="served-by">([^<]+)</.exec(res.stdout)?.[1] ?? 'none';
      servedBy.set(instance, (servedBy.get(instance) ?? 0) + 1);
      if (instance === 'reviews-v2') assert.match(res.stdout, /style="color:black" data-stars="5"/);
      if (instance === 'reviews-v3') assert.match(res.stdout, /style="color:red" data-stars="5"/);
    }
    assert.deepEqual([...servedBy.keys()].sort(), ['reviews-v2', 'reviews-v3'], JSON.stringify([...servedBy]));
    for (const version of ['reviews-v2', 'reviews-v3']) {
      const share = servedBy.get(version)! / PAGES;
      assert.ok(share >= 0.3 && share <= 0.7, `${version} served ${servedBy.get(version)} of ${PAGES}`);
    }
  });

  it('routes a call by service name through a sidecar\'s outbound port', async () => {
    // Sidecars in mesh.yaml order: productpage-v1 (base+100), details-v1, reviews-v1, reviews-v2 (base+130), reviews-v3, ratings-v1 (base+150).
    const res = await curl(['-f', '-H', 'Host: ratings:9080', `http://127.0.0.1:${base + 131}/ratings/0`]);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    const details = await curl(['-f', '-H', 'Host: details.default.svc.cluster.local:9080', `http://127.0.0.1:${base + 101}/details/0`]);
    assert.equal(JSON.parse(details.stdout).publisher, 'PublisherA');
  });

  it('gives each sidecar routes only to the services its Workload can reach (reachableServices)', async () => {
    // ratings-v1 calls nothing: its sidecar has no route to details.
    const outside = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: details:9080', `http://127.0.0.1:${base + 151}/details/0`]);
    assert.equal(outside.stdout, '404');
    // reviews-v2 calls ratings only: that is its one outbound cluster.
    const dump = await curl(['-f', `http://127.0.0.1:${base + 130}/clusters`]);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /outbound\|9080\|\|ratings\.default\.svc/);
    assert.doesNotMatch(dump.stdout, /outbound\|9080\|\|(details|reviews|productpage)/);
  });

  it('runs STRICT mTLS: each sidecar presents its SPIFFE certificate and refuses plaintext', async () => {
    for (let i = 0; i < SERVICE_ACCOUNTS.length; i++) {
      const inbound = base + 100 + 10 * i + 6;
      assert.match(await serverCertificateSan(inbound), new RegExp(`URI:spiffe://cluster\\.local/ns/default/sa/${SERVICE_ACCOUNTS[i]}\\b`), `sidecar ${i} (inbound :${inbound})`);
      const plaintext = await curl(['-s', '-m', '5', `http://127.0.0.1:${inbound}/health`]);
      assert.notEqual(plaintext.code, 0, `plaintext to inbound :${inbound} must be refused, got ${plaintext.stdout}`);
    }
  });

  it('allows exactly BookInfo\'s call graph (TrafficTargets): other calls get 403 RBAC: access denied', async () => {
    const call = async (outbound: number, host: string, path: string, method = 'GET'): Promise<string> =>
      (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '-H', `Host: ${host}:9080`, `http://127.0.0.1:${outbound}${path}`])).stdout;
    // productpage's sidecar (outbound base+101) reaches details, reviews and ratings; reviews-v2's (base+131) ratings.
    assert.equal(await call(base + 101, 'details', '/details/0'), '200');
    assert.equal(await call(base + 101, 'reviews', '/reviews/0'), '200');
    assert.equal(await call(base + 101, 'ratings', '/ratings/0'), '200');
    assert.equal(await call(base + 131, 'ratings', '/ratings/0'), '200');
    // Routes no rule names, and methods the rules do not allow.
    assert.equal(await call(base + 101, 'details', '/health'), '403');
    assert.equal(await call(base + 131, 'ratings', '/ratings/0', 'POST'), '403');
    const denied = await curl(['-s', '-H', 'Host: ratings:9080', '-X', 'DELETE', `http://127.0.0.1:${base + 131}/ratings/0`]);
    assert.equal(denied.stdout, 'RBAC: access denied');
    // Through the gateway only productpage's own pages are exposed.
    assert.equal((await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${base + 280}/details/0`])).stdout, '403');
    const stats = await curl(['-sf', `http://127.0.0.1:${base + 150}/stats`]);
    assert.match(stats.stdout, /rbac\.denied: [1-9]/, 'ratings\' sidecar counts its denials');
  });

  it('stops every process it started on Ctrl-C (SIGINT) and exits 0', async () => {
    const demo = running.child;
    const pids = descendants(demo.pid!);
    assert.ok(pids.length >= 14, `control plane, 6 services, 6 sidecars and the gateway (and their helpers) run: ${pids.length}`);
    const exited = once(demo, 'exit', { signal: AbortSignal.timeout(30_000) });
    demo.kill('SIGINT');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.deepEqual([code, signal], [0, null], output());
    assert.match(output(), /demo stopped/);
    const leftover = pids.filter(processAlive);
    assert.deepEqual(leftover, [], 'no process left behind');
  });
});
