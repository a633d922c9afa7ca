import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/lib/free-ports.js';

const ECHO = fileURLToPath(new URL('../../samples/echo/server.js', import.meta.url));
const WEFT = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));


function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WEFT, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('weft perf study', () => {
  let echo: ChildProcess;
  let port: number;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-study-test-'));
    port = await freePort();
    echo = spawn(process.execPath, [ECHO, '--port', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
  });
  after(async () => {
    echo.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('measures off-mesh, the bare mesh and each function through real sidecars, switching each off after its run', { timeout: 300_000 }, async () => {
    const out = join(dir, 'study.json');
    const result = await run([
      'perf', 'study', '--url', `http://127.0.0.1:${port}/items`, '--rate', '50', '--duration', '1s', '--warmup', '500ms', '--connections', '4',
      '--functions', 'accesslog,ratelimit', '--work-dir', join(dir, 'work'), '-o', out,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const rows = new Map(result.stdout.split('\n').slice(1).filter((l) => /^\S/.test(l) && !l.startsWith('MeshMark')).map((l) => [l.split(/\s+/)[0]!, l.split(/\s{2,}/)]));
    assert.deepEqual([...rows.keys()], ['off-mesh', 'none', 'accesslog', 'ratelimit']);
    for (const name of ['off-mesh', 'none', 'accesslog', 'ratelimit']) {
      const [, qps, p50, p99, , , , errors] = rows.get(name)!;
      assert.ok(Math.abs(Number(qps) - 50) <= 1, `${name}: ${qps} rps`);
      assert.ok(Number(p50) > 0 && Number(p99) >= Number(p50), `${name}: p50 ${p50} p99 ${p99}`);
      assert.equal(errors, '0', `${name}: errors`);
    }
    assert.match(result.stdout, /^MeshMark \d+(\.\d)? \/ 100 \(bare mesh vs off-mesh\)$/m);
    assert.match(result.stdout, /^ {2}cpu: MUE off-mesh \d\.\d{4}, mesh \d\.\d{4}; efficiency \d+\.\d{3}/m);

    const json = JSON.parse(await readFile(out, 'utf8'));
    const none = json.runs.find((r: { name: string }) => r.name === 'none');
    assert.equal(none.smp.performance_test_result.actual_QPS > 0, true);
    assert.equal(none.smp.performance_test_config.labels['weft.dev/function'], 'none');
    assert.ok(none.proxies.cpuSeconds > 0, 'the sidecars used CPU');
    assert.ok(json.meshMark.score >= 0 && json.meshMark.score <= 100);

    // accesslog: both sidecars wrote a JSON line per request of its run (0.5 s warm-up and 1 s at 50 rps: 75),
    // and none once it was switched off for ratelimit (whose 75 more would make 150).
    for (const [workload, cluster] of [['study-client-1', 'outbound|9080||study-target.default.svc'], ['study-target-1', `inbound|${port}||`]]) {
      const log = await readFile(join(dir, 'work', 'logs', `${workload}-sidecar.log`), 'utf8');
      const lines = log.split('\n').filter((l) => l.startsWith('{"start_time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.ok(lines.every((l) => l['path'] === '/items' && l['response_code'] === 200 && l['upstream_cluster'] === cluster), `${workload}: ${JSON.stringify(lines[0])}`);
      assert.ok(lines.length >= 70 && lines.length <= 80, `${workload}: ${lines.length} lines`);
    }
  });

  it('rejects an unknown function before starting anything', async () => {
    const result = await run(['perf', 'study', '--url', 'http://127.0.0.1:1/', '--rate', '5', '--functions', 'none,teleport']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unknown function\(s\) teleport; known: none, mtls/);
  });
});
