import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLeastRequestLoadBalancer } from '../../../../src/proxy/upstream/lb/least-request.js';
import { lbHost, seededRandom, sequenceRandom } from '../helpers.js';

describe('LEAST_REQUEST', () => {
  it('of two random choices takes the one with fewer active requests', () => {
    const busy = lbHost('busy', 1, 5);
    const idle = lbHost('idle', 1, 0);
    // Index picks: busy (0.1), then idle (0.9); and the reverse order.
    const lb = createLeastRequestLoadBalancer(2, sequenceRandom([0.1, 0.9, 0.9, 0.1]));
    lb.update([busy, idle]);
    assert.equal(lb.choose({}), idle);
    assert.equal(lb.choose({}), idle);
  });

  it('with one choice is uniform random, with two prefers the idle host most of the time', () => {
    const hosts = [lbHost('a', 1, 3), lbHost('b', 1, 3), lbHost('c', 1, 0)];
    const count = (choices: number): number => {
      const lb = createLeastRequestLoadBalancer(choices, seededRandom(7));
      lb.update(hosts);
      let idle = 0;
      for (let i = 0; i < 3000; i++) if (lb.choose({}) === hosts[2]) idle++;
      return idle / 3000;
    };
    assert.ok(Math.abs(count(1) - 1 / 3) < 0.04);
    // P(c among two picks with replacement) = 1 - (2/3)^2 = 5/9.
    assert.ok(Math.abs(count(2) - 5 / 9) < 0.04);
  });

  it('never returns the host to avoid when another exists', () => {
    const a = lbHost('a', 1, 0);
    const b = lbHost('b', 1, 9);
    const lb = createLeastRequestLoadBalancer(2, seededRandom(1));
    lb.update([a, b]);
    for (let i = 0; i < 50; i++) assert.equal(lb.choose({ avoid: a }), b);
  });

  it('with unequal weights scales each weight by 1 / (active + 1)', () => {
    // Effective weights: heavy 4 / (3 + 1) = 1, light 1 / (0 + 1) = 1: an even split.
    const heavy = lbHost('heavy', 4, 3);
    const light = lbHost('light', 1, 0);
    const lb = createLeastRequestLoadBalancer(2, seededRandom(3));
    lb.update([heavy, light]);
    let heavyPicks = 0;
    for (let i = 0; i < 4000; i++) if (lb.choose({}) === heavy) heavyPicks++;
    assert.ok(Math.abs(heavyPicks / 4000 - 0.5) < 0.04, `heavy share ${heavyPicks / 4000}`);
  });
});
