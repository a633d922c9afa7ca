/**
 * One upstream cluster: composes discovery (static endpoints or DNS), hosts
 * with their pools, the load balancer, circuit breakers, outlier detection
 * and active health checks.
 *
 * Host identity is "ip:port": a host that survives a membership update keeps
 * its pool, request count and health state. Every membership or health change
 * rebuilds the load balancer's candidate set — the healthy hosts, or all hosts
 * when fewer than half are healthy (Envoy's panic threshold, 50 %).
 */
import { formatHostPort } from '../../lib/address.js';
import type * as net from 'node:net';
import type { ClusterConfig, EndpointConfig } from '../config/types.js';
import { defineStats, type Counter, type StatsScope } from '../observe/stats.js';
import { CLUSTER_STATS, type ClusterStats } from './cluster-stats.js';
import { startDnsDiscovery, type DnsDiscovery } from './dns-discovery.js';
import { createHealthChecker, type HealthChecker } from './health/checker.js';
import { createHost, NO_OUTLIER_DETECTION, type HostDeps, type HostSpec, type ManagedHost } from './host.js';
import { createLoadBalancer } from './lb/factory.js';
import type { LoadBalancer } from './lb/load-balancer.js';
import { createOutlierDetector, type OutlierDetector } from './outlier.js';
import { createConnectionPool, type PoolOptions } from './pool.js';
import { createResourceManager, type ClusterResources } from './resource-manager.js';
import { createSecretStore, type SecretStore } from '../tls/secret-store.js';
import { defineTlsStats } from '../tls/tls-context.js';
import { createTlsConnector, type UpstreamTlsConnector } from './tls-connector.js';
import type { Cluster, Host, LbContext, LookupFn } from './types.js';

export interface ClusterDeps {
  stats: StatsScope;
  now: () => number;
  random: () => number;
  lookup: LookupFn;
  connect: (address: string, port: number) => net.Socket;
  /** Secrets for clusters with an UpstreamTlsContext (default: none known, so only inline TLS works). */
  secrets?: SecretStore;
  /** Where a TLS context reports a secret it cannot use. */
  onError?: (message: string) => void;
}

export interface ManagedCluster extends Cluster {
  readonly resources: ClusterResources;
  /** Resolves once the first discovery round and, with health checks, every host's first check are done. */
  readonly initialized: Promise<void>;
  /** For EDS-style updates where only `endpoints` changed: same cluster, new host set. */
  replaceEndpoints(config: ClusterConfig): void;
  /** Stops discovery and checks; pools drain (force: sockets destroyed now). */
  shutdown(force: boolean): void;
}

const PANIC_THRESHOLD_PERCENT = 50;

export function isDnsCluster(config: ClusterConfig): boolean {
  return config.type === 'STRICT_DNS' || config.type === 'LOGICAL_DNS';
}

function specOf(endpoint: EndpointConfig): HostSpec {
  const { address, port, hostname, weight, healthCheckPort } = endpoint;
  return { address, port, hostname, weight, healthCheckPort };
}

class UpstreamCluster implements ManagedCluster {
  readonly name: string;
  readonly stats: ClusterStats;
  private readonly scope: StatsScope;
  /** upstream_rq_<code> counters by status, filled on first use (no per-request string building). */
  private readonly rqCodeCounters: Array<Counter | undefined> = [];
  readonly resources: ClusterResources;
  readonly initialized: Promise<void>;
  private hostList: ManagedHost[] = [];
  private byLabel = new Map<string, ManagedHost>();
  private readonly lb: LoadBalancer;
  private panic = false;
  private readonly outlier: OutlierDetector | undefined;
  private readonly healthChecker: HealthChecker | undefined;
  private readonly dns: DnsDiscovery | undefined;
  private readonly hostDeps: HostDeps;
  private readonly tls: UpstreamTlsConnector | undefined;

