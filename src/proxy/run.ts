/**
 * Runs the proxy as one process (`--concurrency 1`) or as a primary with N
 * worker processes sharing the listening sockets (node:cluster, each worker
 * accepting on the shared socket itself: SCHED_NONE, no hand-off through the
 * primary).
 *
 * In multi-process mode the primary validates the config, serves the admin
 * endpoints, and merges the workers' stats (pushed every second, so /stats lags
 * by at most that); it forwards SIGHUP as a reload and SIGTERM as a drain.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../lib/json-log.js';
import { handleShutdownSignals } from '../lib/signals.js';
import { startAdminServer, type AdminHooks, type ServerState } from './admin/server.js';
import { loadBootstrapIsolated } from './config/load-isolated.js';
import { createStatsStore, type StatsSnapshot } from './observe/stats-store.js';
import { ProxyServer } from './server.js';

export interface RunProxyOptions {
  configPath: string;
  concurrency: number;
  drainTimeoutMs: number;
  log: Logger;
}

/** Worker -> primary, every REPORT_INTERVAL_MS and once when live. */
interface WorkerReport {
  type: 'weft:report';
  live: boolean;
  stats: StatsSnapshot;
  configDump: unknown;
  clustersText: string;
  clustersJson: unknown;
  certs: unknown;
}

type PrimaryCommand = { type: 'weft:reload' } | { type: 'weft:drain' };

const REPORT_INTERVAL_MS = 1000;

export async function runProxy(options: RunProxyOptions): Promise<void> {
  if (cluster.isWorker) return runWorker(options);
  if (options.concurrency <= 1) return runSingle(options);
  return runPrimary(options);
}

async function runSingle(options: RunProxyOptions): Promise<void> {
  const server = await ProxyServer.start({ ...options, serveAdmin: true, sharedListeners: false });
  handleShutdownSignals(options.log, () => server.stop(), () => void server.reload());
}

async function runWorker(options: RunProxyOptions): Promise<void> {
  const server = await ProxyServer.start({ ...options, serveAdmin: false, sharedListeners: true });
  const report = (): void => {
    const message: WorkerReport = {
      type: 'weft:report',
      live: true,
      stats: server.stats.snapshot(),
      configDump: server.configDump(),
      clustersText: server.clustersDump('text') as string,
      clustersJson: server.clustersDump('json'),
      certs: server.certsDump(),
    };
    process.send?.(message);
  };
  report();
  const timer = setInterval(report, REPORT_INTERVAL_MS);
  timer.unref();
  process.on('message', (message: PrimaryCommand) => {
    if (message.type === 'weft:reload') void server.reload();
    if (message.type === 'weft:drain') void server.stop().then(() => process.exit(0));
  });
  // The primary owns signals; a worker only follows its commands.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}

async function runPrimary(options: RunProxyOptions): Promise<void> {
  const { log } = options;
  // Fail fast, with the field path, before forking anything.
  const bootstrap = await loadBootstrapIsolated(options.configPath);
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const reports = new Map<number, WorkerReport>();
  let state: ServerState = 'INITIALIZING';
  let stopping = false;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerReport) => {
      if (message.type !== 'weft:report') return;
      reports.set(worker.id, message);
      if (state === 'INITIALIZING' && reports.size === options.concurrency) state = 'LIVE';
    });
    worker.on('exit', (code, signal) => {
      reports.delete(worker.id);
      if (stopping) return;
      log.error({ worker: worker.id, code, signal }, 'worker exited; starting a new one');
      fork();
    });
    return worker;
  };
  for (let i = 0; i < options.concurrency; i++) fork();

  const first = (): WorkerReport | undefined => reports.values().next().value;
  const hooks: AdminHooks = {
    stats: () => createStatsStore().merge([...reports.values()].map((r) => r.stats)),
    ready: () => state === 'LIVE',
    state: () => state,
    configDump: () => first()?.configDump ?? { configs: [] },
    clusters: (format) => (format === 'json' ? first()?.clustersJson ?? {} : first()?.clustersText ?? ''),
    certs: () => first()?.certs ?? { certificates: [] },
    drainListeners: async () => broadcast({ type: 'weft:drain' }),
    quit: () => process.kill(process.pid, 'SIGTERM'),
    serverInfo: () => ({ state, workers: options.concurrency, node: bootstrap.node, command_line_options: { config_path: options.configPath, concurrency: options.concurrency } }),
  };
  const admin = bootstrap.admin === undefined ? undefined : await startAdminServer(bootstrap.admin.address, hooks, log);

  function broadcast(command: PrimaryCommand): void {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send(command);
  }

  handleShutdownSignals(
    log,
    async () => {
      stopping = true;
      state = 'DRAINING';
      const exits = Object.values(cluster.workers ?? {}).map((worker) => new Promise<void>((resolve) => worker?.once('exit', () => resolve())));
      broadcast({ type: 'weft:drain' });
      await Promise.all(exits);
      await admin?.close();
    },
    () => broadcast({ type: 'weft:reload' }),
  );
}

