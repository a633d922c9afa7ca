/**
 * HTTP/1.1 proxy overhead: weft against HAProxy and nginx, all one thread,
 * in front of the same nginx upstream, in the same run.
 *
 *   npm run bench -- http1 [--duration S] [--rss-duration S] [--no-append]
 */
import { parseArgs } from 'node:util';
import type { Benchmark } from './lib/benchmark.js';
import { manyRoutesBootstrap, routePath, singleRouteBootstrap } from './lib/bootstrap.js';
import { runFixedRate, type FixedRateResult } from './lib/fixed-rate.js';
import { startHaproxy } from './lib/haproxy.js';
import { startNginxProxy, startNginxUpstream } from './lib/nginx.js';
import { LOOPBACK } from './lib/ports.js';
import { markdownTable, publishSection, ratio, sectionHeader, verdict } from './lib/report.js';
import { processTreeRssBytes } from './lib/rss.js';
import { alternate, median } from './lib/rounds.js';
import type { RunningServer } from './lib/server.js';
import { assertWeftBuilt, startWeft } from './lib/weft.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const DEFAULT_DURATION_SEC = 10;
const DEFAULT_RSS_DURATION_SEC = 60;
const WARMUP_SEC = 1;
const WRK_THREADS = 1;
const CONNECTIONS = 32;
const FIXED_RATE_RPS = 1000;
/**
 * Fixed-rate runs alternate between direct, HAProxy and weft this many times;
 * the median p99 of each is compared. HAProxy's added p99 is the reference: it
 * shows what one hop costs on this machine for a proxy written in C.
 */
const FIXED_RATE_ROUNDS = 3;
const RSS_ROUTES = 100;
const RSS_CLUSTERS = 10;
const WEFT_CONCURRENCY = 1;
/** Node timers have 1 ms resolution, so ~1 ms of sending lag is normal; beyond this the generator was starved. */
const GENERATOR_LAG_NOTE_MS = 5;

const TARGETS = {
  throughputVsHaproxy: 1.0,
  p99VsHaproxy: 1.2,
  addedP99Ms: 0.3,
  rssMB: 60,
} as const;

const ms = (value: number) => value.toFixed(3);

interface Options {
  durationSec: number;
  rssDurationSec: number;
  append: boolean;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    options: {
      duration: { type: 'string', default: String(DEFAULT_DURATION_SEC) },
      'rss-duration': { type: 'string', default: String(DEFAULT_RSS_DURATION_SEC) },
      'no-append': { type: 'boolean', default: false },
    },
  });
  // Whole seconds: wrk reads its duration as an integer.
  const seconds = (name: string, value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive whole number of seconds, got ${value}`);
    return parsed;
  };
  return {
    durationSec: seconds('duration', values.duration),
    rssDurationSec: seconds('rss-duration', values['rss-duration']),
    append: !values['no-append'],
  };
}

/** Closed-loop maximum throughput through one target, after a warm-up wrk run. */
async function measureThroughput(server: RunningServer, durationSec: number): Promise<WrkResult> {
  const url = `http://${LOOPBACK}:${server.port}/`;
  await runWrk({ url, threads: WRK_THREADS, connections: CONNECTIONS, durationSec: WARMUP_SEC });
  console.error(`bench: wrk ${durationSec} s -> ${server.name}`);
  return runWrk({ url, threads: WRK_THREADS, connections: CONNECTIONS, durationSec });
}

function measureFixedRate(server: RunningServer, durationSec: number, paths: readonly string[], round?: number): Promise<FixedRateResult> {
  console.error(`bench: ${FIXED_RATE_RPS} rps for ${durationSec} s -> ${server.name}${round === undefined ? '' : ` (round ${round} of ${FIXED_RATE_ROUNDS})`}`);
  return runFixedRate({
    host: LOOPBACK,
    port: server.port,
    paths,
    ratePerSec: FIXED_RATE_RPS,
    durationMs: durationSec * 1000,
    connections: CONNECTIONS,
    warmupMs: Math.min(WARMUP_SEC * 1000, (durationSec * 1000) / 4),
  });
}

/** Load at the fixed rate while sampling RSS each second; returns the last sample taken under load. */
async function measureRss(server: RunningServer, durationSec: number): Promise<{ rssBytes: number; load: FixedRateResult }> {
  const paths = Array.from({ length: RSS_ROUTES }, (_, i) => `${routePath(i)}item`);
  let rssBytes = processTreeRssBytes(server.process.pid);
  const sampler = setInterval(() => {
    rssBytes = processTreeRssBytes(server.process.pid);
  }, 1000);
  try {
    const load = await measureFixedRate(server, durationSec, paths);
    return { rssBytes, load };
  } finally {
    clearInterval(sampler);
  }
}

