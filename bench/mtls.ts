/**
 * mTLS between two sidecars: the same client sidecar -> server sidecar -> nginx
 * path, plaintext and mutual TLS (SPIFFE IDs verified both ways), in the same run.
 *
 *   npm run bench -- mtls [--duration S] [--no-append]
 *
 * Reports kept-alive throughput (wrk through both hops), new mTLS handshakes
 * per second against the server sidecar and per CPU-second it spent, and the
 * added p99 at 1000 rps through the two mTLS hops over nginx direct. Throughput
 * and fixed-rate runs alternate over several rounds; the medians are compared.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import * as tls from 'node:tls';
import { createTestCa } from '../test/support/pki.js';
import {
  bootstrap, clientSidecar, hcmFilter, listener, serverSidecar, spiffe, staticCluster, type SidecarPki,
} from '../test/e2e/tls-fixtures.js';
import type { Benchmark } from './lib/benchmark.js';
import { runFixedRate, type FixedRateResult } from './lib/fixed-rate.js';
import { startNginxUpstream } from './lib/nginx.js';
import { LOOPBACK } from './lib/ports.js';
import { cpuSeconds } from './lib/proc-cpu.js';
import { markdownTable, publishSection, sectionHeader, verdict } from './lib/report.js';
import { alternate, median } from './lib/rounds.js';
import type { RunningServer } from './lib/server.js';
import { assertWeftBuilt, startWeft } from './lib/weft.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const DEFAULT_DURATION_SEC = 10;
const WARMUP_SEC = 1;
const CONNECTIONS = 32;
const FIXED_RATE_RPS = 1000;
const HANDSHAKE_CONCURRENCY = 16;
/** Each comparison alternates its runs this many times; medians are compared. */
const ROUNDS = 3;
const TARGETS = { keptAliveRatio: 0.7, addedP99Ms: 0.6 } as const;
/** Four weft processes start on a machine other benchmarks may share. */
const LISTEN_TIMEOUT_MS = 60_000;

const ms = (value: number) => value.toFixed(3);

interface Pair {
  client: RunningServer;
  server: RunningServer;
}

/** The two sidecars, plaintext (same listeners and clusters, no transport sockets) or mTLS. */
async function startPair(label: string, upstreamPort: number, pki: SidecarPki | undefined): Promise<Pair> {
  const server = await startWeft(`${label}-server`, 1, (ports) => JSON.stringify(pki !== undefined
    ? serverSidecar(ports.admin, ports.listener, upstreamPort, pki)
    : bootstrap(ports.admin, { listeners: [listener('inbound', ports.listener, [{ filters: [hcmFilter('app', 'inbound')] }])], clusters: [staticCluster('app', upstreamPort)] })), LISTEN_TIMEOUT_MS);
  const client = await startWeft(`${label}-client`, 1, (ports) => JSON.stringify(pki !== undefined
    ? clientSidecar(ports.admin, ports.listener, server.port, pki)
    : bootstrap(ports.admin, { listeners: [listener('outbound', ports.listener, [{ filters: [hcmFilter('server', 'outbound')] }])], clusters: [staticCluster('server', server.port)] })), LISTEN_TIMEOUT_MS);
  return { client, server };
}

async function wrk(server: RunningServer, durationSec: number, round: number): Promise<WrkResult> {
  const url = `http://${LOOPBACK}:${server.port}/`;
  await runWrk({ url, threads: 1, connections: CONNECTIONS, durationSec: WARMUP_SEC });
  console.error(`bench: wrk ${durationSec} s -> ${server.name} (round ${round} of ${ROUNDS})`);
  return runWrk({ url, threads: 1, connections: CONNECTIONS, durationSec });
}

function fixedRate(server: RunningServer, durationSec: number, round: number): Promise<FixedRateResult> {
  console.error(`bench: ${FIXED_RATE_RPS} rps for ${durationSec} s -> ${server.name} (round ${round} of ${ROUNDS})`);
  return runFixedRate({ host: LOOPBACK, port: server.port, paths: ['/'], ratePerSec: FIXED_RATE_RPS, durationMs: durationSec * 1000, connections: CONNECTIONS, warmupMs: WARMUP_SEC * 1000 });
}

