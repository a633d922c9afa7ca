/**
 * `weft demo` end to end: the real demo as a child process (control plane,
 * `weft apply`, six BookInfo services each with a `weft proxy` sidecar). curl,
 * an independent client, goes through the sidecars: productpage's reviews must
 * follow mesh.yaml's 50/50 TrafficSplit between v2 and v3 (each 30-70% of 60
 * pages, v1 never), and a service is reachable by name through a sidecar's
 * outbound port. Then SIGINT (Ctrl-C) must stop every process it started and
 * exit 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { descendants, startDemo, type DemoProcess } from './demo-harness.js';
import { curl, processAlive } from './harness.js';

const PAGES = 60;

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
    assert.ok(output().includes(`http://127.0.0.1:${base + 106}/productpage`), output());
    assert.ok(output().includes(`http://127.0.0.1:${base + 80}`), output());
    for (let i = 0; i < 6; i++) assert.ok(output().includes(`http://127.0.0.1:${base + 100 + 10 * i}/config_dump`), output());
  });

  it('splits productpage\'s reviews 50/50 between v2 and v3, through the sidecars', async () => {
    const servedBy = new Map<string, number>();
    for (let i = 0; i < PAGES; i++) {
      const res = await curl(['-f', `http://127.0.0.1:${base + 106}/productpage`]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(!res.stdout.includes('currently unavailable'), 'details, reviews and ratings all answered');
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

  it('stops every process it started on Ctrl-C (SIGINT) and exits 0', async () => {
    const demo = running.child;
    const pids = descendants(demo.pid!);
    assert.ok(pids.length >= 13, `control plane, 6 services and 6 sidecars (and their helpers) run: ${pids.length}`);
    const exited = once(demo, 'exit', { signal: AbortSignal.timeout(30_000) });
    demo.kill('SIGINT');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.deepEqual([code, signal], [0, null], output());
    assert.match(output(), /demo stopped/);
    const leftover = pids.filter(processAlive);
    assert.deepEqual(leftover, [], 'no process left behind');
  });
});
