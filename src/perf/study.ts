/**
 * `weft perf study`: what each traffic-control function costs. The same
 * constant-rate load runs against the application directly (off-mesh), then
 * through a client and a server sidecar configured by a control plane of the
 * study's own (the bare mesh), then once per function with only that function
 * switched on through the API. Each run records the latency percentiles and
 * the CPU and memory of the application, the sidecars and the control plane,
 * so a function's marginal cost is its run minus the bare mesh's, and the
 * bare mesh against off-mesh gives the MeshMark.
 *
 *   load generator ──> client sidecar (outbound) ──> server sidecar (inbound) ──> application (--url)
 *
 * A function the mesh cannot express (an unknown kind, or a change that alters
 * no proxy's configuration) is reported unavailable with the reason, never
 * measured as if it were on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDENTITIES_PATH } from '../controlplane/api/paths.js';
import { freePort } from '../lib/free-ports.js';
import { cpuSeconds, listeningPid, processTreeRssBytes } from '../lib/process-usage.js';
import { meshMark, type MeshMark, type MeshMarkRun } from './meshmark.js';
import type { LoadResult } from './run.js';

import type { StudyFunction } from './study-functions.js';

export type { StudyFunction } from './study-functions.js';

export interface StudyOptions {
  /** The application, reached directly for the off-mesh run: http://host:port/path. */
  url: string;
  rate: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  functions: readonly StudyFunction[];
  /** Logs, the control plane's store and the sidecars' state. */
  workDir: string;
  /** The application's process, for its CPU and memory; found from the URL's port when it listens on this host. */
  appPid?: number;
  log: (line: string) => void;
  /** Runs one load test (the load generator's runLoad); injected so the study stays independent of how load is made. */
  runLoad: (options: { url: string; rate: number; durationMs: number; warmupMs: number; connections: number; headers: Array<[string, string]> }) => Promise<LoadResult>;
}

/** One component's consumption over a run. */
export interface Usage {
  cpuSeconds: number;
  peakRssBytes: number;
}

export interface StudyRun {
  name: 'off-mesh' | StudyFunction;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** undefined: the application's process is unknown. */
  app: Usage | undefined;
  proxies: Usage;
  controlPlane: Usage;
  result: LoadResult;
}

export interface UnavailableFunction {
  name: StudyFunction;
  unavailable: string;
}

export interface StudyResult {
  offMesh: StudyRun;
  functions: Array<StudyRun | UnavailableFunction>;
  /** Bare mesh against off-mesh; unavailable without the application's process. */
  meshMark: MeshMark | { unavailable: string };
}

const NAMESPACE = 'default';
const TARGET = 'study-target';
const CLIENT = 'study-client';
const SERVICE_PORT = 9080;
const STARTUP_TIMEOUT_MS = 60_000;
const CONVERGE_TIMEOUT_MS = 15_000;
const WEFT = fileURLToPath(new URL('../cli/weft.js', import.meta.url));

/** The sidecars' ports, chosen before anything starts: the Workloads name their inbound ports. */
interface SidecarPorts {
  admin: number;
  outbound: number;
  inbound: number;
}

/** The study's Mesh: the bare mesh's (plaintext, no access log) with `spec` on top. */
function meshDocument(spec: object = {}): object {
  return { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode: 'DISABLED' }, ...spec } };
}

/** The mesh every run shares: the target service, its one workload at the URL (reached through its sidecar), and a client workload. */
function baseDocuments(target: URL, targetSidecar: SidecarPorts): object[] {
  const meta = (kind: string, name: string) => ({ apiVersion: 'mesh.weft.dev/v1alpha1', kind, metadata: { name } });
  return [
    meshDocument(),
    { ...meta('Service', TARGET), spec: { ports: [{ name: 'http', port: SERVICE_PORT, protocol: 'http' }] } },
    { ...meta('Workload', `${TARGET}-1`), spec: { service: TARGET, address: target.hostname, ports: [{ name: 'http', port: Number(target.port || 80) }], inboundPort: targetSidecar.inbound, serviceAccount: TARGET } },
    { ...meta('Service', CLIENT), spec: { ports: [{ name: 'http', port: SERVICE_PORT, protocol: 'http' }] } },
    { ...meta('Workload', `${CLIENT}-1`), spec: { service: CLIENT, address: '127.0.0.1', serviceAccount: CLIENT } },
  ];
}

