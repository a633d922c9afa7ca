/**
 * The proxy's lifecycle as a real process: config reload (file change, SIGHUP,
 * rejected configs, listener moves) with in-flight requests finishing on the old
 * config, SIGTERM drain, the admin lifecycle endpoints, and `--concurrency 2`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  buildBootstrap,
  childPids,
  curl,
  echoHandler,
  freePort,
  probeConnect,
  processAlive,
  socketOwners,
  startProxy,
  startUpstream,
  statValue,
  waitFor,
  type ProxyProcess,
  type Upstream,
  WEFT_BIN,
} from './harness.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An upstream that answers like echoHandler after `ms`. */
function slowUpstream(name: string, ms: number): Promise<Upstream> {
  return startUpstream((req, res) => void setTimeout(() => echoHandler(name)(req, res), ms), name);
}

/** GET through curl: status and the upstream that answered (from the echo body), or '' for a local reply. */
async function get(port: number, path: string, extra: string[] = []): Promise<{ status: number; upstream: string; curlCode: number }> {
  const res = await curl(['--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...extra, `http://127.0.0.1:${port}${path}`]);
  const lines = res.stdout.split('\n');
  const status = Number(lines.pop());
  let upstream = '';
  try {
    upstream = (JSON.parse(lines.join('\n')) as { upstream: string }).upstream;
  } catch {
    // local reply
  }
  return { status, upstream, curlCode: res.code };
}

function config(adminPort: number, port: number, routes: unknown[], clusters: Array<{ name: string; ports: number[]; [k: string]: unknown }>): Record<string, unknown> {
  return buildBootstrap({ adminPort, listener: { port, routes }, clusters });
}

describe('weft proxy lifecycle: reload', () => {
  let a: Upstream;
  let b: Upstream;
  let proxy: ProxyProcess;
  let adminPort: number;
  let port: number;
  let stderr = '';
  const toA = [{ match: { prefix: '/' }, route: { cluster: 'a' } }];
  const toB = [{ match: { prefix: '/' }, route: { cluster: 'b' } }];

  before(async () => {
    a = await slowUpstream('a', 1000);
    b = await startUpstream(undefined, 'b');
    adminPort = await freePort();
    port = await freePort();
    proxy = await startProxy(config(adminPort, port, toA, [{ name: 'a', ports: [a.port] }]));
    proxy.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  });

  after(async () => {
    await proxy.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it('swaps to a rewritten bootstrap atomically while an in-flight request finishes on the old config', async () => {
    const inflight = get(port, '/slow');
    await waitFor(() => a.seen.some((s) => s.url === '/slow'), 'the slow request to reach upstream a');
    // The new config drops cluster a entirely and routes everything to b.
    await proxy.rewrite(config(adminPort, port, [{ match: { prefix: '/new' }, route: { cluster: 'b' } }, ...toB], [{ name: 'b', ports: [b.port] }]));
    assert.match(proxy.output(), /config reloaded/);
    const fresh = await get(port, '/new/thing');
    assert.deepEqual([fresh.status, fresh.upstream], [200, 'b']);
    const old = await inflight;
    assert.deepEqual([old.status, old.upstream], [200, 'a'], 'the request started before the reload gets the old config\'s upstream');
    assert.equal(await statValue(proxy, 'server.config_reload_success'), 1);
  });

  it('refuses an invalid config (unknown field, bad duration), keeps serving, reports it, then applies a later valid one', async () => {
    const unknownField = config(adminPort, port, toB, [{ name: 'b', ports: [b.port], surprise_field: 1 }]);
    await proxy.rewrite(unknownField);
    assert.match(stderr, /config rejected/);
    assert.match(stderr, /static_resources\.clusters\[0\]\.surprise_field/);
    let dump = (await (await proxy.admin('/config_dump')).json()) as { configs: Array<Record<string, unknown>> };
    const rejected = dump.configs.find((c) => c['@type'] === 'type.weft.dev/weft.admin.v1.RejectedConfig') as { error_state: { details: string; last_update_attempt: string } } | undefined;
    assert.ok(rejected, 'the rejected config shows on /config_dump');
    assert.match(rejected.error_state.details, /static_resources\.clusters\[0\]\.surprise_field/);
    assert.ok(!Number.isNaN(Date.parse(rejected.error_state.last_update_attempt)));
    // The running config (b only) is still the dumped bootstrap and still serves.
    const bootstrap = dump.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump') as { bootstrap: { static_resources: { clusters: Array<{ name: string }> } } };
    assert.deepEqual(bootstrap.bootstrap.static_resources.clusters.map((c) => c.name), ['b']);
    assert.equal((await get(port, '/x')).upstream, 'b');

    const badDuration = config(adminPort, port, toB, [{ name: 'b', ports: [b.port], connect_timeout: '250ms' }]);
    await proxy.rewrite(badDuration);
    assert.match(stderr, /static_resources\.clusters\[0\]\.connect_timeout/);
    dump = (await (await proxy.admin('/config_dump')).json()) as { configs: Array<Record<string, unknown>> };
    const second = dump.configs.find((c) => c['@type'] === 'type.weft.dev/weft.admin.v1.RejectedConfig') as { error_state: { details: string } };
    assert.match(second.error_state.details, /connect_timeout/);
    assert.equal((await get(port, '/x')).upstream, 'b');
    assert.ok((await statValue(proxy, 'server.config_reload_rejected')) >= 2);

    // A valid config then applies and clears the error.
    const valid = config(adminPort, port, [{ match: { prefix: '/' }, route: { cluster: 'b2' } }], [{ name: 'b2', ports: [b.port] }]);
    await proxy.rewrite(valid);
    const res = await get(port, '/after-valid');
    assert.deepEqual([res.status, res.upstream], [200, 'b']);
    dump = (await (await proxy.admin('/config_dump')).json()) as { configs: Array<Record<string, unknown>> };
    assert.equal(dump.configs.find((c) => c['@type'] === 'type.weft.dev/weft.admin.v1.RejectedConfig'), undefined);
    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, /^b2::/m);
  });

  it('moves the listener when a reload changes its port', async () => {
    const newPort = await freePort();
    await proxy.rewrite(config(adminPort, newPort, toB, [{ name: 'b', ports: [b.port] }]));
    assert.match(proxy.output(), /config reloaded/);
    const res = await get(newPort, '/moved');
    assert.deepEqual([res.status, res.upstream], [200, 'b']);
    await waitFor(async () => (await probeConnect(port)) === 'refused', 'the old port to stop accepting');
    port = newPort;
  });

  it('reloads on SIGHUP (the file change itself is not watched through a symlink target)', async () => {
    // Make the config path a symlink into another directory: writes to the target are invisible to the watcher.
    const targetDir = mkdtempSync(join(tmpdir(), 'weft-e2e-target-'));
    const target = join(targetDir, 'real.yaml');
    const current = config(adminPort, port, toB, [{ name: 'b', ports: [b.port] }]);
    writeFileSync(target, stringify(current));
    const link = `${proxy.configPath}.link`;
    symlinkSync(target, link);
    renameSync(link, proxy.configPath);
    await delay(400); // the watcher's reload of identical content is a no-op
    const before = (proxy.output().match(/config reloaded/g) ?? []).length;
    writeFileSync(target, stringify(config(adminPort, port, [{ match: { prefix: '/' }, direct_response: { status: 299, body: { inline_string: 'hup' } } }], [{ name: 'b', ports: [b.port] }])));
    await delay(500);
    assert.equal((await get(port, '/')).status, 200, 'no reload without SIGHUP');
    proxy.child.kill('SIGHUP');
    await waitFor(() => (proxy.output().match(/config reloaded/g) ?? []).length > before, 'a reload after SIGHUP');
    assert.equal((await get(port, '/')).status, 299);
  });
});

describe('weft proxy lifecycle: SIGTERM drain', () => {
  let slow: Upstream;

  before(async () => {
    slow = await slowUpstream('slow', 1000);
  });

  after(async () => {
    await slow.close();
  });

  it('stops accepting, lets the in-flight request finish with 200, and exits 0', async () => {
    const port = await freePort();
    const proxy = await startProxy(config(await freePort(), port, [{ match: { prefix: '/' }, route: { cluster: 'slow' } }], [{ name: 'slow', ports: [slow.port] }]));
    try {
      const inflight = get(port, '/drain-me');
      await waitFor(() => slow.seen.some((s) => s.url === '/drain-me'), 'the request to reach the upstream');
      const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
      proxy.child.kill('SIGTERM');
      await waitFor(async () => (await probeConnect(port)) === 'refused', 'the listener to close', 900);
      assert.equal(proxy.child.exitCode, null, 'still running while the request is in flight');
      const res = await inflight;
      assert.deepEqual([res.status, res.upstream], [200, 'slow']);
      assert.equal(await exited, 0);
      assert.match(proxy.output(), /draining/);
    } finally {
      await proxy.stop();
    }
  });

  it('enforces --drain-timeout: a request slower than it is cut off and the process still exits 0', async () => {
    const hanging = await startUpstream(() => undefined, 'hanging'); // never answers
    const port = await freePort();
    const proxy = await startProxy(config(await freePort(), port, [{ match: { prefix: '/' }, route: { cluster: 'hanging', timeout: '0s' } }], [{ name: 'hanging', ports: [hanging.port] }]), [
      '--concurrency',
      '1',
      '--drain-timeout',
      '1',
    ]);
    try {
      const inflight = get(port, '/forever');
      await waitFor(() => hanging.seen.length === 1, 'the request to reach the upstream');
      const started = Date.now();
      const code = await proxy.stop('SIGTERM');
      const took = Date.now() - started;
      assert.equal(code, 0);
      assert.ok(took >= 900 && took < 5000, `exited ${took} ms after SIGTERM`);
      const res = await inflight;
      assert.notEqual(res.status, 200, 'the cut-off request did not get a 200');
    } finally {
      await proxy.stop();
      await hanging.close();
    }
  });

  it('POST /drain_listeners stops accepting, POST /quitquitquit exits 0, GET on either is 405', async () => {
    const port = await freePort();
    const proxy = await startProxy(config(await freePort(), port, [{ match: { prefix: '/' }, route: { cluster: 'slow' } }], [{ name: 'slow', ports: [slow.port] }]));
    try {
      for (const path of ['/drain_listeners', '/quitquitquit']) {
        const res = await proxy.admin(path);
        assert.equal(res.status, 405, path);
        await res.text();
      }
      assert.equal(await probeConnect(port), 'accepted');
      const drained = await proxy.admin('/drain_listeners', { method: 'POST' });
      assert.equal(drained.status, 200);
      await drained.text();
      assert.equal(await probeConnect(port), 'refused');
      assert.equal((await proxy.admin('/ready')).status >= 200, true, 'admin keeps answering after a listener drain');
      const exited = new Promise<number | null>((resolve) => proxy.child.once('exit', (code) => resolve(code)));
      const quit = await proxy.admin('/quitquitquit', { method: 'POST' });
      assert.equal(quit.status, 200);
      await quit.text();
      assert.equal(await exited, 0);
    } finally {
      await proxy.stop();
    }
  });
});

describe('weft proxy lifecycle: --concurrency 2', () => {
  let upstream: Upstream;

  before(async () => {
    upstream = await startUpstream((req, res) => void setTimeout(() => echoHandler('u')(req, res), 50), 'u');
  });

  after(async () => {
    await upstream.close();
  });

  it('serves one listener from two workers, aggregates their stats on the primary, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const proxy = await startProxy(config(await freePort(), port, [{ match: { prefix: '/' }, route: { cluster: 'u' } }], [{ name: 'u', ports: [upstream.port] }]), ['--concurrency', '2', '--drain-timeout', '2']);
    const workers = await waitFor(() => {
      const pids = childPids(proxy.child.pid!);
      return pids.length === 2 ? pids : undefined;
    }, 'two worker processes');
    try {
      // Hold many connections open at once until both workers have accepted some.
      const net = await import('node:net');
      const held: Array<import('node:net').Socket> = [];
      let owners = new Set<number>();
      for (let round = 0; round < 10 && owners.size < 2; round++) {
        for (let i = 0; i < 20; i++) {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('error', () => undefined);
          held.push(socket);
        }
        await delay(200);
        owners = socketOwners(workers, port);
      }
      for (const socket of held) socket.destroy();
      assert.equal(owners.size, 2, `both workers accept on the shared listener (owners: ${[...owners].join(',')})`);

      const requests = 30;
      const results = await Promise.all(Array.from({ length: requests }, (_, i) => get(port, `/r${i}`)));
      assert.ok(results.every((r) => r.status === 200 && r.upstream === 'u'), JSON.stringify(results));
      // Workers push stats every second: poll the primary's merged view.
      await waitFor(async () => (await statValue(proxy, 'http.ingress.downstream_rq_total')) === requests, `downstream_rq_total == ${requests}`);
      assert.equal(await statValue(proxy, 'cluster.u.upstream_rq_total'), requests);

      const code = await proxy.stop('SIGTERM');
      assert.equal(code, 0);
      await waitFor(() => workers.every((pid) => !processAlive(pid)), 'the workers to exit', 5000);
    } finally {
      await proxy.stop();
      for (const pid of workers) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  it('exits 1 with the listener and the reason when a worker cannot bind, instead of starting new workers forever', async () => {
    // The listener's port is taken by an upstream: every worker fails to bind it.
    const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-'));
    const configPath = join(dir, 'bootstrap.yaml');
    writeFileSync(configPath, stringify(config(await freePort(), upstream.port, [{ match: { prefix: '/' }, route: { cluster: 'u' } }], [{ name: 'u', ports: [upstream.port] }])));
    const child = spawn(WEFT_BIN, ['proxy', '--config', configPath, '--concurrency', '2', '--drain-timeout', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(timer);
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`weft: listener http: cannot listen on 127\\.0\\.0\\.1:${upstream.port}: .*EADDRINUSE`));
    assert.match(output, /worker failed to start; stopping/);
    assert.doesNotMatch(output, /starting a new one|Unhandled 'error' event/);
  });
});

