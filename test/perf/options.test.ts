/** Duration flags: the syntax PerformanceProfile resources are validated with, plus wrk's bare seconds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoadOptionError, parseDuration } from '../../src/perf/options.js';

describe('parseDuration', () => {
  it('takes Go-style durations, so a stored profile\'s "1m30s" runs, and bare seconds', () => {
    // Regression: the profile schema accepted 1m30s but `weft perf profile run` then refused it.
    const cases: Array<[string, number]> = [['1m30s', 90_000], ['500ms', 500], ['1.5s', 1500], ['2h', 7_200_000], ['30', 30_000], ['0.25', 250], ['0', 0]];
    for (const [text, ms] of cases) assert.equal(parseDuration('duration', text), ms, text);
  });

  it('rejects the rest by option name', () => {
    for (const text of ['', 'soon', '-1s', '1x', '1e3s', '999999h']) {
      assert.throws(() => parseDuration('duration', text), (error: unknown) => error instanceof LoadOptionError && error.option === 'duration', text);
    }
  });
});
