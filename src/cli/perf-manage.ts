/**
 * The stored side of `weft perf`: saved profiles (`weft perf profile
 * create|list`), stored results (`weft perf results`) and `weft perf compare
 * A B`. Profiles and results are PerformanceProfile / PerformanceResult
 * resources in the control plane's API.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { PerformanceProfileSpec } from '../controlplane/model/performance-profile.js';
import type { Resource } from '../controlplane/model/resource.js';
import { STUDY_FUNCTIONS, type StudyFunction } from '../perf/study-functions.js';
import { runLoadInteractively } from './load-run.js';
import { loadRunExitCode } from './perf-exit.js';
import { ApiClient, resolveKind, withServerOptions, type ServerOptions } from './api-client.js';
import { formatAge, formatTable } from './table.js';
import { nonNegativeNumber, numberFlag, positiveNumber } from './flags.js';

export function registerPerfManagementCommands(perf: Command): void {
  registerProfileCommands(perf.command('profile').description('saved load tests (PerformanceProfile resources)'));
  registerResultsCommand(perf);
  registerCompareCommand(perf);
  registerStudyCommand(perf);
}

interface ProfileFlags {
  url: string;
  rate?: number;
  max?: boolean;
  duration?: string;
  warmup?: string;
  connections?: number;
  threads?: number;
  method?: string;
  header: string[];
  bodySize?: number;
  protocol?: string;
  tolerance?: number;
}

function registerProfileCommands(profile: Command): void {
  withServerOptions(
    profile
      .command('create')
      .description('save a load test under a name (the flags of weft perf run)')
      .argument('<name>', 'profile name')
      .requiredOption('--url <url>', 'endpoint under load')
      .option('--rate <rps>', 'open-loop requests per second', positiveNumber)
      .option('--max', 'closed loop, as fast as possible')
      .option('--duration <d>', 'measured time, e.g. 30s')
      .option('--warmup <d>', 'unmeasured load first, e.g. 5s')
      .option('--connections <n>', 'concurrent connections', positiveInt)
      .option('--threads <n>', 'worker threads', positiveInt)
      .option('--method <m>', 'HTTP method')
      .option('--header <k:v>', 'request header (repeatable)', collect, [])
      .option('--body-size <bytes>', 'request body size', nonNegativeInt)
      .addOption(new Option('--protocol <p>', 'protocol').choices(['http1', 'http2', 'grpc']))
      .option('--tolerance <percent>', 'drift weft perf compare accepts', nonNegativeNumber),
  ).action(async (name: string, flags: ProfileFlags & ServerOptions) => {
    const kind = await resolveKind('PerformanceProfile');
    const spec = {
      url: flags.url,
      rate: flags.rate,
      max: flags.max,
      duration: flags.duration,
      warmup: flags.warmup,
      connections: flags.connections,
      threads: flags.threads,
      method: flags.method,
      headers: flags.header.length === 0 ? undefined : parseHeaders(flags.header),
      bodySize: flags.bodySize,
      protocol: flags.protocol,
      tolerancePercent: flags.tolerance,
    };
    const resource = { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace: flags.namespace }, spec: withoutUndefined(spec) };
    await new ApiClient(flags.server, flags.token).create(kind, resource as Resource);
    process.stdout.write(`performanceprofile/${name} created\n`);
  });

  withServerOptions(
    profile
      .command('run')
      .description('run a saved profile and store its result as a PerformanceResult')
      .argument('<name>', 'profile name')
      .option('--no-progress', 'no progress bar or progress lines'),
  ).action(async (name: string, opts: ServerOptions & { progress: boolean }) => {
    process.exitCode = await runProfile(name, opts);
  });

  withServerOptions(profile.command('list').description('list saved profiles')).action(async (opts: ServerOptions) => {
    const kind = await resolveKind('PerformanceProfile');
    const list = await new ApiClient(opts.server, opts.token).list(kind, opts.namespace);
    const now = Date.now();
    process.stdout.write(
      formatTable(
        ['NAME', 'URL', 'LOAD', 'DURATION', 'AGE'],
        list.items.map((p) => {
          const spec = p.spec as { url: string; rate?: number; max?: boolean; duration?: string };
          return [p.metadata.name, spec.url, spec.max === true ? 'max' : `${spec.rate} rps`, spec.duration ?? '30s', formatAge(p.metadata.creationTimestamp, now)];
        }),
      ),
    );
  });
}

/** Runs profile `name` and stores the result; the exit code is `weft perf run`'s (perf-exit.ts). */
async function runProfile(name: string, opts: ServerOptions & { progress: boolean }): Promise<number> {
  const client = new ApiClient(opts.server, opts.token);
  const profileKind = await resolveKind('PerformanceProfile');
  const stored = await client.get(profileKind, opts.namespace, name);
  if (stored === undefined) throw new Error(`PerformanceProfile ${opts.namespace}/${name} not found`);
  const [{ loadOptionsFromProfile, resultName }, { toSmpResult }, { LoadOptionError }] = await Promise.all([
    import('../perf/profile.js'),
    import('../perf/smp.js'),
    import('../perf/options.js'),
  ]);
  let options;
  try {
    options = loadOptionsFromProfile(stored.spec as PerformanceProfileSpec);
  } catch (err) {
    if (err instanceof LoadOptionError) throw new Error(`PerformanceProfile ${name}: ${err.message}`);
    throw err;
  }
  const result = await runLoadInteractively(options, opts.progress);
  const resultKind = await resolveKind('PerformanceResult');
  const resource = {
    apiVersion: resultKind.apiVersion,
    kind: resultKind.kind,
    metadata: { name: resultName(name, result.startTime), namespace: opts.namespace, labels: { 'weft.dev/profile': name } },
    spec: { profile: name, partial: result.partial, smp: toSmpResult(result, { name }) },
  };
  await client.create(resultKind, resource as unknown as Resource);
  process.stdout.write(`performanceresult/${resource.metadata.name} stored\n`);
  return loadRunExitCode(result);
}

