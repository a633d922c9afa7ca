/**
 * The web UI in Chromium against the real `weft demo` (BookInfo: control
 * plane, six services with their sidecars, a trickle of traffic): the topology
 * shows the six workloads and the edges with traffic; the service page draws
 * its golden metrics; the Proxies page shows every sidecar's ACKed xDS and a
 * config dump; moving the reviews split to 100% v3 with the sliders makes v3
 * serve more than 95% of the reviews that curl (an independent client) sees
 * within 30 s. Screenshots of every page; no console errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { curl, waitFor } from './harness.js';
import { startDemo, type DemoProcess } from './demo-harness.js';
import { openUi, type UiSession } from './ui-harness.js';

const WORKLOADS = ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3'];
const SHIFT_WITHIN_MS = 30_000;
const BATCH = 40;

async function rowCount(ui: UiSession, selector: string): Promise<number> {
  return ui.page.locator(selector).count();
}

/** Which reviews instance served each of `pages` product pages (curl through the demo's gateway). */
const apiUrl = (demo: DemoProcess): string => `http://127.0.0.1:${demo.base + 80}`;
/** productpage through the ingress gateway's listener (samples/demo/bookinfo-plan.ts). */
const productPage = (demo: DemoProcess): string => `http://127.0.0.1:${demo.base + 280}/productpage`;

async function reviewsServedBy(demo: DemoProcess, pages: number): Promise<Map<string, number>> {
  const servedBy = new Map<string, number>();
  for (let i = 0; i < pages; i++) {
    const res = await curl(['-sf', productPage(demo)]);
    const instance = /class="served-by">([^<]+)</.exec(res.stdout)?.[1] ?? `failed (${res.code})`;
    servedBy.set(instance, (servedBy.get(instance) ?? 0) + 1);
  }
  return servedBy;
}

