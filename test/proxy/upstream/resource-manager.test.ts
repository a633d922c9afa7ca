import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineStats } from '../../../src/proxy/observe/stats.js';
import { CLUSTER_STATS } from '../../../src/proxy/upstream/cluster-stats.js';
import { createResourceManager } from '../../../src/proxy/upstream/resource-manager.js';
import type { ThresholdsConfig } from '../../../src/proxy/config/types.js';
import { TestStats } from './helpers.js';

function setup(thresholds: Partial<ThresholdsConfig>) {
  const stats = new TestStats();
  const clusterStats = defineStats(stats.scope('cluster.c.'), CLUSTER_STATS);
  const rm = createResourceManager(
    { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3, ...thresholds },
    clusterStats,
  );
  return { rm, stats };
}

describe('resource manager (circuit breakers)', () => {
  it('enforces max_requests and mirrors it in upstream_rq_active and rq_open', () => {
    const { rm, stats } = setup({ maxRequests: 2 });
    assert.equal(rm.tryStartRequest(), true);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.rq_open'), 0);
    assert.equal(rm.tryStartRequest(), true);
    assert.equal(rm.tryStartRequest(), false);
    assert.equal(stats.get('cluster.c.upstream_rq_active'), 2);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.rq_open'), 1);
    rm.endRequest();
    assert.equal(stats.get('cluster.c.upstream_rq_active'), 1);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.rq_open'), 0);
    assert.equal(rm.tryStartRequest(), true);
  });

  it('enforces max_pending_requests and max_connections', () => {
    const { rm, stats } = setup({ maxPendingRequests: 1, maxConnections: 1 });
    assert.equal(rm.tryStartPending(), true);
    assert.equal(rm.tryStartPending(), false);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.rq_pending_open'), 1);
    assert.equal(stats.get('cluster.c.upstream_rq_pending_active'), 1);
    assert.equal(rm.tryStartConnection(), true);
    assert.equal(rm.tryStartConnection(), false);
    assert.equal(rm.activeConnections, 1);
    assert.equal(stats.get('cluster.c.upstream_cx_active'), 1);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.cx_open'), 1);
  });

  it('an end without a start never drives counts negative', () => {
    const { rm, stats } = setup({});
    rm.endRequest();
    rm.endPending();
    assert.equal(stats.get('cluster.c.upstream_rq_active'), 0);
    assert.equal(stats.get('cluster.c.upstream_rq_pending_active'), 0);
  });

  it('enforces max_retries', () => {
    const { rm, stats } = setup({ maxRetries: 1 });
    assert.equal(rm.tryStartRetry(), true);
    assert.equal(rm.tryStartRetry(), false);
    assert.equal(stats.get('cluster.c.circuit_breakers.default.rq_retry_open'), 1);
    rm.endRetry();
    assert.equal(rm.tryStartRetry(), true);
  });

  it('a retry budget allows max(min_retry_concurrency, budget% of active + pending)', () => {
    const { rm } = setup({ maxRetries: 1, retryBudget: { budgetPercent: 20, minRetryConcurrency: 2 } });
    // No load: the floor of 2 applies (max_retries is ignored under a budget).
    assert.equal(rm.tryStartRetry(), true);
    assert.equal(rm.tryStartRetry(), true);
    assert.equal(rm.tryStartRetry(), false);
    rm.endRetry();
    rm.endRetry();
    // 15 active + 5 pending = 20; 20 % of it = 4 retries.
    for (let i = 0; i < 15; i++) assert.equal(rm.tryStartRequest(), true);
    for (let i = 0; i < 5; i++) assert.equal(rm.tryStartPending(), true);
    for (let i = 0; i < 4; i++) assert.equal(rm.tryStartRetry(), true, `retry ${i}`);
    assert.equal(rm.tryStartRetry(), false);
    // Load falls to 10: budget 2, four retries in flight: no new one until two end.
    for (let i = 0; i < 10; i++) rm.endRequest();
    rm.endRetry();
    assert.equal(rm.tryStartRetry(), false);
    rm.endRetry();
    rm.endRetry();
    assert.equal(rm.tryStartRetry(), true);
  });

  it('hands a freed connection slot to waiting pools in order', () => {
    const { rm } = setup({ maxConnections: 1 });
    const calls: string[] = [];
    assert.equal(rm.tryStartConnection(), true);
    rm.waitForConnectionSlot({ onConnectionSlotFree: () => calls.push('a') });
    const b = {
      onConnectionSlotFree: () => {
        calls.push('b');
        rm.tryStartConnection();
      },
    };
    rm.waitForConnectionSlot(b);
    assert.equal(rm.hasConnectionSlotWaiters(), true);
    rm.endConnection();
    // 'a' did not take the slot, so 'b' got it in the same pass.
    assert.deepEqual(calls, ['a', 'b']);
    assert.equal(rm.activeConnections, 1);
    assert.equal(rm.hasConnectionSlotWaiters(), false);
  });
});
