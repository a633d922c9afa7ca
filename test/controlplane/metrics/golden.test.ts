/**
 * Golden metrics from the text a real proxy stats store renders: series kept
 * per tick, increments across counter resets and late baselines, edges and
 * quantiles. Ticks are driven by hand (no scraper, no timer).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RequestMetrics } from '../../../src/proxy/http1/hcm-context.js';
import { createStatsStore } from '../../../src/proxy/observe/stats-store.js';
import { GoldenMetrics, histogramQuantile, refKey, type EntityRef } from '../../../src/controlplane/metrics/golden.js';
import { parsePrometheusText } from '../../../src/controlplane/metrics/prometheus-text.js';
import { toVectors } from '../../../src/controlplane/metrics/scraper.js';
import { FIRST_BUCKET, DURATION_COUNT, SeriesStore, type TargetIdentity } from '../../../src/controlplane/metrics/series-store.js';

const NAMES = new Set(['weft_requests_total', 'weft_request_duration_seconds_bucket', 'weft_request_duration_seconds_sum', 'weft_request_duration_seconds_count']);
const svc = (name: string): EntityRef => ({ kind: 'Service', namespace: 'default', name });
const wl = (name: string): EntityRef => ({ kind: 'Workload', namespace: 'default', name });

/** A proxy: its stats store and request metrics, as `weft proxy` has them. */
function proxy(workload: string) {
  const stats = createStatsStore();
  const metrics = new RequestMetrics(stats, workload);
  const identity: TargetIdentity = { nodeId: `sidecar~${workload}.default`, namespace: 'default', workload };
  return { stats, metrics, identity };
}

function scrape(store: SeriesStore, p: ReturnType<typeof proxy>): void {
  const samples = parsePrometheusText(p.stats.renderPrometheus(), NAMES);
  store.setBounds(samples.filter((s) => s.name.endsWith('_bucket') && s.labels['le'] !== '+Inf').map((s) => Number(s.labels['le'])));
  store.record(store.target(p.identity.nodeId, p.identity), toVectors(samples, store.bounds));
}

function tick(store: SeriesStore, proxies: Array<ReturnType<typeof proxy>>, at: number): void {
  store.advance(at);
  for (const p of proxies) scrape(store, p);
  store.completedTick = store.tick;
}

