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
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, curl, processAlive, waitFor, WEFT_BIN } from './harness.js';

/** Ports the demo derives from its base: base .. base+PORT_SPAN (samples/demo/bookinfo-plan.ts). */
const PORT_SPAN = 300;
const PAGES = 60;

/** Every process below `pid`, children first. */
function descendants(pid: number): number[] {
  return childPids(pid).flatMap((child) => [child, ...descendants(child)]);
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A base whose whole span is free, below the ephemeral range so port-0 sockets of other tests cannot take it meanwhile. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const base = 20_000 + 100 * Math.floor(Math.random() * 120);
    let free = true;
    for (let port = base; port < base + PORT_SPAN && free; port++) free = await portFree(port);
    if (free) return base;
  }
  throw new Error('no free block of ports for the demo');
}

describe('weft demo (BookInfo)', () => {
  let demo: ChildProcess;
  let output = '';
  let base: number;
  let dataDir: string;

  before(async () => {
    base = await freePortBase();
    dataDir = mkdtempSync(join(tmpdir(), 'weft-demo-'));
    demo = spawn(WEFT_BIN, ['demo', '--port-base', String(base), '--data-dir', dataDir, '--rps', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('Press Ctrl-C to stop.') || demo.exitCode !== null, 'the demo to start', 50_000);
    assert.equal(demo.exitCode, null, `the demo exited early:\n${output}`);
  });

  after(() => {
    // Only if a test failed before the SIGINT test stopped it.
    if (demo.exitCode === null && demo.signalCode === null) {
      for (const pid of [...descendants(demo.pid!), demo.pid!]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints where productpage, the API and every sidecar are', () => {
    assert.ok(output.includes(`http://127.0.0.1:${base + 106}/productpage`), output);
    assert.ok(output.includes(`http://127.0.0.1:${base + 80}`), output);
    for (let i = 0; i < 6; i++) assert.ok(output.includes(`http://127.0.0.1:${base + 100 + 10 * i}/config_dump`), output);
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
    const pids = descendants(demo.pid!);
    assert.ok(pids.length >= 13, `control plane, 6 services and 6 sidecars (and their helpers) run: ${pids.length}`);
    const exited = once(demo, 'exit', { signal: AbortSignal.timeout(30_000) });
    demo.kill('SIGINT');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.deepEqual([code, signal], [0, null], output);
    assert.match(output, /demo stopped/);
    const leftover = pids.filter(processAlive);
    assert.deepEqual(leftover, [], 'no process left behind');
  });
});
