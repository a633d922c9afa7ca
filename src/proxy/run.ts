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
import { once } from 'node:events';
import type { Logger } from '../lib/json-log.js';
import { handleShutdownSignals } from '../lib/signals.js';
import { startAdminServer, type AdminHooks, type AdminServer, type ServerState } from './admin/server.js';
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

/**
 * A worker already exiting has closed its channel: the send fails (EPIPE), which must not crash the
 * primary (without a callback it is thrown as an unhandled 'error'); its 'exit' handler covers it.
 */
function send(worker: Worker, command: PrimaryCommand): void {
  worker.send(command, () => undefined);
}

async function runPrimary(options: RunProxyOptions): Promise<void> {
  const { log } = options;
  // Fail fast, with the field path, before forking anything.
  const bootstrap = await loadBootstrapIsolated(options.configPath);
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const reports = new Map<number, WorkerReport>();
  let state: ServerState = 'INITIALIZING';
  let stopping = false;
  let admin: AdminServer | undefined;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerReport) => {
      if (message.type !== 'weft:report') return;
      reports.set(worker.id, message);
      if (state === 'INITIALIZING' && reports.size === options.concurrency) state = 'LIVE';
    });
    worker.on('exit', (code, signal) => {
      const started = reports.delete(worker.id);
      if (stopping) return;
      if (!started) {
        // It failed before serving (a listener that cannot bind, ...): a new one would fail the
        // same way, forever. Stop like Envoy does when it cannot start; the worker printed why.
        log.error({ worker: worker.id, code, signal }, 'worker failed to start; stopping');
        // SIGTERM, not the drain command: a worker still starting listens for commands only once up.
        void stopWorkers((w) => w.process.kill('SIGTERM')).finally(() => process.exit(1));
        return;
      }
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
  admin = bootstrap.admin === undefined ? undefined : await startAdminServer(bootstrap.admin.address, hooks, log);

  function broadcast(command: PrimaryCommand): void {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) send(worker, command);
  }

  /** Tells every worker still alive to stop (`tell`), waits for them all, then closes the admin server. */
  async function stopWorkers(tell: (worker: Worker) => void): Promise<void> {
    stopping = true;
    state = 'DRAINING';
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const exits = alive.map((worker) => once(worker, 'exit'));
    alive.forEach(tell);
    await Promise.all(exits);
    await admin?.close();
  }

  handleShutdownSignals(log, () => stopWorkers((w) => send(w, { type: 'weft:drain' })), () => broadcast({ type: 'weft:reload' }));
}

