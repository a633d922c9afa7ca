/**
 * The Performance page in Chromium against a real `weft controlplane`: a run
 * started in the UI (the control plane's load generator against a real HTTP
 * server that answers after 5 ms) shows live progress from the event stream,
 * completes and draws its latency distribution and percentile chart; a second
 * run is compared side by side; the result downloads as an SMP document.
 * A run with a bad option shows the server's field error. No console errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';
import { startUpstream, waitFor, type Upstream } from './harness.js';
import { openUi, type UiSession } from './ui-harness.js';

const ANSWER_AFTER_MS = 5;

describe('web UI: Performance (Chromium)', () => {
  let cp: ControlPlaneProcess;
  let upstream: Upstream;
  let ui: UiSession;
  let dataDir: string;

  before(async () => {
    const config = await newSqliteConfig();
    dataDir = (config.store as { dataDir: string }).dataDir;
    cp = await startControlPlane(config);
    upstream = await startUpstream((_req, res) => setTimeout(() => res.end('ok'), ANSWER_AFTER_MS));
    ui = await openUi(cp.url, { token: cp.adminToken() });
  });

  after(async () => {
    await ui?.close();
    await upstream?.close();
    await cp?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const target = (): string => `http://127.0.0.1:${upstream.port}/`;

  async function run(rate: number): Promise<void> {
    const form = ui.page.getByRole('form', { name: 'New run' });
    await form.getByLabel('Target URL').fill(target());
    await form.getByLabel('Rate (req/s)').fill(String(rate));
    await form.getByLabel('Duration').fill('4s');
    await form.getByLabel('Connections').fill('2');
    await form.getByRole('button', { name: 'Start' }).click();
    await form.getByText(/\d+ requests · \d+ req\/s/).waitFor({ timeout: 15_000 }); // live progress
    await form.getByText('Done.').waitFor({ timeout: 30_000 });
  }

  it('runs a load test with live progress, then draws its distribution and percentile chart', async () => {
    await ui.open('performance', 'Performance');
    const seenBefore = upstream.seen.length;
    await run(50);
    assert.ok(upstream.seen.length - seenBefore >= 150, `the server saw ${upstream.seen.length - seenBefore} requests of a 4 s run at 50/s`);
    const result = ui.page.getByRole('region', { name: /^Result / });
    await result.getByText(/Achieved\s*\d/).waitFor();
    const percentileChart = ui.page.locator('figure[aria-label="Latency by percentile (ms)"] [data-points]');
    await waitFor(async () => Number(await percentileChart.getAttribute('data-points')) >= 10, 'the percentile chart to have points');
    await ui.page.locator('figure[aria-label^="Latency distribution"] canvas').waitFor();
    const p50 = Number(/p50 ([\d.]+) ms/.exec(await result.innerText())?.[1]);
    // At least the server's delay; the upper bound is loose: the machine is shared.
    assert.ok(p50 >= ANSWER_AFTER_MS && p50 < 2000, `p50 ${p50} ms for a server answering after ${ANSWER_AFTER_MS} ms`);
    await ui.screenshot('performance');
  });

  it('compares two results side by side and exports one as SMP JSON', async () => {
    await run(100);
    const options = ui.page.getByLabel('Compare with').locator('option');
    assert.ok((await options.count()) >= 2, 'two results to compare');
    await ui.page.getByLabel('Compare with').selectOption((await options.nth(1).getAttribute('value'))!);
    const comparison = ui.page.getByRole('region', { name: 'Comparison' });
    await comparison.getByRole('row', { name: /^p99 / }).waitFor();
    await comparison.getByRole('row', { name: /^throughput/ }).waitFor();
    await ui.screenshot('performance-compare');

    const download = ui.page.waitForEvent('download');
    await ui.page.getByRole('button', { name: 'Export SMP JSON' }).click();
    const file = await (await download).path();
    const smp = JSON.parse(readFileSync(file, 'utf8')) as { performance_test_config: { clients: Array<{ endpoint_url: string[] }> }; performance_test_result: { latencies_ms: Record<string, number>; actual_QPS: number } };
    assert.deepEqual(smp.performance_test_config.clients[0]!.endpoint_url, [target()]);
    assert.ok(smp.performance_test_result.latencies_ms['p99']! >= ANSWER_AFTER_MS, JSON.stringify(smp.performance_test_result));
    assert.ok(smp.performance_test_result.actual_QPS > 50, `actual_QPS ${smp.performance_test_result.actual_QPS} of a 100/s run`);
  });

  it("shows the server's error for a run it refuses, and logged no other console errors", async () => {
    ui.expectHttpFailure(400, '/api/v1/perf/runs');
    const form = ui.page.getByRole('form', { name: 'New run' });
    await form.getByLabel('Duration').fill('0s');
    await form.getByRole('button', { name: 'Start' }).click();
    await form.getByText(/Run failed: .*duration/i).waitFor();
    assert.deepEqual(ui.errors(), []);
  });
});
