/** The summary's verdicts for a real run whose target goes away mid-run. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLoad } from '../../src/perf/index.js';
import { resultWarnings } from '../../src/perf/report.js';
import { sleep, startTargetServer } from './harness.js';

describe('resultWarnings', () => {
  it('counts failed connection attempts apart from failed requests', async () => {
    // Regression: reconnects refused while the target was down were reported as "N requests failed",
    // more than were ever sent.
    const target = await startTargetServer();
    const run = runLoad({ url: target.url, rate: 50, durationMs: 2000, connections: 2, timeoutMs: 1000 });
    await sleep(1000);
    await target.close();
    const result = await run;
    const connects = Object.entries(result.errors).filter(([kind]) => kind.startsWith('connect: ')).reduce((sum, [, n]) => sum + n, 0);
    assert.ok(connects > 0, JSON.stringify(result.errors));
    const line = resultWarnings(result).find((w) => w.includes('connection attempts failed'));
    assert.ok(line?.includes(`${connects} connection attempts failed`), `${line} / ${JSON.stringify(result.errors)}`);
    const failedRequests = Number(/(\d+) requests failed/.exec(line ?? '')?.[1] ?? 0);
    assert.ok(failedRequests <= result.requests.sent - result.requests.completed, `${line} / ${JSON.stringify(result.requests)}`);
    assert.equal(resultWarnings(result, false).some((w) => w.includes('failed')), false);
  });
});
