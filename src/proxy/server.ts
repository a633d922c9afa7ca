/**
 * The proxy process: one Bootstrap in, listeners + clusters + admin out.
 *
 * Lifecycle: INITIALIZING (clusters resolve and pass first health checks) ->
 * LIVE -> DRAINING (SIGTERM, /quitquitquit) -> exit. A reload (SIGHUP, a changed
 * config file) validates the new bootstrap fully before touching anything; a bad
 * one is logged, shown on /config_dump, and the running config keeps serving.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type pino from 'pino';
import { DeadlineWheel } from '../lib/timers.js';
import { startAdminServer, type AdminHooks, type AdminServer, type ServerState } from './admin/server.js';
import { loadBootstrapIsolated } from './config/load-isolated.js';
import type { Bootstrap } from './config/types.js';
import { RequestMetrics } from './http1/hcm-context.js';
import { ListenerManager } from './listener/listener-manager.js';
import { closeAllAccessLogs, configureAccessLogs } from './observe/access-log.js';
import { createStatsStore, type StatsSnapshot, type StatsStore } from './observe/stats-store.js';
import { createClusterManager } from './upstream/cluster-manager.js';
import type { ClusterManager } from './upstream/types.js';
import { dumpClustersText } from './admin/clusters-dump.js';

export interface ProxyServerOptions {
  /** The bootstrap file: reloaded on SIGHUP and when it changes. */
  configPath: string;
  log: pino.Logger;
  /** How long SIGTERM waits for in-flight requests before closing what remains. */
  drainTimeoutMs: number;
  /** Workers of a multi-process proxy: the primary serves admin, not the worker. */
  serveAdmin: boolean;
  /** Workers bind shared sockets (node:cluster). */
  sharedListeners: boolean;
  /** Extra stats to merge into /stats (the primary collects its workers'). */
  collectWorkerStats?: () => Promise<StatsSnapshot[]>;
}

interface RejectedConfig {
  error: string;
  rejectedAt: string;
}

