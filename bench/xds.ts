/**
 * Control plane at scale: `weft controlplane` serving N simulated sidecars
 * (real SotW ADS streams over gRPC, from worker processes) for a mesh of M
 * services with two workloads each.
 *
 *   npm run bench -- xds [--clients 2000] [--services 1000] [--changes 20] [--workers 4]
 *                        [--scoping scoped|all] [--cpu-prof DIR] [--no-append]
 *
 * `--scoping scoped` (default): each workload declares reachableServices (a
 * handful of services, mesh-fixture.ts); `--scoping all`: none, every sidecar
 * holds every service (the worst case).
 *
 * Measures the time until every client has a full config (ACKed LDS, RDS, CDS
 * and EDS), then for each one-service change applied through the REST API (as
 * `weft apply` does) how long until every client that gets a push has ACKed
 * it, and how many clients get one; the control plane's RSS and CPU seconds
 * throughout.
 */
import { parseArgs } from 'node:util';
import { ApiClient } from '../src/cli/api-client.js';
import { applyOne } from '../src/cli/apply.js';
import { findKind, type KindInfo } from '../src/controlplane/model/kinds.js';
import type { Resource } from '../src/controlplane/model/resource.js';
import { validateResource } from '../src/controlplane/model/validate.js';
import { TYPE_SHORT_NAMES } from '../src/xds/type-urls.js';
import { AdsFleet, type ChangeResult } from './lib/ads-fleet.js';
import type { ReceivedTotals } from './lib/ads-fleet-protocol.js';
import type { Benchmark } from './lib/benchmark.js';
import { startControlPlane, type RunningControlPlane } from './lib/controlplane.js';
import { meshChange, meshResources, REACH, SCOPINGS, sidecarNodes, WORKLOADS_PER_SERVICE, type Scoping } from './lib/mesh-fixture.js';
import { LOOPBACK } from './lib/ports.js';
import { cpuSeconds } from './lib/proc-cpu.js';
import { markdownTable, publishSection, sectionHeader } from './lib/report.js';
import { processTreeRssBytes } from './lib/rss.js';

const DEFAULTS = { clients: 2000, services: 1000, changes: 20, workers: 4, applyConcurrency: 32, quietMs: 2000, scoping: 'scoped' } as const;
const TARGETS = { p99ConvergenceMs: 2000, rssMB: 400 } as const;
const RSS_SAMPLE_MS = 250;
const CONNECT_TIMEOUT_MS = 120_000;
const FULL_CONFIG_TIMEOUT_MS = 600_000;
/** A recomputation for every proxy can take minutes at scale; beyond this the run stops rather than mix up changes. */
const CHANGE_TIMEOUT_MS = 300_000;
/** Lets the control plane finish what a phase started (status passes, deferred pushes) before the next one. */
const SETTLE_MS = 2000;

interface Options {
  clients: number;
  services: number;
  changes: number;
  workers: number;
  applyConcurrency: number;
  quietMs: number;
  scoping: Scoping;
  cpuProfileDir: string | undefined;
  append: boolean;
}

