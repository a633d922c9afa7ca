import assert from 'node:assert/strict';
import * as dns from 'node:dns';
import { afterEach, describe, it } from 'node:test';
import type { ClusterConfig, OutlierDetectionConfig } from '../../../src/proxy/config/types.js';
import { createCluster, type ManagedCluster } from '../../../src/proxy/upstream/cluster.js';
import { defaultConnect } from '../../../src/proxy/upstream/pool.js';
import { clusterConfig, endpoint, seededRandom, TestStats } from './helpers.js';

const OUTLIER: OutlierDetectionConfig = {
  consecutive5xx: 1,
  consecutiveGatewayFailure: 5,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 100,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
};

const cleanups: Array<() => unknown> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

function start(overrides: Partial<ClusterConfig>) {
  const stats = new TestStats();
  const cluster: ManagedCluster = createCluster(
    clusterConfig({
      endpoints: [1, 2, 3, 4].map((i) => endpoint(`10.0.0.${i}`, 80)),
      outlierDetection: OUTLIER,
      ...overrides,
    }),
    { stats, now: Date.now, random: seededRandom(11), lookup: dns.lookup, connect: defaultConnect },
  );
  cleanups.push(() => cluster.shutdown(true));
  return { cluster, stat: (name: string) => stats.get(`cluster.backend.${name}`) };
}

function chosen(cluster: ManagedCluster, n: number): Set<string> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(cluster.chooseHost({})!.label);
  return seen;
}

describe('cluster', () => {
  it('balances over healthy hosts only and tracks membership gauges', () => {
    const { cluster, stat } = start({});
    assert.equal(stat('membership_total'), 4);
    assert.equal(stat('membership_healthy'), 4);
    assert.equal(stat('membership_change'), 1);
    cluster.hosts()[0]!.reportStatus(500);
    assert.equal(stat('membership_healthy'), 3);
    assert.deepEqual([...chosen(cluster, 12)].sort(), ['10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80']);
    assert.equal(stat('lb_healthy_panic'), 0);
  });

  it('at exactly half healthy stays out of panic', () => {
    const { cluster, stat } = start({ lbPolicy: 'RANDOM' });
    cluster.hosts()[0]!.reportStatus(500);
    cluster.hosts()[1]!.reportStatus(500);
    assert.deepEqual([...chosen(cluster, 50)].sort(), ['10.0.0.3:80', '10.0.0.4:80']);
    assert.equal(stat('lb_healthy_panic'), 0);
  });

  it('below half healthy panics: balances over all hosts and counts each decision', () => {
    const { cluster, stat } = start({ lbPolicy: 'LEAST_REQUEST' });
    for (const h of cluster.hosts().slice(0, 3)) h.reportStatus(503);
    assert.equal(stat('membership_healthy'), 1);
    assert.equal(chosen(cluster, 100).size, 4);
    assert.equal(stat('lb_healthy_panic'), 100);
  });

  it('returns no host when the cluster has none', () => {
    const { cluster } = start({ endpoints: [] });
    assert.equal(cluster.chooseHost({}), undefined);
    assert.equal(cluster.hosts().length, 0);
  });

  it('uses the request hash for RING_HASH', () => {
    const { cluster } = start({ lbPolicy: 'RING_HASH' });
    const host = cluster.chooseHost({ hash: 12345 });
    for (let i = 0; i < 5; i++) assert.equal(cluster.chooseHost({ hash: 12345 }), host);
  });

  it('keeps a host with its state when replaced endpoints keep its address', () => {
    const { cluster, stat } = start({});
    const survivor = cluster.hosts()[1]!;
    survivor.onRequestStart();
    cluster.replaceEndpoints(clusterConfig({ endpoints: [endpoint('10.0.0.2', 80, 5), endpoint('10.0.0.9', 80)], outlierDetection: OUTLIER }));
    assert.deepEqual(cluster.hosts().map((h) => h.label), ['10.0.0.2:80', '10.0.0.9:80']);
    assert.equal(cluster.hosts()[0], survivor);
    assert.equal(survivor.weight, 5);
    assert.equal(survivor.activeRequests, 1);
    assert.equal(stat('membership_change'), 2);
  });

  it('dumps its state for the admin endpoints', () => {
    const { cluster } = start({});
    cluster.hosts()[0]!.reportStatus(500);
    const state = cluster.dumpState() as {
      name: string;
      hosts: Array<{ address: string; healthy: boolean; failed_outlier_check: boolean; pool: { idle: number } }>;
      circuit_breakers: { max_connections: number };
    };
    assert.equal(state.name, 'backend');
    assert.equal(state.hosts.length, 4);
    assert.deepEqual(
      { address: state.hosts[0]!.address, healthy: state.hosts[0]!.healthy, ejected: state.hosts[0]!.failed_outlier_check },
      { address: '10.0.0.1:80', healthy: false, ejected: true },
    );
    assert.equal(state.hosts[1]!.pool.idle, 0);
    assert.equal(state.circuit_breakers.max_connections, 1024);
  });
});