/** New mTLS connections (full handshake + one request each) against the server sidecar, from this process. */
async function handshakes(server: RunningServer, pki: SidecarPki, durationSec: number): Promise<{ perSec: number; perCpuSec: number; errors: number }> {
  const request = `GET / HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n`;
  const secureContext = tls.createSecureContext({ cert: pki.client.certPem, key: pki.client.keyPem, ca: pki.caBundle });
  const deadline = Date.now() + durationSec * 1000;
  const cpuBefore = cpuSeconds(server.process.pid);
  let done = 0;
  let errors = 0;
  const one = async (): Promise<void> => {
    const socket = tls.connect({ host: LOOPBACK, port: server.port, secureContext, servername: 'localhost', checkServerIdentity: () => undefined, session: undefined });
    socket.on('error', () => undefined);
    try {
      await once(socket, 'secureConnect');
      // write, not end: a half-close before the response reads as the client going away (Envoy's
      // HTTP connections do not half-close either), and `connection: close` lets the server close.
      socket.write(request);
      let response = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (response += chunk));
      await once(socket, 'close');
      if (response.startsWith('HTTP/1.1 200')) done++;
      else errors++;
    } catch {
      errors++;
      socket.destroy();
    }
  };
  console.error(`bench: new mTLS connections for ${durationSec} s -> ${server.name}`);
  const started = Date.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, async () => {
    while (Date.now() < deadline) await one();
  }));
  const seconds = (Date.now() - started) / 1000;
  const cpu = cpuSeconds(server.process.pid) - cpuBefore;
  return { perSec: done / seconds, perCpuSec: cpu > 0 ? done / cpu : 0, errors };
}

