import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomRequestId } from '../../src/lib/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('randomRequestId', () => {
  it('makes version 4, variant 1 UUIDs, distinct across several refills of its random pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomRequestId();
      assert.match(id, UUID_V4);
      seen.add(id);
    }
    assert.equal(seen.size, 2000);
  });

  it('returns strings that later ids do not change (the text buffer is reused)', () => {
    const first = randomRequestId();
    const copy = `${first}`;
    for (let i = 0; i < 300; i++) randomRequestId();
    assert.equal(first, copy);
  });

  it('spreads every hex digit over the random positions', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      for (const digit of randomRequestId().replace(/-/g, '').slice(13)) counts.set(digit, (counts.get(digit) ?? 0) + 1);
    }
    assert.equal(counts.size, 16);
    // The 19 digits after the version digit, over 1000 ids: each hex digit ~1190 times (the variant digit is 8-b).
    for (const [digit, n] of counts) assert.ok(n > 700 && n < 1600, `digit ${digit} appeared ${n} times`);
  });
});