async function stopWeft(server: RunningServer, notes: string[]): Promise<void> {
  const status = await server.process.stop('SIGTERM', 10_000);
  if (status.code !== 0) notes.push(`${server.name} exited with ${status.code ?? status.signal} on SIGTERM (expected 0)`);
}

interface Measurements {
  /** wrk results by target label, in table order. */
  throughput: Map<string, WrkResult>;
  /** The median-p99 runs of the alternating rounds. */
  directFixed: FixedRateResult;
  haproxyFixed: FixedRateResult;
  weftFixed: FixedRateResult;
  /** Every round's p99, direct, HAProxy and weft, in round order. */
  fixedRoundsP99: Array<[number, number, number]>;
  manyRoutesFixed: FixedRateResult;
  weftRssBytes: number;
  /** Anomalies worth a line under the tables. */
  notes: string[];
}

async function measure(options: Options): Promise<Measurements> {
  const servers: RunningServer[] = [];
  const started = async (server: Promise<RunningServer>) => {
    const value = await server;
    servers.push(value);
    return value;
  };
  const notes: string[] = [];
  try {
    const upstream = await started(startNginxUpstream());
    const targets = new Map<string, RunningServer>([
      ['nginx direct', upstream],
      ['haproxy', await started(startHaproxy(upstream.port))],
      ['nginx proxy', await started(startNginxProxy(upstream.port))],
      ['weft', await started(startWeft('weft', WEFT_CONCURRENCY, (ports) => singleRouteBootstrap(ports.listener, ports.admin, upstream.port)))],
    ]);
    const throughput = new Map<string, WrkResult>();
    for (const [label, server] of targets) throughput.set(label, await measureThroughput(server, options.durationSec));

    const weft = targets.get('weft')!;
    const haproxy = targets.get('haproxy')!;
    const fixed = await alternate(FIXED_RATE_ROUNDS, [
      ['direct', (round) => measureFixedRate(upstream, options.durationSec, ['/'], round)],
      ['haproxy', (round) => measureFixedRate(haproxy, options.durationSec, ['/'], round)],
      ['weft', (round) => measureFixedRate(weft, options.durationSec, ['/'], round)],
    ]);
    const byP99 = (r: FixedRateResult) => r.latencyMs.p99;
    const directRuns = fixed.get('direct')!;
    const haproxyRuns = fixed.get('haproxy')!;
    const weftRuns = fixed.get('weft')!;
    const fixedRoundsP99 = directRuns.map((d, i): [number, number, number] => [d.latencyMs.p99, haproxyRuns[i]!.latencyMs.p99, weftRuns[i]!.latencyMs.p99]);
    await stopWeft(weft, notes);

    const manyRoutes = await started(
      startWeft('weft-100-routes', WEFT_CONCURRENCY, (ports) => manyRoutesBootstrap(ports.listener, ports.admin, upstream.port, RSS_ROUTES, RSS_CLUSTERS)),
    );
    const rss = await measureRss(manyRoutes, options.rssDurationSec);
    await stopWeft(manyRoutes, notes);

    // Lag and errors of every round count, not only the median one's.
    const fixedRuns = [
      ...directRuns.map((r) => ['direct', r] as const),
      ...haproxyRuns.map((r) => ['haproxy', r] as const),
      ...weftRuns.map((r) => ['weft', r] as const),
      ['weft 100 routes', rss.load] as const,
    ];
    for (const [name, r] of fixedRuns) {
      if (r.generatorLagP99Ms > GENERATOR_LAG_NOTE_MS) notes.push(`load generator lag p99 ${ms(r.generatorLagP99Ms)} ms on a ${name} run (excluded from latencies; the machine may be overloaded)`);
    }
    const wrkErrors = [...throughput.values()].some((r) => r.socketErrors + r.badResponses > 0);
    if (wrkErrors || fixedRuns.some(([, r]) => r.errors > 0)) notes.push('some runs had errors: their numbers are suspect');

    return {
      throughput,
      directFixed: median(directRuns, byP99),
      haproxyFixed: median(haproxyRuns, byP99),
      weftFixed: median(weftRuns, byP99),
      fixedRoundsP99,       manyRoutesFixed: rss.load,
      weftRssBytes: rss.rssBytes,
      notes,
    };
  } finally {
    await Promise.all(servers.map((server) => server.process.stop()));
  }
}