interface StoredResultSpec {
  profile?: string;
  partial?: boolean;
  smp: Record<string, unknown>;
}

function registerResultsCommand(perf: Command): void {
  withServerOptions(
    perf
      .command('results')
      .description('list stored results (PerformanceResult resources), newest first')
      .option('--profile <name>', 'only the results of this profile')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table')),
  ).action(async (opts: ServerOptions & { profile?: string; output: 'table' | 'json' }) => {
    const { summarizeSmp } = await import('../perf/compare.js');
    const kind = await resolveKind('PerformanceResult');
    const list = await new ApiClient(opts.server, opts.token).list(kind, opts.namespace);
    const items = list.items
      .filter((r) => opts.profile === undefined || (r.spec as StoredResultSpec).profile === opts.profile)
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''));
    if (opts.output === 'json') {
      process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      return;
    }
    const now = Date.now();
    const rows = items.map((r) => {
      const spec = r.spec as StoredResultSpec;
      const summary = summarizeSmp(spec.smp, `PerformanceResult ${r.metadata.name}`);
      return [
        r.metadata.name,
        spec.profile ?? '-',
        summary.qps.toFixed(1),
        formatMs(summary.latencyMs['p50']),
        formatMs(summary.latencyMs['p99']),
        spec.partial === true ? 'partial' : 'complete',
        formatAge(r.metadata.creationTimestamp, now),
      ];
    });
    process.stdout.write(formatTable(['NAME', 'PROFILE', 'QPS', 'P50', 'P99', 'RUN', 'AGE'], rows));
  });
}

function registerCompareCommand(perf: Command): void {
  withServerOptions(
    perf
      .command('compare')
      .description('compare two results: each percentile and the throughput, with deltas and a verdict')
      .argument('<baseline>', 'stored result name, or an SMP JSON file')
      .argument('<candidate>', 'stored result name, or an SMP JSON file')
      .option('--tolerance <percent>', 'change that still counts as the same', nonNegativeNumber, 5)
      .option('--fail-on-regression', 'exit 1 when the verdict is regression'),
  ).action(async (baselineRef: string, candidateRef: string, opts: ServerOptions & { tolerance: number; failOnRegression?: boolean }) => {
    const { compareRuns, comparisonCaveats, summarizeSmp } = await import('../perf/compare.js');
    const client = new ApiClient(opts.server, opts.token);
    const [baseline, candidate] = await Promise.all([loadSmp(client, opts.namespace, baselineRef), loadSmp(client, opts.namespace, candidateRef)]);
    const comparison = compareRuns(summarizeSmp(baseline, baselineRef), summarizeSmp(candidate, candidateRef), opts.tolerance);
    for (const caveat of comparisonCaveats(baseline, candidate, [baselineRef, candidateRef])) process.stderr.write(`weft perf compare: warning: ${caveat}\n`);
    const rows = comparison.rows.map((row) => {
      const format = row.unit === 'ms' ? (n: number) => `${n.toFixed(3)} ms` : (n: number) => `${n.toFixed(1)} rps`;
      const sign = row.delta >= 0 ? '+' : '';
      const percent = row.deltaPercent === null ? 'n/a' : `${sign}${row.deltaPercent.toFixed(1)}%`;
      return [row.metric, format(row.baseline), format(row.candidate), `${sign}${format(row.delta)}`, percent, row.change];
    });
    process.stdout.write(formatTable(['METRIC', baselineRef.toUpperCase(), candidateRef.toUpperCase(), 'DELTA', 'DELTA %', 'CHANGE'], rows));
    process.stdout.write(`verdict: ${comparison.verdict} (tolerance ±${comparison.tolerancePercent}%)\n`);
    if (comparison.verdict === 'regression' && opts.failOnRegression === true) process.exitCode = 1;
  });
}

