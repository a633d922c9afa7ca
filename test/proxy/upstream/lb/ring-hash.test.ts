import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRingHashLoadBalancer } from '../../../../src/proxy/upstream/lb/ring-hash.js';
import { hashString } from '../../../../src/proxy/router/hash.js';
import type { Host } from '../../../../src/proxy/upstream/types.js';
import { lbHost, sequenceRandom } from '../helpers.js';

const KEYS = Array.from({ length: 2000 }, (_, i) => hashString(`user-${i}`));

function assign(hosts: Host[]): Map<number, string> {
  const lb = createRingHashLoadBalancer(1024, 8 * 1024 * 1024, Math.random);
  lb.update(hosts);
  return new Map(KEYS.map((k) => [k, lb.choose({ hash: k })!.label]));
}

describe('RING_HASH', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'].map((l) => lbHost(`10.0.0.${l.charCodeAt(0)}:80`));

  it('sends the same hash to the same host, and spreads keys roughly evenly', () => {
    const first = assign(hosts);
    const again = assign(hosts);
    assert.deepEqual(again, first);
    const perHost = new Map<string, number>();
    for (const label of first.values()) perHost.set(label, (perHost.get(label) ?? 0) + 1);
    assert.equal(perHost.size, 5);
    for (const n of perHost.values()) assert.ok(n > 250 && n < 550, `host share ${n}/2000`);
  });

  it('removing one host moves only about 1/n of the keys', () => {
    const before = assign(hosts);
    const removed = hosts[2]!.label;
    const after = assign(hosts.filter((h) => h.label !== removed));
    let moved = 0;
    for (const [key, label] of before) {
      if (label === removed) assert.notEqual(after.get(key), removed);
      if (after.get(key) !== label) moved++;
    }
    // The removed host's ~1/5 must move; survivors also gain ring entries (the ring
    // is rescaled to keep its minimum size, as Envoy's), which moves a few more.
    assert.ok(moved > 300 && moved < 600, `moved ${moved}/2000`);
  });

  it('gives a heavier host a proportionally larger share', () => {
    const lb = createRingHashLoadBalancer(1024, 8 * 1024 * 1024, Math.random);
    const heavy = lbHost('10.0.0.1:80', 3);
    lb.update([heavy, lbHost('10.0.0.2:80', 1)]);
    const share = KEYS.filter((k) => lb.choose({ hash: k }) === heavy).length / KEYS.length;
    assert.ok(share > 0.65 && share < 0.85, `heavy share ${share}`);
  });

  it('walks to the next distinct host to avoid one, and hashes randomly without a hash', () => {
    const lb = createRingHashLoadBalancer(16, 1024, sequenceRandom([0.5]));
    lb.update(hosts);
    const chosen = lb.choose({ hash: KEYS[0]! })!;
    const other = lb.choose({ hash: KEYS[0]!, avoid: chosen })!;
    assert.notEqual(other, chosen);
    assert.equal(lb.choose({}), lb.choose({ hash: 0x80000000 }));
  });
});
