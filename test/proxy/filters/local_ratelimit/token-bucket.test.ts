import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../../../src/proxy/filters/local_ratelimit/token-bucket.js';
import { ManualClock } from '../harness.js';

function drain(bucket: TokenBucket): number {
  let taken = 0;
  while (bucket.tryConsume()) taken++;
  return taken;
}

describe('TokenBucket', () => {
  it('starts full and allows a burst of exactly max_tokens', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(5, 1, 1000, clock.now);
    assert.equal(bucket.remaining(), 5);
    assert.equal(drain(bucket), 5);
    assert.equal(bucket.remaining(), 0);
  });

  it('refills continuously at tokens_per_fill / fill_interval from the injected clock', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(10, 2, 1000, clock.now); // one token every 500 ms
    drain(bucket);
    clock.advance(499);
    assert.equal(bucket.tryConsume(), false);
    clock.advance(1);
    assert.equal(bucket.tryConsume(), true);
    assert.equal(bucket.tryConsume(), false);
    clock.advance(1000);
    assert.equal(drain(bucket), 2);
  });

  it('never holds more than max_tokens however long it sits idle', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(3, 1, 100, clock.now);
    drain(bucket);
    clock.advance(3_600_000);
    assert.equal(drain(bucket), 3);
  });

  it('reports x-ratelimit-reset as Envoy does: 0 while a token is left, else whole seconds per token', () => {
    const clock = new ManualClock();
    const slow = new TokenBucket(1, 1, 2500, clock.now);
    assert.equal(slow.resetSeconds(), 0);
    slow.tryConsume();
    assert.equal(slow.resetSeconds(), 2);
    const fast = new TokenBucket(1, 10, 1000, clock.now);
    fast.tryConsume();
    assert.equal(fast.resetSeconds(), 0, '100 ms per token rounds down to 0 s');
  });
});