describe('web UI against weft demo (Chromium)', () => {
  let demo: DemoProcess;
  let ui: UiSession;
  let adminToken: string;

  before(async () => {
    demo = await startDemo(5);
    // The demo's control plane wrote its admin token into its data dir.
    adminToken = readFileSync(join(demo.dataDir, 'store', 'admin-token'), 'utf8').trim();
    ui = await openUi(apiUrl(demo), { token: adminToken });
  });

  after(async () => {
    await ui?.close();
    demo?.kill();
  });

  it('topology: the six BookInfo workloads, and edges with traffic labelled and coloured', async () => {
    await ui.open('topology', 'Topology');
    for (const name of WORKLOADS) await ui.page.locator(`#topology-nodes tr[data-kind="workload"][data-name="${name}"]`).waitFor();
    // Besides BookInfo's six: the ingress gateway (once its proxy is scraped) and `unknown`, the metrics' name for callers without a proxy.
    const names = await ui.page.locator('#topology-nodes tr[data-kind="workload"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    assert.deepEqual(names.filter((n) => n !== 'unknown' && n !== 'bookinfo-gateway').sort(), WORKLOADS);
    // Scrapes every 5 s: wait for the edges productpage -> details / reviews and reviews -> ratings to carry traffic.
    await waitFor(async () => (await rowCount(ui, '#topology-edges tr[data-rps]:not([data-rps="0"])')) >= 3, 'three edges with traffic', 60_000);
    // Requests enter through the gateway, which names itself to productpage's sidecar: the edge is the gateway's, not an outside caller's.
    await waitFor(async () => (await rowCount(ui, '#topology-edges tr[data-source="bookinfo-gateway"][data-target="productpage"]:not([data-rps="0"])')) === 1, 'the edge bookinfo-gateway -> productpage', 60_000);
    const graph = await ui.page.evaluate(() => {
      const cy = (window as unknown as { weftGraph: { nodes(): { map<T>(f: (n: { data(k: string): string }) => T): T[] }; edges(): { map<T>(f: (n: { data(k: string): string | boolean }) => T): T[] } } }).weftGraph;
      return {
        workloads: cy.nodes().map((n) => (n.data('kind') === 'workload' ? n.data('label') : '')).filter((l) => l !== ''),
        traffic: cy.edges().map((e) => ({ label: e.data('label'), health: e.data('health'), member: e.data('member') })).filter((e) => !e.member),
      };
    });
    for (const name of WORKLOADS) assert.ok(graph.workloads.includes(name), `graph node ${name}: ${graph.workloads.join(', ')}`);
    const withTraffic = graph.traffic.filter((e) => /rps · .*% · p99/.test(String(e.label)));
    assert.ok(withTraffic.length >= 3, JSON.stringify(graph.traffic));
    assert.ok(withTraffic.every((e) => ['ok', 'warn', 'bad'].includes(String(e.health))), 'edges with traffic are coloured by health');
    await ui.screenshot('topology');
    await ui.page.getByRole('button', { name: /Switch to dark colours/ }).click();
    await ui.screenshot('topology-dark');
    await ui.page.getByRole('button', { name: /Switch to light colours/ }).click();

    // A click on a node opens its service.
    const position = await ui.page.evaluate(() => {
      const cy = (window as unknown as { weftGraph: { getElementById(id: string): { renderedPosition(): { x: number; y: number } } } }).weftGraph;
      return cy.getElementById('service:default/ratings').renderedPosition();
    });
    const box = (await ui.page.locator('.graph').boundingBox())!;
    await ui.page.mouse.click(box.x + position.x, box.y + position.y);
    await ui.page.getByRole('heading', { level: 1, name: /Service ratings/ }).waitFor();
  });

  it('service detail: golden-metric charts, workloads with health, and the policies and split that apply', async () => {
    await ui.open('services/default/reviews', /Service reviews/);
    for (const title of ['Requests per second', 'Success rate (%)', 'Latency (ms)']) {
      await waitFor(async () => Number(await ui.page.locator(`figure[aria-label="${title}"] [data-points]`).getAttribute('data-points')) >= 2, `the ${title} chart to have points`, 30_000);
    }
    const workloads = ui.page.getByRole('region', { name: 'Workloads' });
    for (const name of ['reviews-v1', 'reviews-v2', 'reviews-v3']) await workloads.getByRole('row', { name: new RegExp(`${name}.*connected`) }).waitFor();
    const policies = ui.page.getByRole('region', { name: 'Policies' });
    await policies.getByText(/TrafficPolicy\s*reviews/).waitFor();
    await policies.getByText(/TrafficSplit\s*reviews/).waitFor();
    await ui.page.locator('canvas').first().waitFor();
    await ui.screenshot('service');
    await ui.open('services', 'Services');
    await ui.screenshot('services');
  });

  it('moving the reviews split to 100% v3 with the sliders shifts more than 95% of reviews traffic to v3 within 30 s', async () => {
    await ui.open('services/default/reviews', /Service reviews/);
    const editor = ui.page.getByRole('form', { name: 'TrafficSplit reviews' });
    // The sliders, moved with the keyboard: Home is 0, End is 100.
    await editor.getByLabel('reviews-v2', { exact: true }).press('Home');
    await editor.getByLabel('reviews-v3', { exact: true }).press('End');
    assert.equal(await editor.getByLabel('reviews-v2 weight').inputValue(), '0');
    assert.equal(await editor.locator('[data-share="reviews-v3"]').innerText(), '100%');
    await ui.screenshot('service-split');
    const applied = Date.now();
    await editor.getByRole('button', { name: 'Apply weights' }).click();
    await editor.getByText(/Applied/).waitFor();
    const split = (await (await fetch(`${apiUrl(demo)}/apis/split.smi-spec.io/v1alpha4/namespaces/default/trafficsplits/reviews`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { spec: { backends: Array<{ service: string; weight: number }> } };
    assert.deepEqual(split.spec.backends, [{ service: 'reviews-v2', weight: 0 }, { service: 'reviews-v3', weight: 100 }]);

    let last = new Map<string, number>();
    let share = 0;
    while (Date.now() - applied < SHIFT_WITHIN_MS) {
      last = await reviewsServedBy(demo, BATCH);
      share = (last.get('reviews-v3') ?? 0) / BATCH;
      if (share > 0.95) break;
    }
    assert.ok(share > 0.95, `v3 served ${(share * 100).toFixed(0)}% of the last ${BATCH} pages (${JSON.stringify([...last])}) ${((Date.now() - applied) / 1000).toFixed(1)} s after the change`);
  });

  it('proxies: every sidecar connected with ACKed xDS versions, and a config dump', async () => {
    await ui.open('proxies', 'Proxies');
    for (const name of WORKLOADS) await ui.page.getByRole('row', { name: new RegExp(`${name}.*ACK`) }).first().waitFor();
    assert.equal(await ui.page.getByText(/NACK/).count(), 0, 'no NACK in a healthy demo');
    await ui.page.getByRole('link', { name: /reviews-v3/ }).first().click();
    const dump = ui.page.getByLabel('Config dump');
    await waitFor(async () => (await dump.innerText()).includes('type.googleapis.com/envoy.admin.v3'), 'the config dump', 15_000);
    await ui.screenshot('proxies');
  });

  it('logged no console errors', async () => {
    await ui.open('config', 'Configuration');
    await ui.screenshot('configuration-demo');
    assert.deepEqual(ui.errors(), []);
  });
});
