/**
 * Envoy's circuit breakers for one cluster (DEFAULT priority): counts of
 * requests, pending requests, retries and connections against their
 * thresholds, with the `upstream_*_active` and `circuit_breakers.default.*_open`
 * gauges kept in step. Connection slots are shared by all pools of the cluster;
 * a pool that finds none registers to be called back when one frees up.
 */
import type { ThresholdsConfig } from '../config/types.js';
import type { Gauge } from '../observe/stats.js';
import type { ClusterStats } from './cluster-stats.js';
import type { ResourceManager } from './types.js';

/** A pool waiting for a connection slot. */
export interface ConnectionSlotWaiter {
  onConnectionSlotFree(): void;
}

export interface ClusterResources extends ResourceManager {
  tryStartConnection(): boolean;
  endConnection(): void;
  /** FIFO; each waiter is called once when a slot frees (it may re-register). */
  waitForConnectionSlot(waiter: ConnectionSlotWaiter): void;
  stopWaitingForConnectionSlot(waiter: ConnectionSlotWaiter): void;
  /** True while some pool waits for a slot: a released connection should close rather than idle. */
  hasConnectionSlotWaiters(): boolean;
  dumpState(): unknown;
}

/**
 * One count against one limit. The "active" gauge moves by inc/dec, so a
 * cluster replaced under the same name and its draining predecessor add up.
 */
class Resource {
  count = 0;
  constructor(
    private readonly active: Gauge | undefined,
    private readonly open: Gauge,
    private readonly max: () => number,
  ) {}

  tryStart(): boolean {
    if (this.count >= this.max()) return false;
    this.count++;
    this.active?.inc();
    this.publishOpen();
    return true;
  }

  end(): void {
    if (this.count === 0) return;
    this.count--;
    this.active?.dec();
    this.publishOpen();
  }

  limit(): number {
    return this.max();
  }

  publishOpen(): void {
    this.open.set(this.count >= this.max() ? 1 : 0);
  }
}

export function createResourceManager(thresholds: ThresholdsConfig, stats: ClusterStats): ClusterResources {
  const requests = new Resource(stats.upstream_rq_active, stats['circuit_breakers.default.rq_open'], () => thresholds.maxRequests);
  const pending = new Resource(
    stats.upstream_rq_pending_active,
    stats['circuit_breakers.default.rq_pending_open'],
    () => thresholds.maxPendingRequests,
  );
  const connections = new Resource(
    stats.upstream_cx_active,
    stats['circuit_breakers.default.cx_open'],
    () => thresholds.maxConnections,
  );
  const budget = thresholds.retryBudget;
  const retries = new Resource(
    undefined,
    stats['circuit_breakers.default.rq_retry_open'],
    budget === undefined
      ? () => thresholds.maxRetries
      : () =>
          Math.max(budget.minRetryConcurrency, Math.floor((budget.budgetPercent / 100) * (requests.count + pending.count))),
  );
  const slotWaiters: ConnectionSlotWaiter[] = [];
  for (const r of [requests, pending, connections, retries]) r.publishOpen();

  const manager: ClusterResources = {
    tryStartRequest: () => requests.tryStart(),
    endRequest: () => requests.end(),
    tryStartPending: () => pending.tryStart(),
    endPending: () => pending.end(),
    tryStartRetry: () => retries.tryStart(),
    endRetry: () => retries.end(),
    get activeConnections() {
      return connections.count;
    },
    tryStartConnection: () => connections.tryStart(),
    endConnection() {
      connections.end();
      // Hand freed slots to waiting pools; a pool that no longer needs one just returns.
      let n = slotWaiters.length;
      while (n-- > 0 && connections.count < connections.limit()) slotWaiters.shift()!.onConnectionSlotFree();
    },
    waitForConnectionSlot(waiter) {
      if (!slotWaiters.includes(waiter)) slotWaiters.push(waiter);
    },
    stopWaitingForConnectionSlot(waiter) {
      const i = slotWaiters.indexOf(waiter);
      if (i >= 0) slotWaiters.splice(i, 1);
    },
    hasConnectionSlotWaiters: () => slotWaiters.length > 0,
    dumpState: () => ({
      max_connections: connections.limit(),
      max_pending_requests: pending.limit(),
      max_requests: requests.limit(),
      max_retries: retries.limit(),
      active_connections: connections.count,
      pending_requests: pending.count,
      active_requests: requests.count,
      active_retries: retries.count,
    }),
  };
  return manager;
}
