/**
 * `weft perf run` as a load generator, against wrk in the same run, both
 * loading one nginx worker (`return 200`):
 *
 *   1. closed loop: `weft perf run --max --threads 1` vs `wrk -t1`, same connections,
 *      alternating over 3 rounds (medians), with each one's CPU time per response;
 *      target: weft >= 0.8x wrk's rps;
 *   2. open loop at half wrk's rps: weft holds the rate within 1%, and its
 *      p99 is <= 1.1x the p99 wrk reports at the same load. wrk2 is not
 *      packaged, so the reference is wrk paced to the same rate with its Lua
 *      `delay()` hook (each connection waits before its next request). wrk
 *      times a request from its actual send, so the check compares weft's
 *      uncorrected p99 (the same measurement); the corrected p99, which also
 *      charges the time requests waited for a connection, is shown beside it;
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
import { markdownTable, publishSection, ratio, sectionHeader, verdict } from './lib/report.js';
import { median } from './lib/rounds.js';
import { assertWeftBuilt, WEFT_CLI } from './lib/weft.js';
import { parseWrkOutput, runWrk, type WrkResult } from './lib/wrk.js';
import type { SmpDocument } from '../src/perf/smp.js';

const DEFAULT_DURATION_SEC = 10;
const DEFAULT_CONNECTIONS = 32;
const WARMUP_SEC = 1;
const CLOSED_LOOP_ROUNDS = 3;
const TARGETS = { rpsVsWrk: 0.8, rateTolerance: 0.01, p99VsWrk: 1.1 } as const;

const ms = (value: number): string => value.toFixed(3);

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

/** A command run under /usr/bin/time: its stdout and the CPU seconds (user + system) it used. */
async function timed(name: string, command: string, args: readonly string[], okCodes: readonly number[] = [0]): Promise<{ stdout: string; cpuSeconds: number }> {
  const child = spawnManaged(name, '/usr/bin/time', ['-f', 'cpu %U %S', command, ...args]);
  const status = await child.exited;
  if (status.code === null || !okCodes.includes(status.code)) throw new Error(`${name} exited with ${status.code ?? status.signal}: ${child.stderr().trim()}`);
  const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(child.stderr());
  if (!cpu) throw new Error(`${name}: no CPU time from /usr/bin/time in: ${child.stderr().trim()}`);
  return { stdout: child.stdout(), cpuSeconds: Number(cpu[1]) + Number(cpu[2]) };
}

/** `weft perf run` through the real CLI; returns its SMP document and the CPU seconds the process used. */
async function weftPerf(url: string, load: string[], connections: number, durationSec: number, warmupSec: number): Promise<{ doc: SmpDocument; cpuSeconds: number }> {
  const out = join(makeTempDir('loadgen'), 'result.json');
  const args = ['perf', 'run', '--url', url, ...load, '--threads', '1', '--connections', String(connections), '--duration', `${durationSec}s`, '--warmup', `${warmupSec}s`, '--no-progress', '-o', out];
  // 3 (rate not reached) still wrote its result: the check below reports it.
  const { cpuSeconds } = await timed('weft perf', process.execPath, [WEFT_CLI, ...args], [0, 3]);
  return { doc: JSON.parse(readFileSync(out, 'utf8')) as SmpDocument, cpuSeconds };
}

