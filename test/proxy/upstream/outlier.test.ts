import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutlierDetectionConfig } from '../../../src/proxy/config/types.js';
import { defineStats } from '../../../src/proxy/observe/stats.js';
import { CLUSTER_STATS } from '../../../src/proxy/upstream/cluster-stats.js';
import { createHost, type ManagedHost } from '../../../src/proxy/upstream/host.js';
import { createOutlierDetector } from '../../../src/proxy/upstream/outlier.js';
import { sequenceRandom, TestStats, UNUSED_POOL } from './helpers.js';

const BASE: OutlierDetectionConfig = {
  consecutive5xx: 3,
  consecutiveGatewayFailure: 2,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
  enforcingConsecutive5xx: 100,
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
};

function setup(config: Partial<OutlierDetectionConfig> = {}, hostCount = 3, random = () => 0.5) {
  const stats = new TestStats();
  let now = 1_000_000;
  const detector = createOutlierDetector(
    { ...BASE, ...config },
    { stats: defineStats(stats.scope('cluster.c.'), CLUSTER_STATS), now: () => now, random },
  );
  const healthChanges: string[] = [];
  const hosts: ManagedHost[] = Array.from({ length: hostCount }, (_, i) =>
    createHost(
      { address: `10.0.0.${i + 1}`, port: 80, hostname: 'h', weight: 1, healthCheckPort: 0 },
      {
        outlier: detector,
        createPool: () => UNUSED_POOL,
        onHealthChange: (h) => healthChanges.push(`${h.label}:${h.healthy() ? 'up' : 'down'}`),
        startsUnhealthy: false,
      },
    ),
  );
  detector.setHosts(hosts);
  return {
    detector,
    hosts,
    healthChanges,
    stat: (name: string) => stats.get(`cluster.c.outlier_detection.${name}`),
    advance: (ms: number) => (now += ms),
    close: () => detector.close(),
  };
}

describe('outlier detection', () => {
  it('ejects after consecutive_5xx errors in a row; a success resets the streak', () => {
    const t = setup();
    const [h] = t.hosts;
    h!.reportStatus(500);
    h!.reportStatus(503);
    h!.reportStatus(200);
    h!.reportStatus(500);
    h!.reportStatus(502);
    assert.equal(h!.healthy(), true);
    h!.reportStatus(504);
    assert.equal(h!.healthy(), false);
    assert.deepEqual(t.healthChanges, ['10.0.0.1:80:down']);
    assert.equal(t.stat('ejections_active'), 1);
    assert.equal(t.stat('ejections_enforced_total'), 1);
    assert.equal(t.stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(t.stat('ejections_detected_consecutive_5xx'), 1);
    // Two gateway failures in a row were detected but gateway enforcement defaults to 0 %.
    assert.equal(t.stat('ejections_detected_consecutive_gateway_failure'), 1);
    assert.equal(t.stat('ejections_enforced_consecutive_gateway_failure'), 0);
    t.close();
  });

  it('counts local-origin failures as gateway errors unless split_external_local_origin_errors', () => {
    const t = setup({ enforcingConsecutiveGatewayFailure: 100 });
    t.hosts[0]!.reportLocalFailure('connect-failure');
    t.hosts[0]!.reportLocalFailure('timeout');
    assert.equal(t.hosts[0]!.ejected, true);
    assert.equal(t.stat('ejections_enforced_consecutive_gateway_failure'), 1);
    t.close();

    const split = setup({ enforcingConsecutiveGatewayFailure: 100, splitExternalLocalOriginErrors: true });
    for (let i = 0; i < 5; i++) split.hosts[0]!.reportLocalFailure('reset');
    assert.equal(split.hosts[0]!.ejected, false);
    split.close();
  });

  it('un-ejects after base_ejection_time x times ejected, capped by max_ejection_time', () => {
    const t = setup({ maxEjectionTimeMs: 50_000 });
    const h = t.hosts[0]!;
    const eject = () => [500, 500, 500].forEach((s) => h.reportStatus(s));
    eject();
    t.advance(29_999);
    t.detector.sweep();
    assert.equal(h.ejected, true);
    t.advance(1);
    t.detector.sweep();
    assert.equal(h.ejected, false);
    assert.equal(t.stat('ejections_active'), 0);
    // Second ejection: 2 x 30 s = 60 s, capped at 50 s.
    eject();
    t.advance(49_999);
    t.detector.sweep();
    assert.equal(h.ejected, true);
    t.advance(1);
    t.detector.sweep();
    assert.equal(h.ejected, false);
    // Two clean intervals decay the multiplier back to zero: the next ejection is 30 s again.
    t.advance(10_000);
    t.detector.sweep();
    t.advance(10_000);
    t.detector.sweep();
    eject();
    t.advance(30_000);
    t.detector.sweep();
    assert.equal(h.ejected, false);
    assert.deepEqual(t.healthChanges.length, 6);
    t.close();
  });

  it('always ejects one host, then stops at max_ejection_percent', () => {
    const t = setup({ maxEjectionPercent: 20 }, 10);
    const fail = (h: ManagedHost) => [500, 500, 500].forEach((s) => h.reportStatus(s));
    t.hosts.slice(0, 3).forEach(fail);
    assert.deepEqual(
      t.hosts.map((h) => h.ejected),
      [true, true, false, false, false, false, false, false, false, false],
    );
    assert.equal(t.stat('ejections_overflow'), 1);
    assert.equal(t.stat('ejections_active'), 2);
    t.close();

    const small = setup({ maxEjectionPercent: 10 }, 3);
    small.hosts.forEach(fail);
    assert.deepEqual(
      small.hosts.map((h) => h.ejected),
      [true, false, false],
    );
    small.close();
  });

  it('enforces with the configured probability, using the injected random', () => {
    // 0.3 * 100 = 30 >= 25: not enforced; 0.2 * 100 = 20 < 25: enforced.
    const t = setup({ enforcingConsecutive5xx: 25 }, 3, sequenceRandom([0.3, 0.2]));
    const h = t.hosts[0]!;
    [500, 500, 500].forEach((s) => h.reportStatus(s));
    assert.equal(h.ejected, false);
    [500, 500, 500].forEach((s) => h.reportStatus(s));
    assert.equal(h.ejected, true);
    assert.equal(t.stat('ejections_detected_consecutive_5xx'), 2);
    assert.equal(t.stat('ejections_enforced_consecutive_5xx'), 1);
    assert.equal(t.stat('ejections_total'), 2);
    t.close();
  });

  it('forgets removed hosts, including their ejection', () => {
    const t = setup();
    [500, 500, 500].forEach((s) => t.hosts[0]!.reportStatus(s));
    assert.equal(t.stat('ejections_active'), 1);
    t.detector.setHosts(t.hosts.slice(1));
    assert.equal(t.stat('ejections_active'), 0);
    t.close();
  });
});
