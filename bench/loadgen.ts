/**
 * `weft perf run` as a load generator, against wrk in the same run, both
 * loading one nginx worker (`return 200`):
 *
 *   1. closed loop: `weft perf run --max --threads 1` vs `wrk -t1`, same connections;
 *      target: weft >= 0.8x wrk's rps;
 *   2. open loop at half wrk's rps: weft holds the rate within 1%, and its
 *      corrected p99 is <= 1.1x the p99 wrk reports at the same load.
 *      wrk2 is not packaged, so the reference is wrk paced to the same rate
 *      with its Lua `delay()` hook (each connection waits before its next
 *      request), whose latency is measured from each actual send;
 *   3. for the client comment in src/perf/clients/http1.ts: node:http and
 *      fetch (undici) closed loops on the same connections, in this process.
 *
 *   npm run bench -- loadgen [--duration S] [--connections N] [--no-append]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Benchmark } from './lib/benchmark.js';
import { stockClientRps, type StockClient } from './lib/http-client-loops.js';
import { startNginxUpstream } from './lib/nginx.js';
import { LOOPBACK } from './lib/ports.js';
import { makeTempDir, runToCompletion, spawnManaged } from './lib/processes.js';
import { machineInfo, markdownTable, publishSection, reproducingCommand, toolVersion } from './lib/report.js';
import { assertWeftBuilt, WEFT_CLI } from './lib/weft.js';
import { parseWrkOutput, runWrk, type WrkResult } from './lib/wrk.js';
import type { SmpDocument } from '../src/perf/smp.js';

const DEFAULT_DURATION_SEC = 10;
const DEFAULT_CONNECTIONS = 32;
const WARMUP_SEC = 1;
const TARGETS = { rpsVsWrk: 0.8, rateTolerance: 0.01, p99VsWrk: 1.1 } as const;

const ms = (value: number): string => value.toFixed(3);
const ratio = (value: number): string => `${value.toFixed(2)}x`;
const verdict = (passed: boolean): string => (passed ? 'PASS' : 'FAIL');

interface Options {
  durationSec: number;
  connections: number;
  append: boolean;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: 'string', default: String(DEFAULT_DURATION_SEC) },
      connections: { type: 'string', default: String(DEFAULT_CONNECTIONS) },
      'no-append': { type: 'boolean', default: false },
    },
  });
  const whole = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number, got ${value}`);
    return n;
  };
  return { durationSec: whole('duration', values.duration), connections: whole('connections', values.connections), append: !values['no-append'] };
}

/** `weft perf run` through the real CLI; returns its SMP document. */
async function weftPerf(url: string, load: string[], connections: number, durationSec: number): Promise<SmpDocument> {
  const out = join(makeTempDir('loadgen'), 'result.json');
  const args = ['perf', 'run', '--url', url, ...load, '--threads', '1', '--connections', String(connections), '--duration', `${durationSec}s`, '--warmup', `${WARMUP_SEC}s`, '--no-progress', '-o', out];
  const child = spawnManaged('weft perf', process.execPath, [WEFT_CLI, ...args]);
  const status = await child.exited;
  // 3 (rate not reached) still wrote its result: the check below reports it.
  if (status.code !== 0 && status.code !== 3) throw new Error(`weft perf exited with ${status.code ?? status.signal}: ${child.stderr().trim()}`);
  return JSON.parse(readFileSync(out, 'utf8')) as SmpDocument;
}

/** wrk paced by its Lua delay() hook: each connection waits `delayMs` after an answer before its next request. */
async function pacedWrk(url: string, connections: number, delayMs: number, durationSec: number): Promise<WrkResult> {
  const script = join(makeTempDir('wrk-paced'), 'paced.lua');
  writeFileSync(script, `function delay()\n  return ${delayMs}\nend\n`);
  return parseWrkOutput(await runToCompletion('wrk', 'wrk', ['-t', '1', '-c', String(connections), '-d', `${durationSec}s`, '--latency', '-s', script, url]));
}

