/**
 * Active health checking for one cluster: one session per host, each probing
 * every `interval` (+ up to `interval_jitter`) on its own unref'd timer, one
 * probe in flight at a time.
 *
 * Transitions follow Envoy: hosts start unhealthy; during startup a single
 * success marks a host healthy; later it takes healthy_threshold successes in a
 * row. unhealthy_threshold network failures in a row mark a healthy host
 * unhealthy; an active failure (wrong HTTP status) does so at once.
 */
import type { HealthCheckConfig } from '../../config/types.js';
import type { ClusterStats } from '../cluster-stats.js';
import type { ManagedHost } from '../host.js';
import { createHttpProbe } from './http-probe.js';
import { plainConnect, type Probe, type ProbeConnect, type ProbeResult } from './probe.js';
import { createTcpProbe } from './tcp-probe.js';

export interface HealthChecker {
  /** Follows the cluster's membership: starts sessions for new hosts, stops them for gone ones. */
  setHosts(hosts: readonly ManagedHost[]): void;
  /** Resolves once every host present has had its first result (immediately with none). */
  firstRound(): Promise<void>;
  close(): void;
}

export interface HealthCheckerOptions {
  clusterName: string;
  stats: ClusterStats;
  random: () => number;
  /**
   * How a probe opens its connection: the cluster's transport socket (TLS for an mTLS cluster), as
   * Envoy health-checks through it; plain TCP when absent.
   */
  connect?: ProbeConnect;
}

class HostSession {
  private timer: NodeJS.Timeout | undefined;
  private abort: (() => void) | undefined;
  private successes = 0;
  private failures = 0;
  checkedOnce = false;

  constructor(
    readonly host: ManagedHost,
    private readonly checker: ClusterHealthChecker,
  ) {}

  run(): void {
    this.timer = undefined;
    this.abort = this.checker.probeHost(this.host, (result) => {
      this.abort = undefined;
      this.onResult(result);
    });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.abort?.();
  }

  private onResult(result: ProbeResult): void {
    const { config } = this.checker;
    const host = this.host;
    if (result === 'success') {
      this.failures = 0;
      if (host.failedActiveHealthCheck && (!this.checkedOnce || ++this.successes >= config.healthyThreshold)) {
        this.successes = 0;
        host.setFailedActiveHealthCheck(false);
      }
    } else {
      this.successes = 0;
      if (!host.failedActiveHealthCheck && (result === 'active-failure' || ++this.failures >= config.unhealthyThreshold)) {
        this.failures = 0;
        host.setFailedActiveHealthCheck(true);
      }
    }
    this.checkedOnce = true;
    this.checker.onSessionResult(result);
    this.timer = setTimeout(() => this.run(), this.checker.nextDelay());
    this.timer.unref();
  }
}

class ClusterHealthChecker implements HealthChecker {
  private readonly sessions = new Map<ManagedHost, HostSession>();
  private readonly probe: Probe;
  private firstRoundWaiters: Array<() => void> = [];

  constructor(
    readonly config: HealthCheckConfig,
    private readonly opts: HealthCheckerOptions,
  ) {
    const connect = opts.connect ?? plainConnect;
    if (config.http !== undefined) this.probe = createHttpProbe(config.http, opts.clusterName, connect);
    else if (config.tcp !== undefined) this.probe = createTcpProbe(config.tcp, connect);
    else throw new Error(`cluster ${opts.clusterName}: health check has neither http nor tcp`);
  }

  setHosts(hosts: readonly ManagedHost[]): void {
    const keep = new Set(hosts);
    for (const [host, session] of this.sessions) {
      if (keep.has(host)) continue;
      session.stop();
      this.sessions.delete(host);
    }
    for (const host of hosts) {
      if (this.sessions.has(host)) continue;
      const session = new HostSession(host, this);
      this.sessions.set(host, session);
      session.run();
    }
    this.publishHealthy();
    this.settleFirstRound();
  }

  firstRound(): Promise<void> {
    return new Promise((resolve) => {
      this.firstRoundWaiters.push(resolve);
      this.settleFirstRound();
    });
  }

  close(): void {
    for (const session of this.sessions.values()) session.stop();
    this.sessions.clear();
    this.settleFirstRound();
  }

  probeHost(host: ManagedHost, report: (result: ProbeResult) => void): () => void {
    this.opts.stats['health_check.attempt'].inc();
    const target = { address: host.address, port: host.healthCheckPort || host.port };
    return this.probe(target, this.config.timeoutMs, report);
  }

  onSessionResult(result: ProbeResult): void {
    const { stats } = this.opts;
    if (result === 'success') stats['health_check.success'].inc();
    else stats['health_check.failure'].inc();
    if (result === 'network-failure') stats['health_check.network_failure'].inc();
    this.publishHealthy();
    this.settleFirstRound();
  }

  nextDelay(): number {
    return this.config.intervalMs + this.opts.random() * this.config.intervalJitterMs;
  }

  private publishHealthy(): void {
    let healthy = 0;
    for (const host of this.sessions.keys()) if (!host.failedActiveHealthCheck) healthy++;
    this.opts.stats['health_check.healthy'].set(healthy);
  }

  private settleFirstRound(): void {
    if (this.firstRoundWaiters.length === 0) return;
    for (const session of this.sessions.values()) if (!session.checkedOnce) return;
    for (const resolve of this.firstRoundWaiters.splice(0)) resolve();
  }
}

export function createHealthChecker(config: HealthCheckConfig, opts: HealthCheckerOptions): HealthChecker {
  return new ClusterHealthChecker(config, opts);
}