function parseOptions(args: readonly string[]): Options {
  const { values } = parseArgs({
    args: [...args],
    options: {
      clients: { type: 'string', default: String(DEFAULTS.clients) },
      services: { type: 'string', default: String(DEFAULTS.services) },
      changes: { type: 'string', default: String(DEFAULTS.changes) },
      workers: { type: 'string', default: String(DEFAULTS.workers) },
      'apply-concurrency': { type: 'string', default: String(DEFAULTS.applyConcurrency) },
      'quiet-ms': { type: 'string', default: String(DEFAULTS.quietMs) },
      scoping: { type: 'string', default: DEFAULTS.scoping },
      'cpu-prof': { type: 'string' },
      'no-append': { type: 'boolean', default: false },
    },
  });
  const count = (name: string, value: string, min: number) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} must be a whole number >= ${min}, got ${value}`);
    return parsed;
  };
  return {
    clients: count('clients', values.clients, 1),
    services: count('services', values.services, 3),
    changes: count('changes', values.changes, 1),
    workers: count('workers', values.workers, 1),
    applyConcurrency: count('apply-concurrency', values['apply-concurrency'], 1),
    quietMs: count('quiet-ms', values['quiet-ms'], 100),
    scoping: scopingOf(values.scoping),
    cpuProfileDir: values['cpu-prof'],
    append: !values['no-append'],
  };
}

function scopingOf(value: string): Scoping {
  const scoping = SCOPINGS.find((s) => s === value);
  if (scoping === undefined) throw new Error(`--scoping must be one of ${SCOPINGS.join(', ')}, got ${value}`);
  return scoping;
}

/** Peak and latest resident memory of a process, sampled in the background. */
class RssSampler {
  peakBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  sample(): number {
    const bytes = processTreeRssBytes(this.pid);
    this.peakBytes = Math.max(this.peakBytes, bytes);
    return bytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

interface Phase {
  name: string;
  seconds: number;
  cpuSeconds: number;
  rssBytesAtEnd: number;
}

interface ChangeRecord extends ChangeResult {
  description: string;
  watchedType: string;
}

interface Measurements {
  resourceCount: number;
  phases: Phase[];
  fullConfigMs: number[];
  changes: ChangeRecord[];
  peakRssBytes: number;
  received: { afterFullConfig: ReceivedTotals; afterChanges: ReceivedTotals };
  notes: string[];
}

function kindOf(resource: Resource): KindInfo {
  const kind = findKind(resource.kind);
  if (kind === undefined) throw new Error(`fixture uses an unknown kind ${resource.kind}`);
  return kind;
}

/** The document as `weft apply` sends it: validated, defaults applied. */
function admitted(resource: Resource): Resource {
  const result = validateResource(resource);
  if (!result.ok) throw new Error(`fixture ${resource.kind}/${resource.metadata.name} is invalid: ${result.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return result.resource;
}

/** Creates the resources in order, `concurrency` requests at a time, each batch after the previous (services before what refers to them). */
async function createAll(api: ApiClient, resources: readonly Resource[], concurrency: number): Promise<void> {
  for (let start = 0; start < resources.length; start += concurrency) {
    await Promise.all(resources.slice(start, start + concurrency).map((resource) => api.create(kindOf(resource), resource)));
  }
}