interface Measurements {
  wrkMax: WrkResult;
  weftMax: SmpDocument;
  rate: number;
  weftFixed: SmpDocument;
  wrkPaced: WrkResult;
  pacedConnections: number;
  pacedDelayMs: number;
  stock: Array<[StockClient | 'weft perf', number]>;
  notes: string[];
}

async function measure(options: Options): Promise<Measurements> {
  const nginx = await startNginxUpstream();
  const notes: string[] = [];
  try {
    const url = `http://${LOOPBACK}:${nginx.port}/`;
    const { connections, durationSec } = options;
    await runWrk({ url, threads: 1, connections, durationSec: WARMUP_SEC });
    console.error(`bench: wrk -t1 -c${connections} ${durationSec} s`);
    const wrkMax = await runWrk({ url, threads: 1, connections, durationSec });
    console.error(`bench: weft perf run --max --threads 1 --connections ${connections} ${durationSec} s`);
    const weftMax = await weftPerf(url, ['--max'], connections, durationSec);

    const rate = Math.round(wrkMax.requestsPerSec / 2);
    console.error(`bench: weft perf run --rate ${rate} ${durationSec} s`);
    const weftFixed = await weftPerf(url, ['--rate', String(rate)], connections, durationSec);
    // wrk near the same rate: each connection sends about once per (delay + answer time + timer slack);
    // a short calibration run measures that, then the connection count is scaled to the rate.
    const pacedDelayMs = 1;
    const probeConnections = Math.max(1, Math.round((rate * pacedDelayMs) / 1000));
    const probe = await pacedWrk(url, probeConnections, pacedDelayMs, 2);
    const pacedConnections = Math.max(1, Math.round((probeConnections * rate) / probe.requestsPerSec));
    console.error(`bench: wrk paced, ${pacedConnections} connections x ${pacedDelayMs} ms delay (probe: ${probeConnections} -> ${probe.requestsPerSec.toFixed(0)} rps)`);
    const wrkPaced = await pacedWrk(url, pacedConnections, pacedDelayMs, durationSec);
    if (Math.abs(wrkPaced.requestsPerSec - rate) / rate > 0.1) notes.push(`paced wrk ran at ${wrkPaced.requestsPerSec.toFixed(0)} rps, not within 10% of ${rate}: its p99 is at a different load`);

    const stock: Measurements['stock'] = [['weft perf', weftMax.weft.achievedRps]];
    for (const client of ['node:http', 'fetch (undici)'] as const) {
      console.error(`bench: ${client} closed loop, ${connections} connections, ${durationSec} s`);
      stock.push([client, await stockClientRps(client, url, connections, durationSec * 1000)]);
    }
    for (const doc of [weftMax, weftFixed]) {
      const errors = Object.values(doc.weft.errors).reduce((a, b) => a + b, 0);
      if (errors > 0) notes.push(`weft perf had ${errors} errors (${JSON.stringify(doc.weft.errors)}): numbers suspect`);
      if (doc.weft.generatorLagMs.p99 > 5) notes.push(`weft perf generator lag p99 ${ms(doc.weft.generatorLagMs.p99)} ms (${doc.weft.options.mode}): the machine was busy`);
    }
    if (wrkMax.socketErrors + wrkMax.badResponses + wrkPaced.socketErrors + wrkPaced.badResponses > 0) notes.push('wrk had errors: numbers suspect');
    return { wrkMax, weftMax, rate, weftFixed, wrkPaced, pacedConnections, pacedDelayMs, stock, notes };
  } finally {
    await nginx.process.stop();
  }
}

