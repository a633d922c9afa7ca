import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRoundRobinLoadBalancer } from '../../../../src/proxy/upstream/lb/round-robin.js';
import { lbHost } from '../helpers.js';

describe('ROUND_ROBIN', () => {
  it('interleaves weighted hosts smoothly (nginx sequence for 5:1:1)', () => {
    const lb = createRoundRobinLoadBalancer();
    lb.update([lbHost('a', 5), lbHost('b', 1), lbHost('c', 1)]);
    const picks = Array.from({ length: 14 }, () => lb.choose({})!.label).join('');
    assert.equal(picks, 'aabacaa'.repeat(2));
  });

  it('rotates equal-weight hosts in order', () => {
    const lb = createRoundRobinLoadBalancer();
    lb.update([lbHost('a'), lbHost('b'), lbHost('c')]);
    assert.equal(Array.from({ length: 6 }, () => lb.choose({})!.label).join(''), 'abcabc');
  });

  it('skips the host to avoid when another exists', () => {
    const lb = createRoundRobinLoadBalancer();
    const a = lbHost('a');
    const b = lbHost('b');
    lb.update([a, b]);
    assert.equal(lb.choose({ avoid: a }), b);
    assert.equal(lb.choose({ avoid: b }), a);
    lb.update([a]);
    assert.equal(lb.choose({ avoid: a }), a);
  });

  it('chooses nothing from an empty set', () => {
    const lb = createRoundRobinLoadBalancer();
    lb.update([]);
    assert.equal(lb.choose({}), undefined);
  });
});