function resultsTable(m: Measurements): string {
  const wrkRows = [...m.throughput].map(([label, r]) => [
    `${label} (wrk)`,
    Math.round(r.requestsPerSec).toString(),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    String(r.socketErrors + r.badResponses),
  ]);
  const fixedRow = (label: string, r: FixedRateResult) => [
    `${label} (${FIXED_RATE_RPS} rps)`,
    Math.round(r.achievedRps).toString(),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    String(r.errors),
  ];
  return markdownTable(
    ['target', 'rps', 'p50 ms', 'p99 ms', 'errors'],
    [
      ...wrkRows,
      fixedRow('nginx direct, median', m.directFixed),
      fixedRow('haproxy, median', m.haproxyFixed),
      fixedRow('weft, median', m.weftFixed),
      fixedRow(`weft ${RSS_ROUTES} routes`, m.manyRoutesFixed),
    ],
  );
}

function checksTable(m: Measurements, options: Options): string {
  const weft = m.throughput.get('weft')!;
  const haproxy = m.throughput.get('haproxy')!;
  const throughputRatio = weft.requestsPerSec / haproxy.requestsPerSec;
  const p99Ratio = weft.latencyMs.p99 / haproxy.latencyMs.p99;
  const addedP99Ms = m.weftFixed.latencyMs.p99 - m.directFixed.latencyMs.p99;
  const haproxyAddedP99Ms = m.haproxyFixed.latencyMs.p99 - m.directFixed.latencyMs.p99;
  const rssMB = m.weftRssBytes / 1e6;
  return markdownTable(
    ['check', 'value', 'target', 'result'],
    [
      ['throughput weft / haproxy', ratio(throughputRatio), `>= ${ratio(TARGETS.throughputVsHaproxy)}`, verdict(throughputRatio >= TARGETS.throughputVsHaproxy)],
      ['p99 weft / haproxy', ratio(p99Ratio), `<= ${ratio(TARGETS.p99VsHaproxy)}`, verdict(p99Ratio <= TARGETS.p99VsHaproxy)],
      [`added p99 at ${FIXED_RATE_RPS} rps`, `${ms(addedP99Ms)} ms`, `<= ${TARGETS.addedP99Ms} ms`, verdict(addedP99Ms <= TARGETS.addedP99Ms)],
      [`added p99 at ${FIXED_RATE_RPS} rps, haproxy (reference)`, `${ms(haproxyAddedP99Ms)} ms`, 'reported', '-'],
      [
        `weft RSS after ${options.rssDurationSec} s at ${FIXED_RATE_RPS} rps (${RSS_ROUTES} routes, ${RSS_CLUSTERS} clusters)`,
        `${rssMB.toFixed(1)} MB`,
        `<= ${TARGETS.rssMB} MB`,
        verdict(rssMB <= TARGETS.rssMB),
      ],
    ],
  );
}

async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  assertWeftBuilt();
  const startedAt = new Date();
  const m = await measure(options);

  const shortened = options.durationSec !== DEFAULT_DURATION_SEC || options.rssDurationSec !== DEFAULT_RSS_DURATION_SEC;
  const section = [
    ...(await sectionHeader('http1', startedAt, shortened, [['nginx', ['-v']], ['haproxy', ['-v']], ['wrk', ['-v']]])),
    '',
    `Load: wrk ${WRK_THREADS} thread, ${CONNECTIONS} connections, ${options.durationSec} s after a ${WARMUP_SEC} s warm-up; ` +
      `open loop at ${FIXED_RATE_RPS} rps on ${CONNECTIONS} connections, coordinated-omission corrected, ${FIXED_RATE_ROUNDS} rounds alternating direct, haproxy and weft ` +
      `(the runs with the median p99 shown; p99 by round, direct / haproxy / weft: ${m.fixedRoundsP99.map((p99s) => p99s.map(ms).join(' / ')).join(', ')} ms). ` +
      `Every proxy runs one thread/worker (weft --concurrency ${WEFT_CONCURRENCY}) in front of one nginx worker.`,
    '',
    resultsTable(m),
    '',
    checksTable(m, options),
    ...(m.notes.length > 0 ? ['', ...m.notes.map((note) => `- ${note}`)] : []),
  ].join('\n');

  publishSection(section, options.append);
  return 0;
}

export const benchmark: Benchmark = {
  description: 'HTTP/1.1 proxy throughput, latency and memory: weft vs HAProxy and nginx',
  run,
};