interface StudyFlags {
  url: string;
  rate: number;
  duration: string;
  warmup: string;
  connections: number;
  functions: StudyFunction[];
  appPid?: number;
  workDir?: string;
  output?: string;
}

function registerStudyCommand(perf: Command): void {
  perf
    .command('study')
    .description('measure what each traffic-control function costs: the same load off-mesh, through a bare sidecar pair, and with one function on at a time')
    .requiredOption('--url <url>', 'the application, reached directly for the off-mesh run')
    .requiredOption('--rate <rps>', 'constant request rate of every run', positiveNumber)
    .option('--duration <d>', 'measured time of each run', '10s')
    .option('--warmup <d>', 'unmeasured load before each run', '2s')
    .option('--connections <n>', 'connections of the load generator', positiveInt, 8)
    .option('--functions <list>', `comma-separated, from: ${STUDY_FUNCTIONS.join(', ')}`, functionList, [...STUDY_FUNCTIONS])
    .option('--app-pid <pid>', 'the application\'s process, for its CPU and memory (found from the URL\'s port on this host)', positiveInt)
    .option('--work-dir <dir>', 'logs and the study control plane\'s store (default: a new temporary directory)')
    .option('-o, --output <file>', 'write every run (SMP documents) and the MeshMark as JSON')
    .action(async (flags: StudyFlags) => {
      const [{ runStudy, formatStudy }, { runLoad }, { parseDuration }, { toSmpResult }, { mkdtemp, writeFile }, { tmpdir }, { join }] = await Promise.all([
        import('../perf/study.js'),
        import('../perf/run.js'),
        import('../perf/options.js'),
        import('../perf/smp.js'),
        import('node:fs/promises'),
        import('node:os'),
        import('node:path'),
      ]);
      const workDir = flags.workDir ?? (await mkdtemp(join(tmpdir(), 'weft-study-')));
      const functions: StudyFunction[] = flags.functions.includes('none') ? flags.functions : ['none', ...flags.functions];
      const study = await runStudy({
        url: flags.url,
        rate: flags.rate,
        durationMs: parseDuration('duration', flags.duration),
        warmupMs: parseDuration('warmup', flags.warmup),
        connections: flags.connections,
        functions,
        workDir,
        ...(flags.appPid === undefined ? {} : { appPid: flags.appPid }),
        log: (line) => process.stderr.write(`weft perf study: ${line}\n`),
        runLoad,
      });
      process.stdout.write(formatStudy(study));
      process.stderr.write(`weft perf study: logs in ${workDir}/logs\n`);
      if (flags.output !== undefined) {
        const runs = [study.offMesh, ...study.functions].map((run) =>
          'result' in run ? { name: run.name, app: run.app, proxies: run.proxies, controlPlane: run.controlPlane, smp: toSmpResult(run.result, { name: `study ${run.name}`, labels: { 'weft.dev/function': run.name } }) } : run,
        );
        await writeFile(flags.output, `${JSON.stringify({ runs, meshMark: study.meshMark }, null, 2)}\n`);
      }
    });
}

function functionList(value: string): StudyFunction[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !(STUDY_FUNCTIONS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new InvalidArgumentError(`unknown function(s) ${unknown.join(', ') || '(none given)'}; known: ${STUDY_FUNCTIONS.join(', ')}`);
  return names as StudyFunction[];
}

/** An SMP document from a file (a path with a `.json` suffix or a `/`) or a stored PerformanceResult. */
async function loadSmp(client: ApiClient, namespace: string, ref: string): Promise<Record<string, unknown>> {
  if (ref.endsWith('.json') || ref.includes('/')) {
    let text: string;
    try {
      text = await readFile(ref, 'utf8');
    } catch (err) {
      throw new Error(`cannot read ${ref}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error(`${ref} is not JSON`);
    }
  }
  const kind = await resolveKind('PerformanceResult');
  const stored = await client.get(kind, namespace, ref);
  if (stored === undefined) throw new Error(`PerformanceResult ${namespace}/${ref} not found (a file path needs a .json suffix or a /)`);
  return (stored.spec as StoredResultSpec).smp;
}

function formatMs(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(2)}ms`;
}

function parseHeaders(values: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    if (colon <= 0) throw new InvalidArgumentError(`header "${value}" is not name:value`);
    headers[value.slice(0, colon).trim()] = value.slice(colon + 1).trim();
  }
  return headers;
}

function withoutUndefined(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const positiveInt = numberFlag((n) => Number.isInteger(n) && n >= 1, 'a positive integer');
const nonNegativeInt = numberFlag((n) => Number.isInteger(n) && n >= 0, 'an integer ≥ 0');