function report(m: Measurements, options: Options): string {
  const weftMax = m.weftMax.weft;
  const weftFixed = m.weftFixed.weft;
  const results = markdownTable(
    ['run', 'rps', 'p50 ms', 'p99 ms', 'errors'],
    [
      [`wrk -t1 -c${options.connections} (closed loop)`, m.wrkMax.requestsPerSec.toFixed(0), ms(m.wrkMax.latencyMs.p50), ms(m.wrkMax.latencyMs.p99), String(m.wrkMax.socketErrors + m.wrkMax.badResponses)],
      [`weft perf --max --threads 1 -c${options.connections}`, weftMax.achievedRps.toFixed(0), ms(weftMax.latencyMs.p50), ms(weftMax.latencyMs.p99), String(Object.values(weftMax.errors).reduce((a, b) => a + b, 0))],
      [`weft perf --rate ${m.rate} (corrected)`, weftFixed.achievedRps.toFixed(0), ms(weftFixed.latencyMs.p50), ms(weftFixed.latencyMs.p99), String(Object.values(weftFixed.errors).reduce((a, b) => a + b, 0))],
      [`weft perf --rate ${m.rate} (uncorrected)`, weftFixed.achievedRps.toFixed(0), ms(weftFixed.uncorrectedLatencyMs.p50), ms(weftFixed.uncorrectedLatencyMs.p99), '-'],
      [`wrk paced: -c${m.pacedConnections}, delay() ${m.pacedDelayMs} ms`, m.wrkPaced.requestsPerSec.toFixed(0), ms(m.wrkPaced.latencyMs.p50), ms(m.wrkPaced.latencyMs.p99), String(m.wrkPaced.socketErrors + m.wrkPaced.badResponses)],
    ],
  );
  const rpsRatio = weftMax.achievedRps / m.wrkMax.requestsPerSec;
  const rateError = Math.abs(weftFixed.achievedRps - m.rate) / m.rate;
  const p99Ratio = weftFixed.latencyMs.p99 / m.wrkPaced.latencyMs.p99;
  const checks = markdownTable(
    ['check', 'value', 'target', 'result'],
    [
      ['closed-loop rps weft / wrk', ratio(rpsRatio), `>= ${ratio(TARGETS.rpsVsWrk)}`, verdict(rpsRatio >= TARGETS.rpsVsWrk)],
      [`rate held at ${m.rate} rps`, `${(rateError * 100).toFixed(2)}% off`, `<= ${TARGETS.rateTolerance * 100}%`, verdict(rateError <= TARGETS.rateTolerance)],
      ['p99 weft (corrected) / wrk paced', ratio(p99Ratio), `<= ${ratio(TARGETS.p99VsWrk)}`, verdict(p99Ratio <= TARGETS.p99VsWrk)],
    ],
  );
  const clients = markdownTable(
    ['client (closed loop, same connections, 1 thread)', 'rps'],
    m.stock.map(([name, rps]) => [name, rps.toFixed(0)]),
  );
  return [results, '', checks, '', clients].join('\n');
}

async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  assertWeftBuilt();
  const startedAt = new Date();
  const m = await measure(options);
  const machine = machineInfo();
  const [nginxVersion, wrkVersion] = await Promise.all([toolVersion('nginx', ['-v']), toolVersion('wrk', ['-v'])]);
  const section = [
    `## loadgen, ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}${options.durationSec !== DEFAULT_DURATION_SEC ? ' (shortened run, not comparable)' : ''}`,
    '',
    `Command: \`${reproducingCommand()}\``,
    '',
    `Machine: nproc ${machine.nproc}, ${machine.cpuModel}, Node ${machine.node}, Linux ${machine.kernel}, shared with other work (ratios are measured in the same run). Tools: ${nginxVersion}; ${wrkVersion}.`,
    '',
    `Target: one nginx worker answering \`return 200\`. Each run ${options.durationSec} s on ${options.connections} connections, one generator thread, after a ${WARMUP_SEC} s warm-up. ` +
      `The fixed rate is half wrk's closed-loop rps. The p99 reference is wrk paced to about that rate with its Lua delay() hook (wrk2 is not packaged), latency from each actual send.`,
    '',
    report(m, options),
    ...(m.notes.length > 0 ? ['', ...m.notes.map((note) => `- ${note}`)] : []),
  ].join('\n');
  publishSection(section, options.append);
  return 0;
}

export const benchmark: Benchmark = {
  description: 'weft perf run as a load generator: closed-loop rps and fixed-rate accuracy against wrk',
  run,
};
