import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationMs, MAX_DURATION_MS, parseDuration } from '../../../src/controlplane/model/duration.js';

describe('Go-style durations', () => {
  it('parses single and compound durations to milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['0', 0],
      ['250ms', 250],
      ['5s', 5000],
      ['1.5s', 1500],
      ['.5s', 500],
      ['1m30s', 90_000],
      ['2h45m', 9_900_000],
      ['500us', 0.5],
      ['500µs', 0.5],
      ['1500000ns', 1.5],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('explains what is wrong with a bad duration', () => {
    assert.match(String(parseDuration('5')), /expected a Go-style duration/);
    assert.match(String(parseDuration('')), /expected a Go-style duration/);
    assert.match(String(parseDuration('5 s')), /expected a Go-style duration/);
    assert.match(String(parseDuration('1d')), /expected a Go-style duration/);
    assert.match(String(parseDuration('s')), /expected a Go-style duration/);
    assert.match(String(parseDuration('-1s')), /must not be negative/);
    assert.match(String(parseDuration('600h')), /too long: at most 2147483.647s/);
    assert.equal(parseDuration(`${MAX_DURATION_MS}ms`), MAX_DURATION_MS);
  });

  it('durationMs refuses an unvalidated duration', () => {
    assert.equal(durationMs('2s'), 2000);
    assert.throws(() => durationMs('2 seconds'), /unvalidated duration/);
  });
});
