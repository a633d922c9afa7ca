import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCliFixture, type CliFixture } from './cli-harness.js';

function resultYaml(name: string, qps: number, p99: number, startTime: string): string {
  return `apiVersion: mesh.weft.dev/v1alpha1
kind: PerformanceResult
metadata: {name: ${name}}
spec:
  profile: checkout
  smp:
    performance_test_config: {smp_version: v0.0.1, clients: [{load_generator: weft, protocol: http, connections: 8, rps: 100, endpoint_url: [http://a]}], duration: 10s}
    performance_test_result: {start_time: "${startTime}", latencies_ms: {min: 0.5, average: 1.2, p50: 1, p90: 2, p99: ${p99}, max: 40}, actual_QPS: ${qps}}
`;
}

describe('weft perf profile / results / compare', () => {
  let fx: CliFixture;
  let dir: string;
  before(async () => {
    fx = await startCliFixture();
    dir = await mkdtemp(join(tmpdir(), 'weft-perf-cli-'));
  });
  after(async () => {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('profile create stores the flags as a PerformanceProfile; list shows it; bad flags are refused', async () => {
    const created = await fx.weft(['perf', 'profile', 'create', 'checkout', '--url', 'http://127.0.0.1:8080/checkout', '--rate', '250', '--duration', '20s', '--header', 'x-user: alice', '--connections', '4']);
    assert.equal(created.code, 0, created.stderr);
    const stored = JSON.parse((await fx.weft(['get', 'performanceprofile', 'checkout', '-o', 'json'])).stdout);
    assert.deepEqual(stored.spec, { url: 'http://127.0.0.1:8080/checkout', rate: 250, duration: '20s', connections: 4, headers: { 'x-user': 'alice' } });

    const list = await fx.weft(['perf', 'profile', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+URL\s+LOAD\s+DURATION\s+AGE\ncheckout\s+http:\/\/127\.0\.0\.1:8080\/checkout\s+250 rps\s+20s\s+\d+s\n$/);

    const both = await fx.weft(['perf', 'profile', 'create', 'bad', '--url', 'http://a', '--rate', '5', '--max']);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /spec\.max: set exactly one of rate/);
    const negative = await fx.weft(['perf', 'profile', 'create', 'bad', '--url', 'http://a', '--rate', '-5']);
    assert.notEqual(negative.code, 0);
    assert.match(negative.stderr, /must be a positive number/);
  });

  test('results lists stored runs newest first, filtered by profile', async () => {
    const applied = await fx.weft(['apply', '-f', '-'], `${resultYaml('run-1', 100, 4, '2026-11-24T20:00:00Z')}---\n${resultYaml('run-2', 90, 6, '2026-11-24T20:05:00Z')}`);
    assert.equal(applied.code, 0, applied.stderr);
    const results = await fx.weft(['perf', 'results', '--profile', 'checkout']);
    assert.equal(results.code, 0, results.stderr);
    const lines = results.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['NAME', 'PROFILE', 'QPS', 'P50', 'P99', 'RUN', 'AGE']);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 6)).sort(), [
      ['run-1', 'checkout', '100.0', '1.00ms', '4.00ms', 'complete'],
      ['run-2', 'checkout', '90.0', '1.00ms', '6.00ms', 'complete'],
    ]);
    assert.equal((await fx.weft(['perf', 'results', '--profile', 'other'])).stdout.trimEnd().split('\n').length, 1, 'header only');
  });

  test('compare shows each percentile and throughput with deltas and a verdict; stored names and files mix', async () => {
    const file = join(dir, 'candidate.json');
    await writeFile(file, JSON.stringify({ performance_test_result: { latencies_ms: { min: 0.5, average: 1.2, p50: 1, p90: 2, p99: 4.1, max: 40 }, actual_QPS: 101 } }));
    const same = await fx.weft(['perf', 'compare', 'run-1', file]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^p99\s+4\.000 ms\s+4\.100 ms\s+\+0\.100 ms\s+\+2\.5%\s+same$/m);
    assert.match(same.stdout, /^throughput\s+100\.0 rps\s+101\.0 rps\s+\+1\.0 rps\s+\+1\.0%\s+same$/m);
    assert.match(same.stdout, /verdict: pass \(tolerance ±5%\)/);

    const worse = await fx.weft(['perf', 'compare', 'run-1', 'run-2', '--tolerance', '10', '--fail-on-regression']);
    assert.equal(worse.code, 1);
    assert.match(worse.stdout, /^p99\s+4\.000 ms\s+6\.000 ms\s+\+2\.000 ms\s+\+50\.0%\s+worse$/m);
    assert.match(worse.stdout, /verdict: regression/);

    const missing = await fx.weft(['perf', 'compare', 'run-1', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /PerformanceResult default\/nope not found/);
  });

  test('profile run loads the target as saved and stores an SMP PerformanceResult that results and compare read', async () => {
    let seen = 0;
    const server: Server = createServer((req, res) => {
      seen++;
      res.end(req.headers['x-run'] === 'profile' ? 'ok' : 'no header');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const created = await fx.weft(['perf', 'profile', 'create', 'local', '--url', url, '--rate', '50', '--duration', '2s', '--connections', '4', '--header', 'x-run:profile']);
      assert.equal(created.code, 0, created.stderr);
      const ran = await fx.weft(['perf', 'profile', 'run', 'local']);
      assert.equal(ran.code, 0, `${ran.stdout}\n${ran.stderr}`);
      const name = /performanceresult\/(local-\d{8}-\d{6}) stored/.exec(ran.stdout)?.[1];
      assert.ok(name, ran.stdout);
      const stored = JSON.parse((await fx.weft(['get', 'performanceresult', name, '-o', 'json'])).stdout);
      assert.equal(stored.spec.profile, 'local');
      assert.equal(stored.spec.partial, false);
      const result = stored.spec.smp.performance_test_result;
      assert.ok(Math.abs(result.actual_QPS - 50) < 1, `achieved ${result.actual_QPS} rps`);
      assert.ok(result.latencies_ms.p99 > 0 && result.latencies_ms.p99 < 1000);
      assert.equal(stored.spec.smp.weft.statusCodes['200'], stored.spec.smp.weft.requests.completed);
      assert.ok(stored.spec.smp.weft.requests.completed <= seen, 'every answer counted came from the server');
      const listed = await fx.weft(['perf', 'results', '--profile', 'local']);
      assert.match(listed.stdout, new RegExp(`^${name}\\s+local\\s+\\d+\\.\\d`, 'm'));
      const compared = await fx.weft(['perf', 'compare', name, name]);
      assert.match(compared.stdout, /^p99\.9\s/m, 'Weft\'s own percentiles join SMP\'s');
      assert.match(compared.stdout, /verdict: pass/);
      // Regression: profile run dropped --token (it worked only through WEFT_TOKEN), so the API said 401.
      const created2 = await fx.weft(['perf', 'profile', 'create', 'by-flag', '--url', url, '--rate', '10', '--duration', '500ms', '--connections', '1', '--header', 'x-run:profile']);
      assert.equal(created2.code, 0, created2.stderr);
      const byFlag = await fx.weft(['perf', 'profile', 'run', 'by-flag', '--no-progress', '--token', fx.adminToken], undefined, '');
      assert.equal(byFlag.code, 0, `${byFlag.stdout}\n${byFlag.stderr}`);
      assert.match(byFlag.stdout, /performanceresult\/by-flag-\d{8}-\d{6} stored/);
    } finally {
      server.close();
    }
  });
});