/** What switches one function on: documents to apply (removed again after its run). */
function functionDocuments(fn: StudyFunction, rate: number): object[] {
  const policy = (name: string, spec: object) => ({
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'TrafficPolicy',
    metadata: { name: `study-${name}` },
    spec: { targetRef: { kind: 'Service', name: TARGET }, ...spec },
  });
  switch (fn) {
    case 'none':
      return [];
    case 'mtls':
      return [meshDocument({ mtls: { mode: 'STRICT' } })];
    case 'retries':
      return [policy('retries', { retries: { attempts: 2, retryOn: ['5xx', 'connect-failure', 'reset'] } })];
    case 'ratelimit':
      // A bucket far above the offered rate: the filter runs on every request and never limits.
      return [policy('ratelimit', { rateLimit: { requestsPerUnit: Math.ceil(rate * 100), unit: 'second' } })];
    case 'fault':
      // Armed but never firing: the cost of evaluating fault injection, not of the faults.
      return [policy('fault', { fault: { abort: { httpStatus: 503, percent: 0 } } })];
    case 'authz':
      return [
        { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'study-all' }, spec: { matches: [{ name: 'all', pathRegex: '.*' }] } },
        {
          apiVersion: 'access.smi-spec.io/v1alpha3',
          kind: 'TrafficTarget',
          metadata: { name: 'study-authz' },
          spec: {
            destination: { kind: 'ServiceAccount', name: TARGET, namespace: NAMESPACE },
            sources: [{ kind: 'ServiceAccount', name: CLIENT, namespace: NAMESPACE }],
            rules: [{ kind: 'HTTPRouteGroup', name: 'study-all', matches: ['all'] }],
          },
        },
      ];
    case 'accesslog':
      // Mesh-wide, as Istio's `accessLogFile: /dev/stdout`: both sidecars write a JSON line per request (into logs/<workload>-sidecar.log).
      return [meshDocument({ accessLog: { backends: [{ stdout: {} }] } })];
  }
}

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<void>;
}