  constructor(
    public config: ClusterConfig,
    deps: ClusterDeps,
  ) {
    this.name = config.name;
    this.scope = deps.stats.scope(`cluster.${config.name}.`);
    this.stats = defineStats(this.scope, CLUSTER_STATS);
    this.resources = createResourceManager(config.circuitBreakers, this.stats);
    this.lb = createLoadBalancer(config, deps.random);
    const { stats, resources } = this;
    if (config.outlierDetection !== undefined) {
      this.outlier = createOutlierDetector(config.outlierDetection, { stats, now: deps.now, random: deps.random });
    }
    if (config.tls !== undefined) {
      this.tls = createTlsConnector(config.tls, {
        store: deps.secrets ?? createSecretStore(),
        stats: defineTlsStats(this.scope),
        label: `cluster ${config.name} transport_socket`,
        onError: deps.onError ?? (() => undefined),
      });
    }
    const tlsConnector = this.tls;
    const healthCheck = config.healthChecks[0];
    if (healthCheck !== undefined) {
      this.healthChecker = createHealthChecker(healthCheck, {
        clusterName: config.name,
        stats,
        random: deps.random,
        ...(tlsConnector === undefined ? {} : { connect: (address: string, port: number) => tlsConnector.connect(address, port) }),
      });
    }
    const poolOptions: PoolOptions = {
      connectTimeoutMs: config.connectTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxRequestsPerConnection: config.maxRequestsPerConnection,
      resources,
      stats,
      now: deps.now,
      connect: tlsConnector !== undefined ? (address, port) => tlsConnector.connect(address, port) : deps.connect,
      reclaimIdleConnection: (requester) => {
        for (const host of this.hostList) if (host.pool !== requester && host.pool.closeOldestIdle()) return;
      },
    };
    this.hostDeps = {
      outlier: this.outlier ?? NO_OUTLIER_DETECTION,
      createPool: (host) => createConnectionPool(host, poolOptions),
      onHealthChange: () => this.rebuildLoadBalancer(),
      startsUnhealthy: healthCheck !== undefined,
    };

    let discovered: Promise<void>;
    if (isDnsCluster(config)) {
      this.dns = startDnsDiscovery(config, { lookup: deps.lookup, stats, onUpdate: (specs) => this.setHosts(specs) });
      discovered = this.dns.initialized;
    } else {
      this.setHosts(config.endpoints.map(specOf));
      discovered = Promise.resolve();
    }
    this.initialized = discovered.then(() => this.healthChecker?.firstRound());
  }

  upstreamRqCode(status: number): Counter {
    let counter = this.rqCodeCounters[status];
    if (counter === undefined) this.rqCodeCounters[status] = counter = this.scope.counter(`upstream_rq_${status}`);
    return counter;
  }

  chooseHost(ctx: LbContext): Host | undefined {
    if (this.panic) this.stats.lb_healthy_panic.inc();
    return this.lb.choose(ctx);
  }

  hosts(): readonly Host[] {
    return this.hostList;
  }

  replaceEndpoints(config: ClusterConfig): void {
    this.config = config;
    this.setHosts(config.endpoints.map(specOf));
  }

  shutdown(force: boolean): void {
    this.dns?.close();
    this.healthChecker?.close();
    this.outlier?.close();
    this.tls?.close();
    for (const host of this.hostList) host.pool.drain(force);
  }

  dumpState(): unknown {
    return {
      name: this.name,
      type: this.config.type,
      lb_policy: this.config.lbPolicy,
      panic: this.panic,
      circuit_breakers: this.resources.dumpState(),
      outlier_detection: this.outlier?.dumpState(),
      hosts: this.hostList.map((h) => h.dumpState()),
    };
  }

  private setHosts(specs: readonly HostSpec[]): void {
    const next: ManagedHost[] = [];
    const nextByLabel = new Map<string, ManagedHost>();
    let membershipChanged = false;
    let weightChanged = false;
    for (const spec of specs) {
      const label = formatHostPort(spec.address, spec.port);
      if (nextByLabel.has(label)) continue;
      let host = this.byLabel.get(label);
      if (host === undefined) {
        host = createHost(spec, this.hostDeps);
        membershipChanged = true;
      } else if (host.weight !== spec.weight) {
        host.setWeight(spec.weight);
        weightChanged = true;
      }
      next.push(host);
      nextByLabel.set(label, host);
    }
    for (const [label, host] of this.byLabel) {
      if (nextByLabel.has(label)) continue;
      host.pool.drain(false);
      membershipChanged = true;
    }
    if (membershipChanged) {
      this.hostList = next;
      this.byLabel = nextByLabel;
      this.stats.membership_change.inc();
      this.stats.membership_total.set(next.length);
      this.outlier?.setHosts(next);
      this.healthChecker?.setHosts(next);
    }
    if (membershipChanged || weightChanged) this.rebuildLoadBalancer();
  }

  private rebuildLoadBalancer(): void {
    const healthy = this.hostList.filter((h) => h.healthy());
    this.stats.membership_healthy.set(healthy.length);
    this.panic = healthy.length * 100 < this.hostList.length * PANIC_THRESHOLD_PERCENT;
    this.lb.update(this.panic ? this.hostList : healthy);
  }
}

export function createCluster(config: ClusterConfig, deps: ClusterDeps): ManagedCluster {
  return new UpstreamCluster(config, deps);
}