export class ProxyServer {
  readonly stats: StatsStore = createStatsStore();
  private readonly wheel = new DeadlineWheel();
  private readonly clusters: ClusterManager;
  private readonly listeners: ListenerManager;
  private admin: AdminServer | undefined;
  private state: ServerState = 'PRE_INITIALIZING';
  private current: { bootstrap: Bootstrap; text: string; digest: string; loadedAt: string } | undefined;
  private rejected: RejectedConfig | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly options: ProxyServerOptions,
    bootstrap: Bootstrap,
  ) {
    configureAccessLogs({ stats: this.stats });
    this.clusters = createClusterManager({ stats: this.stats });
    this.listeners = new ListenerManager({
      store: this.stats,
      clusters: this.clusters,
      wheel: this.wheel,
      node: bootstrap.node,
      metrics: new RequestMetrics(this.stats, bootstrap.node.cluster || bootstrap.node.id || 'unknown'),
      log: options.log,
      exclusive: !options.sharedListeners,
    });
  }

  /** Loads, validates and starts; throws with the field path when the bootstrap is invalid. */
  static async start(options: ProxyServerOptions): Promise<ProxyServer> {
    const text = await readFile(options.configPath, 'utf8');
    const bootstrap = await loadBootstrapIsolated(options.configPath);
    const server = new ProxyServer(options, bootstrap);
    await server.boot(bootstrap, text);
    return server;
  }

  private async boot(bootstrap: Bootstrap, text: string): Promise<void> {
    this.state = 'INITIALIZING';
    if (this.options.serveAdmin && bootstrap.admin !== undefined) {
      this.admin = await startAdminServer(bootstrap.admin.address, this.adminHooks(), this.options.log);
    }
    this.clusters.update(bootstrap.clusters);
    await this.listeners.apply(bootstrap.listeners);
    this.current = { bootstrap, text, digest: digest(text), loadedAt: new Date().toISOString() };
    await this.clusters.ready();
    if (this.state === 'INITIALIZING') this.state = 'LIVE';
    this.watchConfig();
    this.options.log.info({ listeners: this.listeners.dump(), admin: this.admin?.port }, 'proxy live');
  }

  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  listenerPort(name: string): number | undefined {
    return this.listeners.port(name);
  }

  get lastRejected(): RejectedConfig | undefined {
    return this.rejected;
  }

  /** Re-reads the config file; a bad or unchanged file leaves the running config alone. Resolves with whether a new config went live. */
  reload(): Promise<boolean> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async reloadNow(): Promise<boolean> {
    if (this.stopping !== undefined) return false;
    const log = this.options.log;
    let text: string;
    try {
      text = await readFile(this.options.configPath, 'utf8');
    } catch (err) {
      this.reject(`cannot read ${this.options.configPath}: ${(err as Error).message}`);
      return false;
    }
    if (this.current !== undefined && digest(text) === this.current.digest) return false;
    try {
      const bootstrap = await loadBootstrapIsolated(this.options.configPath);
      await this.listeners.apply(bootstrap.listeners);
      this.clusters.update(bootstrap.clusters);
      this.current = { bootstrap, text, digest: digest(text), loadedAt: new Date().toISOString() };
      this.rejected = undefined;
      this.stats.counter('server.config_reload_success').inc();
      log.info({ listeners: this.listeners.dump() }, 'config reloaded');
      return true;
    } catch (err) {
      this.reject((err as Error).message);
      return false;
    }
  }

  private reject(error: string): void {
    this.rejected = { error, rejectedAt: new Date().toISOString() };
    this.stats.counter('server.config_reload_rejected').inc();
    this.options.log.error({ err: error, config: this.options.configPath }, 'config rejected; the previous config keeps serving');
  }

  /** Stops accepting, lets in-flight requests finish (up to the drain timeout), then releases everything. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.state = 'DRAINING';
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
    this.options.log.info({ connections: this.listeners.openConnections() }, 'draining');
    await this.listeners.drain(this.options.drainTimeoutMs);
    await this.clusters.close();
    await closeAllAccessLogs();
    await this.admin?.close();
    this.options.log.info('stopped');
  }

  private watchConfig(): void {
    // Watch the directory: editors and `kubectl`-style writers replace the file by rename.
    const file = basename(this.options.configPath);
    try {
      this.watcher = watch(dirname(this.options.configPath), (_event, name) => {
        if (name !== null && name.toString() !== file) return;
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => void this.reload(), 100);
      });
      this.watcher.unref();
    } catch (err) {
      this.options.log.warn({ err: (err as Error).message }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  // --- admin ------------------------------------------------------------------------

  private adminHooks(): AdminHooks {
    return {
      stats: () => this.stats,
      ready: () => this.state === 'LIVE',
      state: () => this.state,
      configDump: () => this.configDump(),
      clusters: (format: 'text' | 'json') => this.clustersDump(format),
      drainListeners: async () => {
        await this.listeners.drain(this.options.drainTimeoutMs);
      },
      quit: () => {
        process.kill(process.pid, 'SIGTERM');
      },
      serverInfo: () => ({
        version: process.env['npm_package_version'] ?? 'dev',
        state: this.state,
        uptime_current_epoch: `${Math.round((Date.now() - this.startedAt) / 1000)}s`,
        node: this.current?.bootstrap.node,
        command_line_options: { config_path: this.options.configPath },
      }),
    };
  }

  clustersDump(format: 'text' | 'json'): unknown {
    return format === 'json' ? { cluster_statuses: this.clusters.all().map((c) => c.dumpState()) } : dumpClustersText(this.clusters.all());
  }

  configDump(): unknown {
    const current = this.current;
    const configs: unknown[] = [];
    if (current !== undefined) {
      const source = current.bootstrap.source as { static_resources?: { listeners?: unknown[]; clusters?: unknown[] } };
      configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: source, last_updated: current.loadedAt });
      configs.push({
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        static_listeners: (source.static_resources?.listeners ?? []).map((listener) => ({ listener, last_updated: current.loadedAt })),
      });
      configs.push({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        static_clusters: (source.static_resources?.clusters ?? []).map((cluster) => ({ cluster, last_updated: current.loadedAt })),
      });
    }
    if (this.rejected !== undefined) {
      // Envoy reports rejected dynamic config as `error_state`; a rejected file reload has no Envoy slot.
      configs.push({ '@type': 'type.weft.dev/weft.admin.v1.RejectedConfig', error_state: { details: this.rejected.error, last_update_attempt: this.rejected.rejectedAt } });
    }
    return { configs };
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
