import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { combineHashes, hashString } from '../../../src/proxy/router/hash.js';

/** MurmurHash3 fmix32, written out independently to check hashString against published FNV-1a vectors. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('hashString', () => {
  // FNV-1a 32-bit reference values (from the FNV test suite).
  const fnv1a: Array<[string, number]> = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [input, fnv] of fnv1a) {
    it(`is fmix32(FNV-1a) for ${JSON.stringify(input)}`, () => {
      assert.equal(hashString(input), fmix32(fnv));
    });
  }

  it('is stable across releases (ring positions depend on it)', () => {
    assert.equal(hashString('10.0.0.1'), 2931590574);
    assert.equal(hashString('host_0'), 3920009806);
  });

  it('returns unsigned 32-bit integers', () => {
    for (const s of ['x', 'session-1234', '\u00e9t\u00e9', '🙂']) {
      const h = hashString(s);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32, `${s}: ${h}`);
    }
  });

  it('spreads similar keys evenly (16 buckets of 10,000 keys within ±15%)', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[hashString(`10.0.0.${i % 256}:80_${i}`) >>> 28]!++;
    for (const count of buckets) assert.ok(Math.abs(count - 625) <= 625 * 0.15, `bucket count ${count}`);
  });
});

describe('combineHashes', () => {
  it('rotates the accumulated value left by one, then xors', () => {
    assert.equal(combineHashes(0x80000000, 0), 1);
    assert.equal(combineHashes(1, 1), 3);
    assert.equal(combineHashes(0x12345678, 0xffffffff), (0x2468acf0 ^ 0xffffffff) >>> 0);
  });

  it('equal hashes do not cancel out', () => {
    const h = hashString('same');
    assert.notEqual(combineHashes(h, h), 0);
  });
});
