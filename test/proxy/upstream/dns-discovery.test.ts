import assert from 'node:assert/strict';
import type * as dns from 'node:dns';
import { afterEach, describe, it } from 'node:test';
import type { ClusterConfig } from '../../../src/proxy/config/types.js';
import { createCluster, type ManagedCluster } from '../../../src/proxy/upstream/cluster.js';
import { defaultConnect } from '../../../src/proxy/upstream/pool.js';
import type { LookupFn } from '../../../src/proxy/upstream/types.js';
import * as realDns from 'node:dns';
import { clusterConfig, endpoint, TestStats, waitFor } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0)) fn();
});

/** A resolver the test scripts: name -> addresses, or an error code. */
function scriptedLookup(answers: Map<string, dns.LookupAddress[] | string>) {
  const calls: Array<{ name: string; family: number | string | undefined }> = [];
  const lookup: LookupFn = (name, options, cb) => {
    calls.push({ name, family: options.family });
    const answer = answers.get(name);
    setImmediate(() => {
      if (answer === undefined || typeof answer === 'string') {
        cb(Object.assign(new Error(`lookup ${name} failed`), { code: answer ?? 'ENOTFOUND' }), []);
      } else cb(null, answer);
    });
  };
  return { lookup, calls };
}

const v4 = (address: string): dns.LookupAddress => ({ address, family: 4 });
const v6 = (address: string): dns.LookupAddress => ({ address, family: 6 });

function start(overrides: Partial<ClusterConfig>, lookup: LookupFn = realDns.lookup) {
  const stats = new TestStats();
  const cluster: ManagedCluster = createCluster(
    clusterConfig({ type: 'STRICT_DNS', dnsRefreshRateMs: 15, ...overrides }),
    { stats, now: Date.now, random: Math.random, lookup, connect: defaultConnect },
  );
  cleanups.push(() => cluster.shutdown(true));
  return { cluster, stat: (name: string) => stats.get(`cluster.backend.${name}`) };
}

const labels = (c: ManagedCluster) => c.hosts().map((h) => h.label);

describe('STRICT_DNS discovery', () => {
  it('resolves localhost with the system resolver', async () => {
    const { cluster, stat } = start({ endpoints: [endpoint('localhost', 8080)], dnsLookupFamily: 'V4_ONLY' });
    await cluster.initialized;
    assert.deepEqual(labels(cluster), ['127.0.0.1:8080']);
    assert.equal(cluster.hosts()[0]!.hostname, 'localhost');
    assert.equal(stat('update_success'), 1);
    assert.equal(stat('membership_total'), 1);
  });

  it('follows address changes, keeps surviving hosts, and keeps the last good set on failure', async () => {
    const answers = new Map<string, dns.LookupAddress[] | string>([['svc', [v4('10.0.0.1'), v4('10.0.0.2')]]]);
    const { lookup } = scriptedLookup(answers);
    const { cluster, stat } = start({ endpoints: [endpoint('svc', 80, 3)] }, lookup);
    await cluster.initialized;
    assert.deepEqual(labels(cluster), ['10.0.0.1:80', '10.0.0.2:80']);
    assert.equal(cluster.hosts()[0]!.weight, 3);
    const kept = cluster.hosts()[1]!;
    kept.onRequestStart();

    answers.set('svc', [v4('10.0.0.2'), v4('10.0.0.3')]);
    await waitFor(() => labels(cluster).includes('10.0.0.3:80'), 1000, 'new address');
    assert.deepEqual(labels(cluster), ['10.0.0.2:80', '10.0.0.3:80']);
    assert.equal(cluster.hosts()[0], kept, 'the surviving host keeps its identity and state');
    assert.equal(kept.activeRequests, 1);
    assert.equal(stat('membership_change'), 2);

    answers.set('svc', 'ESERVFAIL');
    const failuresBefore = stat('update_failure');
    await waitFor(() => stat('update_failure') >= failuresBefore + 2, 1000, 'failed refreshes');
    assert.deepEqual(labels(cluster), ['10.0.0.2:80', '10.0.0.3:80']);
    assert.ok(stat('update_attempt') >= stat('update_success') + stat('update_failure') - 1);
  });

  it('applies dns_lookup_family', async () => {
    const answers = new Map([['svc', [v4('10.0.0.1'), v6('fd00::1')]]]);
    const cases: Array<[ClusterConfig['dnsLookupFamily'], string[], number]> = [
      ['AUTO', ['[fd00::1]:80'], 0],
      ['V4_PREFERRED', ['10.0.0.1:80'], 0],
      ['ALL', ['10.0.0.1:80', '[fd00::1]:80'], 0],
      ['V4_ONLY', ['10.0.0.1:80', '[fd00::1]:80'], 4],
    ];
    for (const [family, expected, lookupFamily] of cases) {
      const { lookup, calls } = scriptedLookup(answers);
      const { cluster } = start({ endpoints: [endpoint('svc', 80)], dnsLookupFamily: family }, lookup);
      await cluster.initialized;
      // The scripted resolver ignores the family; the cluster must ask for the right one.
      assert.deepEqual(labels(cluster), expected, family);
      assert.equal(calls[0]!.family, lookupFamily, family);
    }
    const v6Only = scriptedLookup(new Map([['svc', [v6('fd00::2')]]]));
    const { cluster } = start({ endpoints: [endpoint('svc', 80)], dnsLookupFamily: 'V4_PREFERRED' }, v6Only.lookup);
    await cluster.initialized;
    assert.deepEqual(labels(cluster), ['[fd00::2]:80'], 'V4_PREFERRED falls back to IPv6');
  });

  it('LOGICAL_DNS keeps only the first address; a first-round failure still initializes', async () => {
    const { lookup } = scriptedLookup(new Map([['svc', [v4('10.0.0.7'), v4('10.0.0.8')]]]));
    const logical = start({ type: 'LOGICAL_DNS', endpoints: [endpoint('svc', 80)] }, lookup);
    await logical.cluster.initialized;
    assert.deepEqual(labels(logical.cluster), ['10.0.0.7:80']);

    const failing = start({ endpoints: [endpoint('nowhere', 80)] }, scriptedLookup(new Map()).lookup);
    await failing.cluster.initialized;
    assert.deepEqual(labels(failing.cluster), []);
    assert.equal(failing.cluster.chooseHost({}), undefined);
    assert.equal(failing.stat('update_failure'), 1);
  });
});
