/**
 * One upstream endpoint: its address, weight, request count, health flags and
 * connection pool. The cluster owns hosts; health checks and outlier detection
 * flip the two health flags through this module, and every flip is reported to
 * the cluster so it can rebuild its load balancer.
 */
import { formatHostPort } from '../../lib/address.js';
import type { ManagedPool } from './pool.js';
import type { Host, LocalFailureKind } from './types.js';

/** What discovery produces for one host. */
export interface HostSpec {
  address: string;
  port: number;
  hostname: string;
  weight: number;
  /** 0 = same as port. */
  healthCheckPort: number;
}

/** Where a host's outlier detection inputs go (a no-op when the cluster has none). */
export interface OutlierSink {
  onStatus(host: ManagedHost, status: number): void;
  onLocalFailure(host: ManagedHost, kind: LocalFailureKind): void;
}

/** The cluster's view of a host: the public Host plus the levers its owners pull. */
export interface ManagedHost extends Host {
  readonly pool: ManagedPool;
  readonly healthCheckPort: number;
  readonly failedActiveHealthCheck: boolean;
  readonly ejected: boolean;
  setFailedActiveHealthCheck(failed: boolean): void;
  setEjected(ejected: boolean): void;
  /** Discovery may change the weight of a host it keeps. */
  setWeight(weight: number): void;
  dumpState(): unknown;
}

export interface HostDeps {
  outlier: OutlierSink;
  /** Builds the host's pool once the host exists. */
  createPool(host: ManagedHost): ManagedPool;
  /** Called after either health flag changes. */
  onHealthChange(host: ManagedHost): void;
  /** True when active health checks are configured: hosts start unhealthy until the first pass. */
  startsUnhealthy: boolean;
}

export const NO_OUTLIER_DETECTION: OutlierSink = {
  onStatus() {},
  onLocalFailure() {},
};


class UpstreamHost implements ManagedHost {
  readonly label: string;
  readonly pool: ManagedPool;
  activeRequests = 0;
  weight: number;
  failedActiveHealthCheck: boolean;
  ejected = false;

  constructor(
    readonly address: string,
    readonly port: number,
    readonly hostname: string,
    weight: number,
    readonly healthCheckPort: number,
    private readonly deps: HostDeps,
  ) {
    this.label = formatHostPort(address, port);
    this.weight = weight;
    this.failedActiveHealthCheck = deps.startsUnhealthy;
    this.pool = deps.createPool(this);
  }

  healthy(): boolean {
    return !this.failedActiveHealthCheck && !this.ejected;
  }

  onRequestStart(): void {
    this.activeRequests++;
  }

  onRequestEnd(): void {
    if (this.activeRequests > 0) this.activeRequests--;
  }

  reportStatus(status: number): void {
    this.deps.outlier.onStatus(this, status);
  }

  reportLocalFailure(kind: LocalFailureKind): void {
    this.deps.outlier.onLocalFailure(this, kind);
  }

  setFailedActiveHealthCheck(failed: boolean): void {
    if (this.failedActiveHealthCheck === failed) return;
    this.failedActiveHealthCheck = failed;
    this.deps.onHealthChange(this);
  }

  setEjected(ejected: boolean): void {
    if (this.ejected === ejected) return;
    this.ejected = ejected;
    this.deps.onHealthChange(this);
  }

  setWeight(weight: number): void {
    this.weight = weight;
  }

  dumpState(): unknown {
    return {
      address: this.label,
      hostname: this.hostname,
      weight: this.weight,
      healthy: this.healthy(),
      failed_active_health_check: this.failedActiveHealthCheck,
      failed_outlier_check: this.ejected,
      active_requests: this.activeRequests,
      pool: this.pool.dumpState(),
    };
  }
}

export function createHost(spec: HostSpec, deps: HostDeps): ManagedHost {
  return new UpstreamHost(spec.address, spec.port, spec.hostname, spec.weight, spec.healthCheckPort, deps);
}