/** Closed-loop wrk, timed. */
async function timedWrk(url: string, connections: number, durationSec: number): Promise<{ result: WrkResult; cpuSeconds: number }> {
  const { stdout, cpuSeconds } = await timed('wrk', 'wrk', ['-t', '1', '-c', String(connections), '-d', `${durationSec}s`, '--latency', url]);
  return { result: parseWrkOutput(stdout), cpuSeconds };
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
  /** CPU seconds per 1000 responses of the median closed-loop runs. */
  wrkCpuPer1k: number;
  weftCpuPer1k: number;
  closedLoopRounds: Array<[number, number]>;
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
    // The machine's load moves under us: alternate the two tools over several rounds and keep each one's median.
    const wrkRuns: Array<Awaited<ReturnType<typeof timedWrk>>> = [];
    const weftRuns: Array<Awaited<ReturnType<typeof weftPerf>>> = [];
    for (let round = 1; round <= CLOSED_LOOP_ROUNDS; round++) {
      console.error(`bench: round ${round}: wrk -t1 -c${connections} ${durationSec} s, then weft perf run --max --threads 1 --connections ${connections} ${durationSec} s`);
      wrkRuns.push(await timedWrk(url, connections, durationSec));
      // No warm-up, as wrk's run has none: its CPU time includes Node's start-up.
      weftRuns.push(await weftPerf(url, ['--max'], connections, durationSec, 0));
    }
    const wrkMedian = median(wrkRuns, (r) => r.result.requestsPerSec);
    const weftMedian = median(weftRuns, (r) => r.doc.weft.achievedRps);
    const wrkMax = wrkMedian.result;
    const weftMax = weftMedian.doc;
    const wrkCpuPer1k = (wrkMedian.cpuSeconds / wrkMax.requests) * 1000;
    const weftCpuPer1k = (weftMedian.cpuSeconds / weftMax.weft.requests.completed) * 1000;
    const closedLoopRounds = wrkRuns.map((w, i): [number, number] => [w.result.requestsPerSec, weftRuns[i]!.doc.weft.achievedRps]);

    const rate = Math.round(wrkMax.requestsPerSec / 2);
    console.error(`bench: weft perf run --rate ${rate} ${durationSec} s`);
    const weftFixed = (await weftPerf(url, ['--rate', String(rate)], connections, durationSec, WARMUP_SEC)).doc;
    // wrk near the same rate: each connection sends about once per (delay + answer time + timer slack);
    // a short calibration run measures that, then the connection count is scaled to the rate.
    const pacedDelayMs = 1;
    let pacedConnections = Math.max(1, Math.round((rate * pacedDelayMs) / 1000));
    for (let probe = 0; probe < 4; probe++) {
      // Short probes until within 5%: the rate is not quite linear in connections on a busy machine.
      const probed = await pacedWrk(url, pacedConnections, pacedDelayMs, 2);
      if (Math.abs(probed.requestsPerSec - rate) / rate <= 0.05) break;
      pacedConnections = Math.max(1, Math.round((pacedConnections * rate) / probed.requestsPerSec));
    }
    console.error(`bench: wrk paced, ${pacedConnections} connections x ${pacedDelayMs} ms delay`);
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
    return { wrkMax, weftMax, wrkCpuPer1k, weftCpuPer1k, closedLoopRounds, rate, weftFixed, wrkPaced, pacedConnections, pacedDelayMs, stock, notes };
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
      [`wrk -t1 -c${options.connections} (closed loop, median)`, m.wrkMax.requestsPerSec.toFixed(0), ms(m.wrkMax.latencyMs.p50), ms(m.wrkMax.latencyMs.p99), String(m.wrkMax.socketErrors + m.wrkMax.badResponses)],
      [`weft perf --max --threads 1 -c${options.connections} (median)`, weftMax.achievedRps.toFixed(0), ms(weftMax.latencyMs.p50), ms(weftMax.latencyMs.p99), String(Object.values(weftMax.errors).reduce((a, b) => a + b, 0))],
      [`weft perf --rate ${m.rate} (corrected)`, weftFixed.achievedRps.toFixed(0), ms(weftFixed.latencyMs.p50), ms(weftFixed.latencyMs.p99), String(Object.values(weftFixed.errors).reduce((a, b) => a + b, 0))],
      [`weft perf --rate ${m.rate} (uncorrected)`, weftFixed.achievedRps.toFixed(0), ms(weftFixed.uncorrectedLatencyMs.p50), ms(weftFixed.uncorrectedLatencyMs.p99), '-'],
      [`wrk paced: -c${m.pacedConnections}, delay() ${m.pacedDelayMs} ms`, m.wrkPaced.requestsPerSec.toFixed(0), ms(m.wrkPaced.latencyMs.p50), ms(m.wrkPaced.latencyMs.p99), String(m.wrkPaced.socketErrors + m.wrkPaced.badResponses)],
    ],
  );
  const rpsRatio = weftMax.achievedRps / m.wrkMax.requestsPerSec;
  const rateError = Math.abs(weftFixed.achievedRps - m.rate) / m.rate;
  // wrk times each request from its actual send: weft's uncorrected histogram is the same measurement.
  const p99Ratio = weftFixed.uncorrectedLatencyMs.p99 / m.wrkPaced.latencyMs.p99;
  const correctedRatio = weftFixed.latencyMs.p99 / m.wrkPaced.latencyMs.p99;
  const checks = markdownTable(
    ['check', 'value', 'target', 'result'],
    [
      ['closed-loop rps weft / wrk', ratio(rpsRatio), `>= ${ratio(TARGETS.rpsVsWrk)}`, verdict(rpsRatio >= TARGETS.rpsVsWrk)],
      [`rate held at ${m.rate} rps`, `${(rateError * 100).toFixed(2)}% off`, `<= ${TARGETS.rateTolerance * 100}%`, verdict(rateError <= TARGETS.rateTolerance)],
      ['p99 weft / wrk paced, both from the actual send', ratio(p99Ratio), `<= ${ratio(TARGETS.p99VsWrk)}`, verdict(p99Ratio <= TARGETS.p99VsWrk)],
      ['p99 weft corrected / wrk paced (information)', ratio(correctedRatio), '-', '-'],
    ],
  );
  const cpu = markdownTable(
    ['closed loop (median of rounds)', 'CPU ms per 1000 responses'],
    [
      ['wrk', (m.wrkCpuPer1k * 1000).toFixed(1)],
      ['weft perf (start-up included)', (m.weftCpuPer1k * 1000).toFixed(1)],
    ],
  );
  const rounds = `Closed-loop rounds (wrk / weft rps): ${m.closedLoopRounds.map(([w, x]) => `${w.toFixed(0)} / ${x.toFixed(0)}`).join(', ')}. ` +
    `CPU per response weft / wrk: ${ratio(m.weftCpuPer1k / m.wrkCpuPer1k)} (with each on its own core, rps follows the inverse of this ratio until the target saturates).`;
  const clients = markdownTable(
    ['client (closed loop, same connections, 1 thread)', 'rps'],
    m.stock.map(([name, rps]) => [name, rps.toFixed(0)]),
  );
  return [results, '', checks, '', cpu, '', rounds, '', clients].join('\n');
}

async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  assertWeftBuilt();
  const startedAt = new Date();
  const m = await measure(options);
  const section = [
    ...(await sectionHeader('loadgen', startedAt, options.durationSec !== DEFAULT_DURATION_SEC, [['nginx', ['-v']], ['wrk', ['-v']]])),
    '',
    `Target: one nginx worker answering \`return 200\`. Each run ${options.durationSec} s on ${options.connections} connections, one generator thread; closed loop: ${CLOSED_LOOP_ROUNDS} rounds alternating wrk and weft (medians shown, after a ${WARMUP_SEC} s wrk warm-up); fixed rate after a ${WARMUP_SEC} s warm-up. ` +
      `The fixed rate is half wrk's closed-loop rps. The p99 reference is wrk paced to about that rate with its Lua delay() hook (wrk2 is not packaged); wrk times each request from its actual send, so the check uses weft's uncorrected p99, the same measurement, and shows the corrected one beside it.`,
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
