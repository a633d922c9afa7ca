import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRandomLoadBalancer } from '../../../../src/proxy/upstream/lb/random.js';
import { lbHost, seededRandom, sequenceRandom } from '../helpers.js';

describe('RANDOM', () => {
  it('picks hosts in proportion to weight', () => {
    const hosts = [lbHost('a', 1), lbHost('b', 3), lbHost('c', 6)];
    const lb = createRandomLoadBalancer(seededRandom(42));
    lb.update(hosts);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10000; i++) {
      const label = lb.choose({})!.label;
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    assert.ok(Math.abs(counts.get('a')! / 10000 - 0.1) < 0.02);
    assert.ok(Math.abs(counts.get('b')! / 10000 - 0.3) < 0.02);
    assert.ok(Math.abs(counts.get('c')! / 10000 - 0.6) < 0.02);
  });

  it('maps the random value onto cumulative weights exactly', () => {
    const lb = createRandomLoadBalancer(sequenceRandom([0, 0.09, 0.1, 0.39, 0.4, 0.99]));
    lb.update([lbHost('a', 1), lbHost('b', 3), lbHost('c', 6)]);
    assert.equal(Array.from({ length: 6 }, () => lb.choose({})!.label).join(''), 'aabbcc');
  });

  it('moves off the host to avoid', () => {
    const a = lbHost('a');
    const b = lbHost('b');
    const lb = createRandomLoadBalancer(sequenceRandom([0.1]));
    lb.update([a, b]);
    assert.equal(lb.choose({}), a);
    assert.equal(lb.choose({ avoid: a }), b);
  });
});
