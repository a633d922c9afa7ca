/**
 * `weft perf run` as a user runs it: the real CLI in a child process against
 * real servers: the SMP document it writes, and every kind of bad input.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SmpDocument } from '../../src/perf/index.js';
import { decodeHistogram } from '../../src/perf/index.js';
import { runWeft, sleep, startTargetServer, type TargetServer } from './harness.js';

describe('weft perf run (CLI)', () => {
  let target: TargetServer;
  let slow: TargetServer;
  const dir = mkdtempSync(join(tmpdir(), 'weft-perf-cli-'));

  before(async () => {
    [target, slow] = await Promise.all([startTargetServer(), startTargetServer(['--delay', '50'])]);
  });
  after(async () => {
    await Promise.all([target.close(), slow.close()]);
  });

  it('writes an SMP document with -o: SMP field names, the full histograms under weft', async () => {
    const out = join(dir, 'result.json');
    const run = runWeft(['perf', 'run', '--url', target.url, '--rate', '100', '--duration', '2s', '--connections', '16', '--threads', '2', '--header', 'x-test: 1', '-o', out]);
    const code = await run.exited;
    // 3: rate not reached, on an overloaded machine; the document is written either way (accuracy: accuracy.test.ts).
    assert.ok(code === 0 || code === 3, `exit ${code}: ${run.stderr()}`);
    assert.match(run.stdout(), /Throughput\s+\d+(\.\d+)? rps of 100 requested/);
    assert.match(run.stdout(), /p99\.9\s+[\d.]+\s+[\d.]+/);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as SmpDocument;
    const client = doc.performance_test_config.clients[0]!;
    assert.deepEqual(
      { load_generator: client.load_generator, protocol: client.protocol, connections: client.connections, rps: client.rps, endpoint_url: client.endpoint_url, headers: client.headers },
      { load_generator: 'weft', protocol: 'http', connections: 16, rps: 100, endpoint_url: [target.url], headers: { 'x-test': '1' } },
    );
    assert.equal(doc.performance_test_config.duration, '2s');
    const result = doc.performance_test_result;
    assert.ok(Date.parse(result.end_time) - Date.parse(result.start_time) >= 1990, `${result.start_time} .. ${result.end_time}`);
    if (code === 0) assert.ok(Math.abs(result.actual_QPS - 100) <= 1, `actual_QPS ${result.actual_QPS}`);
    else assert.equal(result.labels['weft.dev/rate-not-reached'], 'true');
    for (const field of ['min', 'average', 'p50', 'p90', 'p99', 'max'] as const) assert.equal(typeof result.latencies_ms[field], 'number', field);
    assert.ok(result.latencies_ms.min <= result.latencies_ms.p50 && result.latencies_ms.p50 <= result.latencies_ms.p99 && result.latencies_ms.p99 <= result.latencies_ms.max);
    assert.equal(result.testId, doc.performance_test_config.id);
    assert.equal(result.meshConfigId, doc.service_mesh_config.id);
    assert.equal(result.envId, doc.environment_config.id);
    assert.ok(doc.environment_config.node[0]!.cores >= 1);
    // Two threads' histograms merged exactly: one count per response, and the server saw each request once.
    const histogram = decodeHistogram(doc.weft.histograms.corrected);
    assert.equal(histogram.totalCount, doc.weft.requests.completed);
    assert.equal(doc.weft.generators, 2);
    assert.equal(doc.weft.statusCodes['200'], doc.weft.requests.completed);
    assert.equal(doc.weft.partial, false);
  });

  it('an unreachable URL fails with a clear error and exit 1', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = runWeft(['perf', 'run', '--url', `http://127.0.0.1:${port}/`, '--rate', '10', '--duration', '1s']);
    assert.equal(await run.exited, 1);
    assert.equal(run.stderr().trim(), `weft: cannot connect to http://127.0.0.1:${port}/: ECONNREFUSED`);
  });

  it('bad flags are rejected by name with a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--url', target.url], /exactly one of --rate R or --max/],
      [['--url', target.url, '--rate', '10', '--max'], /exactly one of --rate R or --max/],
      [['--url', target.url, '--rate', '-5'], /option '--rate <rps>' argument '-5' is invalid\. must be a positive number/],
      [['--url', target.url, '--max', '--duration', 'soon'], /'--duration <d>' argument 'soon' is invalid\. invalid duration "soon": expected a Go-style duration/],
      [['--url', target.url, '--max', '--duration', '0'], /'--duration <d>' argument '0' is invalid\. must be at least 1ms/],
      [['--url', target.url, '--max', '--timeout', '0.1ms'], /'--timeout <d>' argument '0.1ms' is invalid\. must be at least 1ms/],
      [['--url', target.url, '--max', '--warmup', '-1s'], /'--warmup <d>' argument '-1s' is invalid\. invalid duration "-1s": must not be negative/],
      [['--url', target.url, '--max', '--protocol', 'http3'], /argument 'http3' is invalid\. Allowed choices are http1, http2, grpc/],
      [['--url', target.url, '--max', '--header', 'nocolon'], /'--header <name:value>' argument 'nocolon' is invalid\. expected Name:value/],
      [['--url', 'ftp://x/', '--max'], /bad option url: only http:\/\/ targets are supported/],
      [['--url', target.url, '--max', '--connections', '2', '--threads', '4'], /bad option connections: 2 connections cannot be shared by 4 threads/],
      [['--rate', '10'], /required option '--url <url>' not specified/],
    ];
    for (const [args, expected] of cases) {
      const run = runWeft(['perf', 'run', ...args]);
      const code = await run.exited;
      const context = `${args.join(' ')} -> exit ${code}: ${run.stderr()}`;
      assert.notEqual(code, 0, context);
      assert.match(run.stderr(), expected, context);
      assert.doesNotMatch(run.stderr(), /\n\s+at /, `no stack trace: ${context}`);
    }
  });

  it('a rate the target cannot take is reported as not reached, exit 3', async () => {
    // 2 connections to a 50 ms server carry at most ~40 rps.
    const run = runWeft(['perf', 'run', '--url', slow.url, '--rate', '400', '--duration', '2s', '--connections', '2', '--no-progress']);
    assert.equal(await run.exited, 3, run.stderr());
    const match = /rate not reached: achieved ([\d.]+) of 400 rps/.exec(run.stderr());
    assert.ok(match, run.stderr());
    assert.ok(Number(match[1]) < 60, match[0]);
  });

  it('SIGINT mid-run writes the partial result, marked partial, exit 130', async () => {
    const out = join(dir, 'partial.json');
    const run = runWeft(['perf', 'run', '--url', target.url, '--rate', '200', '--duration', '60s', '--connections', '4', '-o', out]);
    // Wait for the first progress line: the measured window has begun.
    for (let i = 0; i < 100 && !/rps/.test(run.stderr()); i++) await sleep(100);
    await sleep(1000);
    run.child.kill('SIGINT');
    assert.equal(await run.exited, 130, run.stderr());
    assert.ok(existsSync(out), run.stderr());
    const doc = JSON.parse(readFileSync(out, 'utf8')) as SmpDocument;
    assert.equal(doc.weft.partial, true);
    assert.equal(doc.performance_test_result.labels['weft.dev/partial'], 'true');
    assert.ok(doc.weft.measuredMs > 500 && doc.weft.measuredMs < 30_000, `measured ${doc.weft.measuredMs} ms`);
    assert.ok(doc.weft.requests.completed > 100, `completed ${doc.weft.requests.completed}`);
    assert.match(run.stderr(), /partial result: stopped after/);
  });
});