async function measure(options: Options, notes: string[]): Promise<Measurements> {
  const controlPlane: RunningControlPlane = await startControlPlane(options.cpuProfileDir === undefined ? {} : { cpuProfileDir: options.cpuProfileDir });
  const pid = controlPlane.process.pid;
  const rss = new RssSampler(pid);
  const phases: Phase[] = [];
  let phaseStartedAt = performance.now();
  let cpuAtPhaseStart = cpuSeconds(pid);
  const endPhase = (name: string) => {
    const cpu = cpuSeconds(pid);
    const now = performance.now();
    phases.push({ name, seconds: (now - phaseStartedAt) / 1000, cpuSeconds: cpu - cpuAtPhaseStart, rssBytesAtEnd: rss.sample() });
    console.error(`bench: ${name}: ${((now - phaseStartedAt) / 1000).toFixed(1)} s, control plane CPU ${(cpu - cpuAtPhaseStart).toFixed(1)} s`);
    phaseStartedAt = now;
    cpuAtPhaseStart = cpu;
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  let fleet: AdsFleet | undefined;
  try {
    const api = new ApiClient(`http://${LOOPBACK}:${controlPlane.apiPort}`, controlPlane.adminToken);
    const resources = meshResources(options.services, options.scoping);
    console.error(`bench: applying ${resources.length} resources (${options.services} services, ${options.services * WORKLOADS_PER_SERVICE} workloads, 1 TrafficSplit)`);
    await createAll(api, resources, options.applyConcurrency);
    endPhase('apply resources');
    await settle();
    endPhase('settle after apply');

    const nodes = sidecarNodes(options.clients, options.services);
    fleet = await AdsFleet.start(`${LOOPBACK}:${controlPlane.xdsPort}`, nodes, options.workers, CONNECT_TIMEOUT_MS);
    endPhase(`connect ${options.clients} channels`);

    console.error(`bench: opening ${options.clients} ADS streams`);
    const full = await fleet.openAll(FULL_CONFIG_TIMEOUT_MS);
    endPhase('first full config');
    const afterFullConfig = await fleet.totals();
    await settle();
    endPhase('settle after full config');

    const changes: ChangeRecord[] = [];
    for (let k = 0; k < options.changes; k++) {
      const change = meshChange(k, options.services, options.scoping);
      const desired = admitted(change.resource);
      const result = await fleet.measureChange(change.watch, () => applyOne(api, kindOf(desired), desired), { quietMs: options.quietMs, timeoutMs: CHANGE_TIMEOUT_MS });
      changes.push({ ...result, description: change.description, watchedType: TYPE_SHORT_NAMES[change.watch.typeUrl] });
      console.error(
        `bench: change ${k + 1}/${options.changes} (${change.description}): ` +
          `${result.convergenceMs === undefined ? 'no push' : `${result.convergenceMs.toFixed(0)} ms`}, ${result.pushedClients}/${result.subscribers} clients`,
      );
      if (result.convergenceMs === undefined) {
        // A late push would be counted for the next change: stop here.
        notes.push(`change ${k + 1} reached no client within ${CHANGE_TIMEOUT_MS / 1000} s; the remaining changes were skipped`);
        break;
      }
    }
    endPhase(`${changes.length} changes (each followed by ${options.quietMs} ms of quiet)`);
    const afterChanges = await fleet.totals();
    return {
      resourceCount: resources.length,
      phases,
      fullConfigMs: full.perClientMs,
      changes,
      peakRssBytes: rss.peakBytes,
      received: { afterFullConfig, afterChanges },
      notes,
    };
  } finally {
    rss.stop();
    await fleet?.close();
    const status = await controlPlane.process.stop('SIGTERM', 30_000);
    if (status.code !== 0) notes.push(`the control plane exited with ${status.code ?? status.signal} on SIGTERM (expected 0)`);
    if (options.cpuProfileDir !== undefined) console.error(`bench: CPU profile written to ${options.cpuProfileDir}`);
  }
}

/** Nearest-rank percentile of ascending values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (value: number) => `${Math.round(value)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const verdict = (passed: boolean) => (passed ? 'PASS' : 'FAIL');

function convergenceTimes(changes: readonly ChangeRecord[]): number[] {
  return changes.map((c) => c.convergenceMs ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
}

function resultsTable(m: Measurements): string {
  const rows: string[][] = [];
  const full = m.fullConfigMs;
  rows.push(['first full config, all clients', ms(full[full.length - 1]!), `per client p50 ${ms(percentile(full, 50))}, p99 ${ms(percentile(full, 99))}`]);
  const byKind = new Map<string, ChangeRecord[]>();
  for (const change of m.changes) byKind.set(change.watchedType, [...(byKind.get(change.watchedType) ?? []), change]);
  const all = convergenceTimes(m.changes);
  rows.push([`change convergence, all ${m.changes.length} changes`, `p50 ${ms(percentile(all, 50))}, p99 ${ms(percentile(all, 99))}`, `max ${ms(all[all.length - 1]!)}`]);
  for (const [type, changes] of byKind) {
    const times = convergenceTimes(changes);
    const applyMs = changes.map((c) => c.applyMs).sort((a, b) => a - b);
    const pushed = changes.map((c) => c.pushedClients);
    const subscribers = changes.map((c) => c.subscribers);
    const types = [...new Set(changes.flatMap((c) => Object.keys(c.pushesByType)))].sort().join(', ') || 'none';
    rows.push([
      `${type} changes (${changes[0]!.description.split(' ')[0]}), ${changes.length}`,
      `p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}`,
      `API answer p50 ${ms(percentile(applyMs, 50))}; pushed to ${Math.min(...pushed)}-${Math.max(...pushed)} clients ` +
        `(subscribers ${Math.min(...subscribers)}-${Math.max(...subscribers)}), types pushed: ${types}`,
    ]);
  }
  const changeBytes = m.received.afterChanges.bytes - m.received.afterFullConfig.bytes;
  const changeResources = m.received.afterChanges.resources - m.received.afterFullConfig.resources;
  rows.push([
    'received by all clients',
    `full config ${mb(m.received.afterFullConfig.bytes)}`,
    `per change ${mb(changeBytes / m.changes.length)} (${Math.round(changeResources / m.changes.length)} resources)`,
  ]);
  rows.push(['control plane RSS', `peak ${mb(m.peakRssBytes)}`, m.phases.map((p) => `${p.name}: ${mb(p.rssBytesAtEnd)}`).join('; ')]);
  const totalCpu = m.phases.reduce((sum, p) => sum + p.cpuSeconds, 0);
  rows.push(['control plane CPU', `${totalCpu.toFixed(1)} s`, m.phases.map((p) => `${p.name}: ${p.cpuSeconds.toFixed(1)} s in ${p.seconds.toFixed(1)} s`).join('; ')]);
  return markdownTable(['measurement', 'value', 'detail'], rows);
}

function checksTable(m: Measurements): string {
  const all = convergenceTimes(m.changes);
  const p99 = percentile(all, 99);
  const rssMB = m.peakRssBytes / 1e6;
  const onlySubscribers = m.changes.every((c) => c.pushedClients <= c.subscribers);
  const onlyChangedType = m.changes.every((c) => Object.keys(c.pushesByType).every((type) => type === c.watchedType));
  const maxPushed = Math.max(...m.changes.map((c) => c.pushedClients));
  return markdownTable(
    ['check', 'value', 'target', 'result'],
    [
      ['p99 change convergence', ms(p99), `<= ${TARGETS.p99ConvergenceMs} ms`, verdict(p99 <= TARGETS.p99ConvergenceMs)],
      ['control plane peak RSS', `${rssMB.toFixed(1)} MB`, `<= ${TARGETS.rssMB} MB`, verdict(rssMB <= TARGETS.rssMB)],
      [
        'one-service change pushes only to its subscribers',
        `up to ${maxPushed} of ${m.changes[0]?.subscribers ?? 0} subscribers`,
        'pushed <= subscribers',
        verdict(onlySubscribers),
      ],
      ['one-service change pushes only the changed type', onlyChangedType ? 'yes' : 'no', 'only EDS / only RDS', verdict(onlyChangedType)],
    ],
  );
}

function findingNotes(m: Measurements, options: Options): string[] {
  const notes: string[] = [];
  const stale = m.changes.filter((c) => c.pushedClients > 0 && c.watchedChanged < c.pushedClients);
  if (stale.length > 0) notes.push(`${stale.length} change(s) pushed clients whose copy of the changed resource did not change`);
  if (options.scoping === 'all') {
    notes.push(
      `unscoped: each sidecar receives every service's cluster over wildcard CDS, subscribes to all of their assignments, and ` +
        `holds the one \`outbound\` RouteConfiguration with every virtual host. So an EDS change reaches all ${options.clients} proxies ` +
        `(one assignment each), and an RDS change re-sends the whole route configuration (every virtual host) to all of them.`,
    );
  } else {
    notes.push(
      `scoped: every sidecar subscribes to a RouteConfiguration named \`outbound\` (so RDS "subscribers" counts all clients), ` +
        `but its content is per scope: only the sidecars that reach the changed service get a push ("pushed to").`,
    );
  }
  if (m.changes.length < 100) notes.push(`p99 over ${m.changes.length} changes is the slowest change or close to it.`);
  return notes;
}

async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  const startedAt = new Date();
  const notes: string[] = [];
  const m = await measure(options, notes);
  notes.push(...findingNotes(m, options));
  const shortened = options.clients !== DEFAULTS.clients || options.services !== DEFAULTS.services || options.changes !== DEFAULTS.changes;
  const scopingText = options.scoping === 'scoped'
    ? `Scoping: each workload declares \`reachableServices\` (the next ${REACH} services), so each sidecar holds ${REACH} services (${REACH + 2} for the sidecars that reach the split's root) and each service is reachable from ${REACH * WORKLOADS_PER_SERVICE} sidecars.`
    : 'Scoping: none (`--scoping all`): every sidecar holds every service, the worst case.';
  const section = [
    ...(await sectionHeader(`xds (scoping ${options.scoping})`, startedAt, shortened)),
    '',
    `Load: \`weft controlplane\` (SQLite store) with ${options.services} services × ${WORKLOADS_PER_SERVICE} workloads ` +
      `(${m.resourceCount} resources, created over the REST API ${options.applyConcurrency} at a time), ` +
      `${options.clients} simulated sidecars (node metadata WORKLOAD/NAMESPACE, one per workload) on their own gRPC connections ` +
      `from ${options.workers} worker processes, state-of-the-world ADS: CDS and LDS wildcard, EDS/RDS for every name received, every response ACKed. ` +
      `${options.changes} one-service changes applied one at a time as \`weft apply\` does (GET, then PUT), alternating a Workload address (EDS) ` +
      `and a TrafficSplit's weights (RDS); a change is timed from the PUT until the last client ACKs a new version, ` +
      `and is over after ${options.quietMs} ms without a new ACK. The clients share the machine's CPUs with the control plane.`,
    '',
    scopingText,
    '',
    resultsTable(m),
    '',
    checksTable(m),
    ...(m.notes.length > 0 ? ['', ...m.notes.map((note) => `- ${note}`)] : []),
  ].join('\n');

  publishSection(section, options.append);
  return 0;
}

export const benchmark: Benchmark = {
  description: 'control plane: N ADS clients, M services; time to full config, change convergence, RSS, CPU',
  run,
};