async function run(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { duration: { type: 'string', default: String(DEFAULT_DURATION_SEC) }, 'no-append': { type: 'boolean', default: false } } });
  const durationSec = Number(values.duration);
  if (!Number.isInteger(durationSec) || durationSec <= 0) throw new Error(`--duration must be a positive whole number of seconds, got ${values.duration}`);
  assertWeftBuilt();
  const startedAt = new Date();
  const ca = await createTestCa('Bench Mesh Root');
  const pki: SidecarPki = {
    caBundle: ca.certPem,
    server: await ca.issue({ spiffeId: spiffe('server'), dnsNames: ['localhost'] }),
    client: await ca.issue({ spiffeId: spiffe('client') }),
  };
  const servers: RunningServer[] = [];
  const notes: string[] = [];
  try {
    const upstream = await startNginxUpstream();
    servers.push(upstream);
    const plain = await startPair('weft-plain', upstream.port, undefined);
    const mtls = await startPair('weft-mtls', upstream.port, pki);
    servers.push(plain.client, plain.server, mtls.client, mtls.server);

    const wrkRuns = await alternate(ROUNDS, [
      ['plaintext', (round) => wrk(plain.client, durationSec, round)],
      ['mTLS', (round) => wrk(mtls.client, durationSec, round)],
    ]);
    const fixedRuns = await alternate(ROUNDS, [
      ['direct', (round) => fixedRate(upstream, durationSec, round)],
      ['plaintext', (round) => fixedRate(plain.client, durationSec, round)],
      ['mTLS', (round) => fixedRate(mtls.client, durationSec, round)],
    ]);
    const newConnections = await handshakes(mtls.server, pki, durationSec);
    const byRps = (r: WrkResult) => r.requestsPerSec;
    const byP99 = (r: FixedRateResult) => r.latencyMs.p99;
    const plainWrk = median(wrkRuns.get('plaintext')!, byRps);
    const mtlsWrk = median(wrkRuns.get('mTLS')!, byRps);
    const direct = median(fixedRuns.get('direct')!, byP99);
    const plainFixed = median(fixedRuns.get('plaintext')!, byP99);
    const mtlsFixed = median(fixedRuns.get('mTLS')!, byP99);

    for (const [name, runs] of fixedRuns) {
      for (const r of runs) {
        if (r.generatorLagP99Ms > 5) notes.push(`load generator lag p99 ${ms(r.generatorLagP99Ms)} ms on a ${name} run (the machine may be overloaded)`);
        if (r.errors > 0) notes.push(`${r.errors} errors on a ${name} fixed-rate run`);
      }
    }
    if ([...wrkRuns.values()].flat().some((r) => r.socketErrors + r.badResponses > 0)) notes.push('wrk saw errors: throughput numbers are suspect');
    if (newConnections.errors > 0) notes.push(`${newConnections.errors} failed new mTLS connections`);

    const byRound = <T>(runs: Map<string, T[]>, value: (run: T) => string) =>
      Array.from({ length: ROUNDS }, (_, i) => [...runs.values()].map((list) => value(list[i]!)).join(' / ')).join(', ');
    const ratio = mtlsWrk.requestsPerSec / plainWrk.requestsPerSec;
    const addedP99 = mtlsFixed.latencyMs.p99 - direct.latencyMs.p99;
    const section = [
      ...(await sectionHeader('mtls', startedAt, durationSec !== DEFAULT_DURATION_SEC, [['wrk', ['-v']]])),
      '',
      `Path: load -> client sidecar (plaintext in) -> server sidecar -> nginx, each sidecar one worker; mTLS = ECDSA P-256 certificates, ` +
        `TLS 1.3, client certificate required, SPIFFE ID checked on both sides. wrk 1 thread, ${CONNECTIONS} kept-alive connections, ${durationSec} s; ` +
        `open loop at ${FIXED_RATE_RPS} rps, coordinated-omission corrected; new connections: ${HANDSHAKE_CONCURRENCY} concurrent clients, one request per connection. ` +
        `wrk and fixed-rate runs alternate over ${ROUNDS} rounds and the median runs are shown (wrk rps by round, plaintext / mTLS: ${byRound(wrkRuns, (r) => String(Math.round(r.requestsPerSec)))}; ` +
        `fixed-rate p99 by round, direct / plaintext / mTLS: ${byRound(fixedRuns, (r) => ms(r.latencyMs.p99))} ms).`,
      '',
      markdownTable(['run', 'rps', 'p50 ms', 'p99 ms', 'errors'], [
        ['plaintext sidecars (wrk, median)', Math.round(plainWrk.requestsPerSec).toString(), ms(plainWrk.latencyMs.p50), ms(plainWrk.latencyMs.p99), String(plainWrk.socketErrors + plainWrk.badResponses)],
        ['mTLS sidecars (wrk, median)', Math.round(mtlsWrk.requestsPerSec).toString(), ms(mtlsWrk.latencyMs.p50), ms(mtlsWrk.latencyMs.p99), String(mtlsWrk.socketErrors + mtlsWrk.badResponses)],
        [`nginx direct (${FIXED_RATE_RPS} rps, median)`, Math.round(direct.achievedRps).toString(), ms(direct.latencyMs.p50), ms(direct.latencyMs.p99), String(direct.errors)],
        [`plaintext sidecars (${FIXED_RATE_RPS} rps, median)`, Math.round(plainFixed.achievedRps).toString(), ms(plainFixed.latencyMs.p50), ms(plainFixed.latencyMs.p99), String(plainFixed.errors)],
        [`mTLS sidecars (${FIXED_RATE_RPS} rps, median)`, Math.round(mtlsFixed.achievedRps).toString(), ms(mtlsFixed.latencyMs.p50), ms(mtlsFixed.latencyMs.p99), String(mtlsFixed.errors)],
        ['new mTLS connections/s (server sidecar)', Math.round(newConnections.perSec).toString(), '-', '-', String(newConnections.errors)],
      ]),
      '',
      markdownTable(['check', 'value', 'target', 'result'], [
        ['kept-alive throughput mTLS / plaintext', `${ratio.toFixed(2)}x`, `>= ${TARGETS.keptAliveRatio}x`, verdict(ratio >= TARGETS.keptAliveRatio)],
        ['new mTLS connections per server CPU-second (per core)', Math.round(newConnections.perCpuSec).toString(), 'reported', '-'],
        [`added p99 at ${FIXED_RATE_RPS} rps, two mTLS hops over nginx direct`, `${ms(addedP99)} ms`, `<= ${TARGETS.addedP99Ms} ms`, verdict(addedP99 <= TARGETS.addedP99Ms)],
        [`added p99 at ${FIXED_RATE_RPS} rps, two plaintext hops (reference)`, `${ms(plainFixed.latencyMs.p99 - direct.latencyMs.p99)} ms`, 'reported', '-'],
      ]),
      ...(notes.length > 0 ? ['', ...notes.map((note) => `- ${note}`)] : []),
    ].join('\n');
    publishSection(section, !values['no-append']);
    return 0;
  } finally {
    await Promise.all(servers.map((server) => server.process.stop()));
  }
}

export const benchmark: Benchmark = {
  description: 'mTLS between two sidecars: kept-alive throughput vs plaintext, new handshakes/s, added p99 at 1000 rps',
  run,
};