describe('golden metrics', () => {
  it('counts increments per window from the proxy\'s own exposition, with edges and latency quantiles', () => {
    const store = new SeriesStore(181, 5000);
    const golden = new GoldenMetrics(store);
    const client = proxy('productpage');
    const server = proxy('ratings-v1');
    const record = (n: number, status: number, seconds: number): void => {
      for (let i = 0; i < n; i++) client.metrics.source.series('ratings-v1', 'ratings.default.svc.cluster.local:9080', 'outbound|9080||ratings.default.svc', status, '').requests.inc();
      for (let i = 0; i < n; i++) client.metrics.source.series('ratings-v1', 'ratings.default.svc.cluster.local:9080', 'outbound|9080||ratings.default.svc', status, '').duration.record(seconds);
      // The destination sidecar saw the same requests, from a meshed caller: not counted twice.
      for (let i = 0; i < n; i++) server.metrics.destination.series('productpage', 'ratings', 'inbound|9080||', status, '').requests.inc();
    };
    record(5, 200, 0.004); // before the first scrape: an unknown baseline, never counted
    tick(store, [client, server], 0);
    record(30, 200, 0.004);
    record(10, 503, 0.2);
    tick(store, [client, server], 5000);
    record(60, 200, 0.004);
    tick(store, [client, server], 10_000);

    const ticks = golden.ticksFor(60_000);
    const service = golden.window(golden.resource(svc('ratings')), ticks).get('')!;
    assert.equal(service.requests, 100);
    assert.equal(service.failureCount, 10);
    assert.equal(service.successCount, 90);
    assert.equal(service.successRate, 0.9);
    assert.ok(service.p50! > 2.5 && service.p50! <= 5, `p50 ${service.p50} ms within the 2.5-5 ms bucket`);
    assert.ok(service.p99! > 100 && service.p99! <= 250, `p99 ${service.p99} ms within the 100-250 ms bucket`);
    const from = golden.window(golden.edges(svc('ratings'), 'from'), ticks);
    assert.deepEqual([...from.keys()], [refKey(wl('productpage'))]);
    const to = golden.window(golden.edges(svc('ratings'), 'to'), ticks);
    assert.equal(to.get(refKey(wl('ratings-v1')))?.requests, 100);
    assert.equal(golden.window(golden.resource(wl('ratings-v1')), ticks).get('')?.requests, 100);
    // Per-step series: 40 then 60 requests in 5 s steps.
    assert.deepEqual(golden.series(golden.resource(svc('ratings')), 2).map((p) => [p.golden.requests, p.golden.rps]), [[40, 8], [60, 12]]);
  });

  it('attributes a gateway\'s requests to the service whose cluster served them (its virtual host is its listener)', () => {
    const store = new SeriesStore(181, 5000);
    const golden = new GoldenMetrics(store);
    const gateway = proxy('bookinfo-gateway');
    const server = proxy('productpage-v1');
    const hit = (n: number): void => {
      for (let i = 0; i < n; i++) gateway.metrics.source.series('productpage-v1', 'gateway_0.0.0.0_15280', 'outbound|9080||productpage.default.svc', 200, '').requests.inc();
      // The gateway named itself to the sidecar (x-weft-source-workload): not an outside caller, not counted twice.
      for (let i = 0; i < n; i++) server.metrics.destination.series('bookinfo-gateway', 'productpage', 'inbound|9080||', 200, '').requests.inc();
    };
    tick(store, [gateway, server], 0);
    hit(12);
    tick(store, [gateway, server], 5000);
    const ticks = golden.ticksFor(60_000);
    assert.equal(golden.window(golden.resource(svc('productpage')), ticks).get('')?.requests, 12);
    const from = golden.window(golden.edges(svc('productpage'), 'from'), ticks);
    assert.deepEqual([...from.keys()], [refKey(wl('bookinfo-gateway'))]);
    assert.equal(from.get(refKey(wl('bookinfo-gateway')))?.requests, 12);
  });

  it('survives a proxy restart (counter reset) and counts callers outside the mesh from the destination side', () => {
    const store = new SeriesStore(181, 5000);
    const golden = new GoldenMetrics(store);
    let server = proxy('ratings-v1');
    const hit = (n: number): void => {
      for (let i = 0; i < n; i++) server.metrics.destination.series('unknown', '127.0.0.1', 'inbound|9080||', 200, '').requests.inc();
    };
    golden.setWorkloadServices(new Map([[refKey(wl('ratings-v1')), svc('ratings')]]));
    tick(store, [server], 0);
    hit(7);
    tick(store, [server], 5000);
    server = proxy('ratings-v1'); // restarted: counters from zero
    tick(store, [server], 10_000);
    hit(3);
    tick(store, [server], 15_000);
    const ticks = golden.ticksFor(60_000);
    assert.equal(golden.window(golden.resource(svc('ratings')), ticks).get('')?.requests, 10, 'addressed by IP: the workload\'s service');
    assert.equal(golden.window(golden.edges(wl('ratings-v1'), 'from'), ticks).get(refKey(wl('unknown')))?.requests, 10);
  });

  it('histogram_quantile interpolates within a bucket and caps at the last finite bound', () => {
    const bounds = [0.001, 0.01, 0.1];
    const vector = new Float64Array(FIRST_BUCKET + bounds.length);
    vector[DURATION_COUNT] = 100;
    vector.set([0, 50, 90], FIRST_BUCKET); // cumulative; 10 above 100 ms
    assert.equal(histogramQuantile(0.25, bounds, vector), 5.5);
    assert.equal(histogramQuantile(0.7, bounds, vector), 55);
    assert.equal(histogramQuantile(0.99, bounds, vector), 100);
    vector[DURATION_COUNT] = 0;
    assert.equal(histogramQuantile(0.5, bounds, vector), null);
  });
});