/** The processes of one study, stopped together. */
class StudyProcesses {
  readonly children: Child[] = [];
  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
    const logFd = openSync(join(this.logDir, `${name}.log`), 'a');
    const child = spawn(WEFT, args, { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const entry = { name, process: child, exited };
    this.children.push(entry);
    return entry;
  }

  async run(name: string, args: string[], stdin: string, env: NodeJS.ProcessEnv): Promise<void> {
    const child = spawn(WEFT, args, { stdio: ['pipe', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end(stdin);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${name}: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`);
  }

  async stopAll(): Promise<void> {
    for (const child of [...this.children].reverse()) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
      const killer = setTimeout(() => child.process.kill('SIGKILL'), 10_000);
      await child.exited;
      clearTimeout(killer);
    }
  }
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = STARTUP_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** One GET answered 2xx. node:http, not fetch: fetch may not set Host, which the outbound listener routes on. */
function answersOk(url: string, headers: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpGet(url, { headers, timeout: 2000 }, (res) => {
      res.resume();
      res.once('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

interface TypeState {
  sentVersion: string;
  ackedVersion: string;
  nackError?: { message: string };
}

/** Every proxy's acknowledged versions, or why they are not settled (a type in flight, or a NACK). */
async function proxyVersions(apiUrl: string, headers: Record<string, string>): Promise<{ settled: boolean; key: string; nack?: string }> {
  const response = await fetch(`${apiUrl}/api/proxies`, { headers, signal: AbortSignal.timeout(2000) });
  const { items } = (await response.json()) as { items: Array<{ nodeId: string; types: Record<string, TypeState> }> };
  let settled = items.length === 2;
  const parts: string[] = [];
  for (const proxy of items) {
    for (const [type, state] of Object.entries(proxy.types)) {
      if (state.nackError !== undefined) return { settled: false, key: '', nack: `${proxy.nodeId} rejected ${type}: ${state.nackError.message}` };
      if (state.sentVersion !== state.ackedVersion) settled = false;
      parts.push(`${proxy.nodeId} ${type} ${state.ackedVersion}`);
    }
  }
  return { settled, key: parts.sort().join('\n') };
}

/** Runs the study; every process it starts is stopped before it returns or throws. */
export async function runStudy(options: StudyOptions): Promise<StudyResult> {
  const target = new URL(options.url);
  const appPid = options.appPid ?? (['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname) ? listeningPid(Number(target.port || 80)) : undefined);
  const processes = new StudyProcesses(join(options.workDir, 'logs'));
  try {
    const [xdsPort, apiPort] = [await freePort(), await freePort()];
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const dataDir = join(options.workDir, 'store');
    const controlPlane = processes.start('controlplane', ['controlplane', '--data-dir', dataDir, '--xds-port', String(xdsPort), '--no-xds-tls', '--api-port', String(apiPort)]);
    await waitFor(`the control plane API at ${apiUrl}`, async () => (await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).ok);
    const token = readAdminToken(dataDir);
    const cliEnv = { ...process.env, WEFT_SERVER: apiUrl, ...(token === undefined ? {} : { WEFT_TOKEN: token }) };
    const apiHeaders: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const apply = (docs: object[]) => processes.run('weft apply', ['apply', '-f', '-', '--server', apiUrl], docs.map((d) => JSON.stringify(d)).join('\n---\n'), cliEnv);
    const sidecarPorts = async (): Promise<SidecarPorts> => ({ admin: await freePort(), outbound: await freePort(), inbound: await freePort() });
    const [targetPorts, clientPorts] = [await sidecarPorts(), await sidecarPorts()];
    const baseMesh = baseDocuments(target, targetPorts);
    await apply(baseMesh);
    /** Switches a function off again: its documents deleted, the base Mesh re-applied, the proxies settled. */
    const switchOff = async (documents: object[]): Promise<void> => {
      for (const doc of documents as Array<{ kind: string; metadata: { name: string } }>) {
        if (doc.kind === 'Mesh') continue;
        await processes.run('weft delete', ['delete', doc.kind, doc.metadata.name, '--server', apiUrl], '', cliEnv);
      }
      await apply(baseMesh.slice(0, 1));
      await waitFor('the proxies to settle after switching a function off', async () => {
        const first = await proxyVersions(apiUrl, apiHeaders);
        await new Promise((r) => setTimeout(r, 500));
        const second = await proxyVersions(apiUrl, apiHeaders);
        return first.settled && second.settled && first.key === second.key;
      }, CONVERGE_TIMEOUT_MS);
    };

    const sidecar = async (workload: string, { admin, outbound, inbound }: SidecarPorts) => {
      // The workload's registration token: what its sidecar sends with its CSR when the mtls function asks for certificates.
      const identity = await fetch(`${apiUrl}${IDENTITIES_PATH}/${NAMESPACE}/${workload}?token=true`, { headers: apiHeaders, signal: AbortSignal.timeout(5000) });
      const token = identity.ok ? ((await identity.json()) as { token?: string }).token : undefined;
      const child = processes.start(`${workload}-sidecar`, [
        'proxy', '--workload', workload, '--namespace', NAMESPACE, '--control-plane', `127.0.0.1:${xdsPort}`,
        '--admin-port', String(admin), '--outbound-port', String(outbound), '--inbound-port', String(inbound), '--concurrency', '1', '--drain-timeout', '1',
      ], token === undefined ? process.env : { ...process.env, WEFT_WORKLOAD_TOKEN: token });
      await waitFor(`the ${workload} sidecar`, async () => (await fetch(`http://127.0.0.1:${admin}/ready`, { signal: AbortSignal.timeout(1000) })).ok);
      return { child, outbound };
    };
    const [server, client] = await Promise.all([sidecar(`${TARGET}-1`, targetPorts), sidecar(`${CLIENT}-1`, clientPorts)]);
    const meshUrl = `http://127.0.0.1:${client.outbound}${target.pathname}${target.search}`;
    const meshHeaders: Array<[string, string]> = [['host', `${TARGET}:${SERVICE_PORT}`]];
    await waitFor('the sidecars to take their configuration', async () => (await proxyVersions(apiUrl, apiHeaders)).settled);
    await waitFor(`a 2xx from ${TARGET} through the sidecars`, () => answersOk(meshUrl, Object.fromEntries(meshHeaders)));

    const measure = async (name: StudyRun['name'], url: string, headers: Array<[string, string]>): Promise<StudyRun> => {
      options.log(`${name}: ${options.rate} rps for ${options.durationMs / 1000} s`);
      // Warm-up as a run of its own, so the CPU counted below is the measured window's alone.
      if (options.warmupMs > 0) await options.runLoad({ url, rate: options.rate, durationMs: options.warmupMs, warmupMs: 0, connections: options.connections, headers });
      const pids = { app: appPid, proxies: [server.child.process.pid!, client.child.process.pid!], controlPlane: controlPlane.process.pid! };
      const cpuBefore = { app: appPid === undefined ? 0 : cpuSeconds(appPid), proxies: sum(pids.proxies.map(cpuSeconds)), controlPlane: cpuSeconds(pids.controlPlane) };
      const peak = { app: 0, proxies: 0, controlPlane: 0 };
      const sample = (): void => {
        if (appPid !== undefined) peak.app = Math.max(peak.app, processTreeRssBytes(appPid));
        peak.proxies = Math.max(peak.proxies, sum(pids.proxies.map(processTreeRssBytes)));
        peak.controlPlane = Math.max(peak.controlPlane, processTreeRssBytes(pids.controlPlane));
      };
      const sampler = setInterval(sample, 250);
      let result: LoadResult;
      try {
        result = await options.runLoad({ url, rate: options.rate, durationMs: options.durationMs, warmupMs: 0, connections: options.connections, headers });
      } finally {
        clearInterval(sampler);
      }
      sample();
      const errors = sum(Object.values(result.errors)) + sum(Object.entries(result.statusCodes).filter(([code]) => !code.startsWith('2')).map(([, n]) => n));
      return {
        name,
        qps: result.achievedRps,
        p50Ms: result.latencyMs.p50,
        p99Ms: result.latencyMs.p99,
        requests: result.requests.completed,
        errors,
        app: appPid === undefined ? undefined : { cpuSeconds: cpuSeconds(appPid) - cpuBefore.app, peakRssBytes: peak.app },
        proxies: { cpuSeconds: sum(pids.proxies.map(cpuSeconds)) - cpuBefore.proxies, peakRssBytes: peak.proxies },
        controlPlane: { cpuSeconds: cpuSeconds(pids.controlPlane) - cpuBefore.controlPlane, peakRssBytes: peak.controlPlane },
        result,
      };
    };

    const offMesh = await measure('off-mesh', options.url, []);
    const functions: StudyResult['functions'] = [];
    for (const fn of options.functions) {
      const documents = functionDocuments(fn, options.rate);
      if (documents.length > 0) {
        const before = await proxyVersions(apiUrl, apiHeaders);
        try {
          await apply(documents);
        } catch (err) {
          functions.push({ name: fn, unavailable: `the control plane refused it: ${(err as Error).message}` });
          continue;
        }
        const notSwitched = await waitForChange(apiUrl, apiHeaders, before.key);
        if (notSwitched !== undefined) {
          functions.push({ name: fn, unavailable: notSwitched });
          await switchOff(documents);
          continue;
        }
      }
      functions.push(await measure(fn, meshUrl, meshHeaders));
      if (documents.length > 0) await switchOff(documents);
    }
    const bare = functions.find((run): run is StudyRun => run.name === 'none' && 'qps' in run);
    return { offMesh, functions, meshMark: studyMeshMark(offMesh, bare, options) };
  } finally {
    await processes.stopAll();
  }
}

/** Waits until the proxies run a configuration other than `beforeKey`; returns why not, or undefined when they do. */
async function waitForChange(apiUrl: string, headers: Record<string, string>, beforeKey: string): Promise<string | undefined> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = await proxyVersions(apiUrl, headers).catch(() => undefined);
    if (now?.nack !== undefined) return `a proxy rejected it: ${now.nack}`;
    if (now?.settled && now.key !== beforeKey) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
  return `applying it changed no proxy's configuration within ${CONVERGE_TIMEOUT_MS / 1000} s (the mesh does not translate it yet)`;
}

/** The MeshMark of the bare mesh against off-mesh: CPU assigned is one core per component for the run, memory the host's. */
function studyMeshMark(offMesh: StudyRun, bare: StudyRun | undefined, options: StudyOptions): StudyResult['meshMark'] {
  if (bare === undefined) return { unavailable: 'the study did not run the bare mesh (function none)' };
  if (offMesh.app === undefined || bare.app === undefined) return { unavailable: 'the application process is unknown (give --app-pid, or a URL on this host)' };
  const seconds = options.durationMs / 1000;
  // Same assignment on both sides (cancels in the efficiency ratio; it sets MUE's scale): app, two sidecars and the control plane, a core each.
  const assigned = { cpu: 4 * seconds, memory: totalmem() };
  const run = (r: StudyRun, meshUsage: Usage[]): MeshMarkRun => ({
    qps: r.qps,
    p99Ms: r.p99Ms,
    consumption: {
      cpu: { used: r.app!.cpuSeconds + sum(meshUsage.map((u) => u.cpuSeconds)), assigned: assigned.cpu },
      memory: { used: r.app!.peakRssBytes + sum(meshUsage.map((u) => u.peakRssBytes)), assigned: assigned.memory },
    },
  });
  return meshMark(run(offMesh, []), run(bare, [bare.proxies, bare.controlPlane]));
}

function readAdminToken(dataDir: string): string | undefined {
  for (const file of [join(dataDir, 'admin-token'), join(dataDir, '..', 'admin-token')]) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      // not written: the control plane has no API tokens, or keeps it elsewhere
    }
  }
  return undefined;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** The study as a table: each run's latency, its change against the bare mesh and off-mesh, and the sidecars' CPU per 1000 requests. */
export function formatStudy(study: StudyResult): string {
  const bare = study.functions.find((run): run is StudyRun => run.name === 'none' && 'qps' in run);
  const rows: string[][] = [];
  const ms = (n: number) => `${n.toFixed(3)}`;
  const delta = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
  const cpuPer1k = (run: StudyRun) => (run.requests === 0 ? '-' : ((1e6 * (run.proxies.cpuSeconds + run.controlPlane.cpuSeconds)) / run.requests).toFixed(1));
  for (const run of [study.offMesh, ...study.functions]) {
    if (!('qps' in run)) {
      rows.push([run.name, 'unavailable', '', '', '', '', '', '', run.unavailable]);
      continue;
    }
    rows.push([
      run.name,
      run.qps.toFixed(1),
      ms(run.p50Ms),
      ms(run.p99Ms),
      bare === undefined || run.name === 'off-mesh' ? '-' : delta(run.p99Ms - bare.p99Ms),
      run.name === 'off-mesh' ? '-' : delta(run.p99Ms - study.offMesh.p99Ms),
      run.name === 'off-mesh' ? '-' : cpuPer1k(run),
      String(run.errors),
      '',
    ]);
  }
  const headers = ['FUNCTION', 'QPS', 'P50 MS', 'P99 MS', 'ΔP99 VS MESH', 'ΔP99 VS OFF-MESH', 'MESH CPU MS/1K REQ', 'ERRORS', 'NOTE'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const mark = study.meshMark;
  const markLines =
    'unavailable' in mark
      ? [`MeshMark: unavailable: ${mark.unavailable}`]
      : [
          `MeshMark ${mark.score.toFixed(1)} / 100 (bare mesh vs off-mesh)`,
          `  latency factor min(1, p99 off-mesh ${mark.baseline.p99Ms.toFixed(3)} ms / mesh ${mark.mesh.p99Ms.toFixed(3)} ms) = ${Math.min(1, mark.latencyFactor).toFixed(3)}`,
          ...(['cpu', 'memory'] as const).map(
            (c) => `  ${c}: MUE off-mesh ${mark.classes[c].mueBaseline.toFixed(4)}, mesh ${mark.classes[c].mueMesh.toFixed(4)}; efficiency ${mark.classes[c].efficiency.toFixed(3)} (QPS ${mark.baseline.qps.toFixed(1)} -> ${mark.mesh.qps.toFixed(1)})`,
          ),
        ];
  return `${[line(headers), ...rows.map(line)].join('\n')}\n\n${markLines.join('\n')}\n`;
}
