/**
 * The proxy process: one Bootstrap in, listeners + clusters + admin out.
 *
 * Lifecycle: INITIALIZING (clusters resolve and pass first health checks) ->
 * LIVE -> DRAINING (SIGTERM, /quitquitquit) -> exit. A reload (SIGHUP, a changed
 * config file) validates the new bootstrap fully before touching anything; a bad
 * one is logged, shown on /config_dump, and the running config keeps serving.
 *
 * With `dynamic_resources` an xDS agent process (xds-client/) fetches listeners,
 * routes, clusters and endpoints over ADS and sends complete configs, applied
 * here exactly like a reload. The proxy turns LIVE on the first one (or after
 * initial_fetch_timeout with its static config) and keeps its last good config
 * while the agent or the control plane is away.
 */
import { certificateLifetime, createLocalIdentity } from './identity/local-identity.js';
import { redactSecrets } from './tls/redact.js';
import { createSecretStore, type SecretStore } from './tls/secret-store.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../lib/json-log.js';
import { DeadlineWheel } from '../lib/timers.js';
import { formatHostPort } from '../lib/address.js';
import { certificatesDump, tlsContextsOf, type CertificatesDump } from './admin/certs.js';
import { startAdminServer, type AdminHooks, type AdminServer, type ServerState } from './admin/server.js';
import { loadBootstrapIsolated, readBootstrapText } from './config/load-isolated.js';
import type { Bootstrap, CommonTlsContextConfig } from './config/types.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../xds/type-urls.js';
import type { DynamicResourcesDump, XdsStatus } from './xds-client/protocol.js';
import { superviseXdsAgent, type XdsAgentSupervisor } from './xds-client/supervisor.js';
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
  log: Logger;
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
  /** Static and SDS secrets; TLS contexts of listeners and clusters watch them. */
  private readonly secrets: SecretStore = createSecretStore();
  private admin: AdminServer | undefined;
  private state: ServerState = 'PRE_INITIALIZING';
  private current: { bootstrap: Bootstrap; text: string; digest: string; loadedAt: string } | undefined;
  /** The TLS contexts of the listeners and clusters last applied (file or xDS), for /certs. */
  private tlsContexts: CommonTlsContextConfig[] = [];
  private rejected: RejectedConfig | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private agent: XdsAgentSupervisor | undefined;
  /** The last config the xDS agent sent and this process applied, and the agent's connection/ACK state. */
  private xds: { dump?: DynamicResourcesDump; appliedAt?: string; status?: XdsStatus } = {};
  private firstXdsConfig: (() => void) | undefined;
  private identityTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly options: ProxyServerOptions,
    bootstrap: Bootstrap,
  ) {
    configureAccessLogs({ stats: this.stats });
    this.clusters = createClusterManager({ stats: this.stats, secrets: this.secrets, onError: (message) => options.log.error(message) });
    this.listeners = new ListenerManager({
      store: this.stats,
      clusters: this.clusters,
      wheel: this.wheel,
      node: bootstrap.node,
      metrics: new RequestMetrics(this.stats, bootstrap.node.cluster || bootstrap.node.id || 'unknown'),
      log: options.log,
      secrets: this.secrets,
      exclusive: !options.sharedListeners,
    });
  }

  /** Loads, validates and starts; throws with the field path when the bootstrap is invalid. */
  static async start(options: ProxyServerOptions): Promise<ProxyServer> {
    const text = await readBootstrapText(options.configPath);
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
    this.secrets.update(bootstrap.secrets);
    this.clusters.update(bootstrap.clusters);
    await this.listeners.apply(bootstrap.listeners);
    this.tlsContexts = tlsContextsOf(bootstrap);
    this.current = { bootstrap, text, digest: digest(text), loadedAt: new Date().toISOString() };
    const xdsWarm = bootstrap.dynamicResources === undefined ? undefined : this.startAgent(bootstrap.dynamicResources.initialFetchTimeoutMs);
    await this.clusters.ready();
    if (xdsWarm === undefined) this.goLive();
    else void xdsWarm.then(() => this.secretsWarm(bootstrap.dynamicResources!.initialFetchTimeoutMs)).then(() => this.goLive());
    this.watchConfig();
    if (ownsKey(bootstrap)) void this.startIdentity(bootstrap);
    this.options.log.info({ listeners: this.listeners.dump(), admin: this.admin?.port }, 'proxy live');
  }

  /**
   * The proxy's own key (node metadata WEFT_LOCAL_KEY): generated here, it completes SDS certificates
   * that come without a key; with an xDS agent, the CSR goes to the control plane's CA, and again at
   * half the certificate's life.
   */
  private async startIdentity(bootstrap: Bootstrap): Promise<void> {
    const spiffeId = bootstrap.node.metadata['WEFT_SPIFFE_ID'];
    const identity = await createLocalIdentity(typeof spiffeId === 'string' ? { spiffeId } : {});
    this.secrets.setLocalKey(identity.privateKeyPem);
    this.options.log.info('proxy key generated (ECDSA P-256; it never leaves this process)');
    let retryMs = 1000;
    const request = async (): Promise<void> => {
      if (this.stopping !== undefined || this.agent === undefined) return;
      let nextMs: number;
      try {
        const { certificateChainPem } = await this.agent.sign(identity.csrPem);
        // An mTLS ADS connection presents this certificate too (the agent process is part of the proxy).
        if (adsPresentsOwnCertificate(bootstrap)) this.agent.provideIdentity(certificateChainPem, identity.privateKeyPem);
        const { notBefore, notAfter } = await certificateLifetime(certificateChainPem);
        this.stats.counter('server.identity.certificate_issued').inc();
        nextMs = Math.max(1000, (notAfter.getTime() - notBefore.getTime()) / 2 - (Date.now() - notBefore.getTime()));
        retryMs = 1000;
        this.options.log.info({ notAfter: notAfter.toISOString(), renewInMs: Math.round(nextMs) }, 'proxy certificate issued');
      } catch (err) {
        this.stats.counter('server.identity.certificate_request_failed').inc();
        nextMs = retryMs;
        retryMs = Math.min(retryMs * 2, 60_000);
        this.options.log.warn({ err: (err as Error).message, retryInMs: nextMs }, 'proxy certificate request failed');
      }
      this.identityTimer = setTimeout(() => void request(), Math.min(nextMs, 2 ** 31 - 1));
      this.identityTimer.unref();
    };
    await request();
  }

  /**
   * Envoy's listener warming: a TLS listener whose certificate comes over SDS is not ready until it has
   * arrived (a sidecar's own certificate follows its CSR), so /ready stays 503 meanwhile, up to the
   * initial fetch timeout. Polled: it is a start-up wait, and secrets arrive over several pushes.
   */
  private async secretsWarm(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.listeners.warming().length > 0 && this.stopping === undefined) {
      if (Date.now() >= deadline) {
        this.options.log.warn({ listeners: this.listeners.warming() }, 'listeners still wait for their TLS secrets; going live without them');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private goLive(): void {
    if (this.state === 'INITIALIZING') this.state = 'LIVE';
  }

  /** Starts the xDS agent; resolves on its first applied config or after `initialFetchTimeoutMs`, whichever comes first. */
  private startAgent(initialFetchTimeoutMs: number): Promise<void> {
    const warm = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, initialFetchTimeoutMs);
      timer.unref();
      this.firstXdsConfig = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.agent = superviseXdsAgent({
      configPath: this.options.configPath,
      ...(this.admin === undefined || this.current === undefined ? {} : { adminAddress: formatHostPort(this.current.bootstrap.admin!.address.address, this.admin.port) }),
      log: this.options.log.child({ component: 'xds' }),
      apply: (bootstrap, dump) => this.applyXdsConfig(bootstrap, dump),
      status: (status) => (this.xds.status = status),
    });
    return warm;
  }

  /** A config from the xDS agent, serialized with file reloads; a failure throws so the agent NACKs. */
  private applyXdsConfig(bootstrap: Bootstrap, dump: DynamicResourcesDump): Promise<void> {
    const run = this.reloading.then(async () => {
      if (this.stopping !== undefined) throw new Error('the proxy is shutting down');
      try {
        // Secrets first: a rotated certificate swaps into the TLS contexts in place; unchanged listeners stay as they are.
        this.secrets.update(bootstrap.secrets);
        await this.listeners.apply(bootstrap.listeners);
      } catch (err) {
        this.stats.counter('server.xds_config_rejected').inc();
        this.options.log.error({ err: (err as Error).message }, 'xDS config could not be applied; the previous config keeps serving');
        throw err;
      }
      this.clusters.update(bootstrap.clusters);
      this.tlsContexts = tlsContextsOf(bootstrap);
      this.xds = { ...this.xds, dump, appliedAt: new Date().toISOString() };
      this.stats.counter('server.xds_config_applied').inc();
      this.options.log.info({ listeners: bootstrap.listeners.length, clusters: bootstrap.clusters.length }, 'xDS config applied');
      this.firstXdsConfig?.();
    });
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The running xDS agent's pid (tests kill it to check the proxy restarts it). */
  get xdsAgentPid(): number | undefined {
    return this.agent?.pid;
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
      if (bootstrap.dynamicResources !== undefined) return this.reloadDynamic(bootstrap, text);
      await this.agent?.stop();
      this.agent = undefined;
      this.xds = {};
      this.secrets.update(bootstrap.secrets);
      await this.listeners.apply(bootstrap.listeners);
      this.clusters.update(bootstrap.clusters);
      this.tlsContexts = tlsContextsOf(bootstrap);
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

  /**
   * A valid bootstrap with dynamic_resources: the (re)started agent reads it and
   * sends a complete config (its static part included); until then the running config serves.
   */
  private reloadDynamic(bootstrap: Bootstrap, text: string): boolean {
    this.current = { bootstrap, text, digest: digest(text), loadedAt: new Date().toISOString() };
    this.rejected = undefined;
    this.stats.counter('server.config_reload_success').inc();
    if (this.agent === undefined) void this.startAgent(bootstrap.dynamicResources!.initialFetchTimeoutMs);
    else this.agent.restart();
    this.options.log.info('config reloaded; the xDS agent restarts with it');
    return true;
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
    clearTimeout(this.identityTimer);
    await this.agent?.stop();
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
      certs: () => this.certsDump(),
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

  certsDump(): CertificatesDump {
    return certificatesDump(this.tlsContexts, this.secrets);
  }

  configDump(): unknown {
    const current = this.current;
    const configs: unknown[] = [];
    if (current !== undefined) {
      // Private keys (inline or in static secrets) are shown as [redacted].
      const source = redactSecrets(current.bootstrap.source) as { static_resources?: { listeners?: unknown[]; clusters?: unknown[]; secrets?: unknown[] } };
      configs.push({ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: source, last_updated: current.loadedAt });
      const dynamic = redactSecrets(this.xds.dump);
      const versions = this.xds.status?.versions ?? {};
      configs.push({
        '@type': 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump',
        version_info: versions[LISTENER_TYPE_URL] ?? '',
        static_listeners: (source.static_resources?.listeners ?? []).map((listener) => ({ listener, last_updated: current.loadedAt })),
        dynamic_listeners: (dynamic?.listeners ?? []).map((l) => ({
          name: l.name,
          active_state: { version_info: l.versionInfo, listener: l.resource, last_updated: l.lastUpdated },
        })),
      });
      configs.push({
        '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump',
        version_info: versions[CLUSTER_TYPE_URL] ?? '',
        static_clusters: (source.static_resources?.clusters ?? []).map((cluster) => ({ cluster, last_updated: current.loadedAt })),
        dynamic_active_clusters: (dynamic?.clusters ?? []).map((c) => ({ version_info: c.versionInfo, cluster: c.resource, last_updated: c.lastUpdated })),
      });
      configs.push({
        '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump',
        static_secrets: (source.static_resources?.secrets ?? []).map((secret) => ({ name: (secret as { name?: string }).name, secret, last_updated: current.loadedAt })),
        dynamic_active_secrets: (dynamic?.secrets ?? []).map((s) => ({ name: s.name, version_info: s.versionInfo, secret: s.resource, last_updated: s.lastUpdated })),
      });
      if (current.bootstrap.dynamicResources !== undefined) configs.push(...this.xdsConfigDump());
    }
    if (this.rejected !== undefined) {
      // Envoy reports rejected dynamic config as `error_state`; a rejected file reload has no Envoy slot.
      configs.push({ '@type': 'type.weft.dev/weft.admin.v1.RejectedConfig', error_state: { details: this.rejected.error, last_update_attempt: this.rejected.rejectedAt } });
    }
    return { configs };
  }

  /** Envoy's route and endpoint dumps for RDS/EDS, and the agent's connection and last NACK. */
  private xdsConfigDump(): unknown[] {
    const { dump, status } = this.xds;
    const xdsStatus: Record<string, unknown> = {
      '@type': 'type.weft.dev/weft.admin.v1.XdsStatus',
      server: status?.server ?? '',
      connected: status?.connected ?? false,
      versions: status?.versions ?? {},
      last_applied: this.xds.appliedAt ?? '',
    };
    if (status?.lastNack !== undefined) {
      const nack = status.lastNack;
      xdsStatus['last_nack'] = { type_url: nack.typeUrl, version_info: nack.versionInfo, details: nack.error, last_update_attempt: nack.at };
    }
    return [
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.RoutesConfigDump',
        dynamic_route_configs: (dump?.routeConfigs ?? []).map((r) => ({ version_info: r.versionInfo, route_config: r.resource, last_updated: r.lastUpdated })),
      },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
        dynamic_endpoint_configs: (dump?.loadAssignments ?? []).map((e) => ({ version_info: e.versionInfo, endpoint_config: e.resource, last_updated: e.lastUpdated })),
      },
      xdsStatus,
    ];
  }
}

/** Weft's extension in the node metadata: the proxy makes and keeps its own private key. */
/** The ADS cluster's TLS names its certificate by SDS: the proxy's own (the control plane's mTLS port). */
function adsPresentsOwnCertificate(bootstrap: Bootstrap): boolean {
  const ads = bootstrap.dynamicResources === undefined ? undefined : bootstrap.clusters.find((c) => c.name === bootstrap.dynamicResources!.adsCluster);
  return ads?.tls?.certificate?.kind === 'sds';
}

function ownsKey(bootstrap: Bootstrap): boolean {
  const flag = bootstrap.node.metadata['WEFT_LOCAL_KEY'];
  return flag === true || flag === 'true';
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
