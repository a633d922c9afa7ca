import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStatsStore, type StatsStore } from '../../../src/proxy/observe/stats-store.js';
import { defineStats } from '../../../src/proxy/observe/stats.js';
import { HistogramData, ENVOY_MS_BUCKETS } from '../../../src/proxy/observe/histogram.js';
import { extractTags } from '../../../src/proxy/observe/tag-extraction.js';

/** A small store: two clusters, an HCM, a listener, a TCP proxy and one histogram. */
function sampleStore(): StatsStore {
  const store = createStatsStore();
  const backend = defineStats(store.scope('cluster.backend.'), {
    counters: ['upstream_rq_total', 'upstream_rq_200'],
    gauges: ['upstream_cx_active'],
    histograms: ['upstream_rq_time'],
  } as const);
  backend.upstream_rq_total.inc(3);
  backend.upstream_rq_200.inc(2);
  backend.upstream_cx_active.set(1);
  backend.upstream_rq_time.record(1);
  backend.upstream_rq_time.record(2);
  backend.upstream_rq_time.record(3);
  store.counter('http.ingress.downstream_rq_2xx').inc(2);
  store.counter('listener.127.0.0.1_8080.downstream_cx_total').inc(4);
  store.gauge('tcp.db.upstream_flush_active').set(0);
  store.histogram('cluster.idle.upstream_cx_length_ms');
  return store;
}

test('counters are cached objects and inc is a plain increment', () => {
  const store = createStatsStore();
  const a = store.scope('cluster.x.').counter('upstream_rq_total');
  const b = store.counter('cluster.x.upstream_rq_total');
  assert.equal(a, b);
  a.inc();
  b.inc(4);
  assert.equal(a.value(), 5);
  const g = store.gauge('server.live');
  g.set(3);
  g.dec();
  g.inc(2);
  assert.equal(g.value(), 4);
});

test('renderText prints sorted name: value lines, then Envoy histogram summaries', () => {
  assert.equal(
    sampleStore().renderText(),
    [
      'cluster.backend.upstream_cx_active: 1',
      'cluster.backend.upstream_rq_200: 2',
      'cluster.backend.upstream_rq_total: 3',
      'http.ingress.downstream_rq_2xx: 2',
      'listener.127.0.0.1_8080.downstream_cx_total: 4',
      'tcp.db.upstream_flush_active: 0',
      'cluster.backend.upstream_rq_time: P0(nan,1) P25(nan,1) P50(nan,1.5) P75(nan,2.25) P90(nan,2.7) P95(nan,2.85) P99(nan,2.97) P99.5(nan,2.985) P99.9(nan,2.997) P100(nan,3)',
      'cluster.idle.upstream_cx_length_ms: No recorded values',
      '',
    ].join('\n'),
  );
});

test('renderText and renderJson apply an unanchored filter', () => {
  const store = sampleStore();
  assert.equal(store.renderText(/rq_t/), 'cluster.backend.upstream_rq_total: 3\ncluster.backend.upstream_rq_time: P0(nan,1) P25(nan,1) P50(nan,1.5) P75(nan,2.25) P90(nan,2.7) P95(nan,2.85) P99(nan,2.97) P99.5(nan,2.985) P99.9(nan,2.997) P100(nan,3)\n');
  assert.deepEqual(store.renderJson(/^http\./), { stats: [{ name: 'http.ingress.downstream_rq_2xx', value: 2 }] });
});

test('renderJson follows Envoy shape with histograms last', () => {
  const json = sampleStore().renderJson(/cluster\./) as { stats: unknown[] };
  assert.deepEqual(json.stats.slice(0, 3), [
    { name: 'cluster.backend.upstream_cx_active', value: 1 },
    { name: 'cluster.backend.upstream_rq_200', value: 2 },
    { name: 'cluster.backend.upstream_rq_total', value: 3 },
  ]);
  assert.deepEqual(json.stats[3], {
    histograms: {
      supported_quantiles: [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100],
      computed_quantiles: [
        {
          name: 'cluster.backend.upstream_rq_time',
          values: [1, 1, 1.5, 2.25, 2.7, 2.85, 2.97, 2.985, 2.997, 3].map((cumulative) => ({ interval: null, cumulative })),
        },
        { name: 'cluster.idle.upstream_cx_length_ms', values: Array.from({ length: 10 }, () => ({ interval: null, cumulative: null })) },
      ],
    },
  });
  assert.equal(json.stats.length, 4);
});

test('tag extraction follows Envoy default rules', () => {
  const cases: Array<[string, string, Array<[string, string]>]> = [
    ['cluster.backend.upstream_rq_total', 'envoy_cluster_upstream_rq_total', [['envoy_cluster_name', 'backend']]],
    ['cluster.backend.upstream_rq_200', 'envoy_cluster_upstream_rq', [['envoy_response_code', '200'], ['envoy_cluster_name', 'backend']]],
    ['http.ingress.downstream_rq_5xx', 'envoy_http_downstream_rq_xx', [['envoy_response_code_class', '5'], ['envoy_http_conn_manager_prefix', 'ingress']]],
    ['listener.127.0.0.1_8080.downstream_cx_total', 'envoy_listener_downstream_cx_total', [['envoy_listener_address', '127.0.0.1_8080']]],
    ['listener.[__1]_80.downstream_cx_total', 'envoy_listener_downstream_cx_total', [['envoy_listener_address', '[__1]_80']]],
    [
      'listener.0.0.0.0_80.http.ingress.downstream_rq_2xx',
      'envoy_listener_http_downstream_rq_xx',
      [['envoy_response_code_class', '2'], ['envoy_http_conn_manager_prefix', 'ingress'], ['envoy_listener_address', '0.0.0.0_80']],
    ],
    ['listener.admin.downstream_cx_total', 'envoy_listener_admin_downstream_cx_total', []],
    ['tcp.db.downstream_cx_total', 'envoy_tcp_downstream_cx_total', [['envoy_tcp_prefix', 'db']]],
    ['server.memory-allocated', 'envoy_server_memory_allocated', []],
  ];
  for (const [stat, name, labels] of cases) assert.deepEqual(extractTags(stat), { name, labels }, stat);
});

/** Parses Prometheus text into TYPE/HELP maps and samples, checking every line's grammar. */
function parsePrometheus(body: string): {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
} {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  assert.ok(body.endsWith('\n'));
  for (const line of body.slice(0, -1).split('\n')) {
    let m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (m) {
      assert.ok(!types.has(m[1]!), `duplicate TYPE for ${m[1]}`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      help.set(m[1]!, m[2]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
    const raw = m[2] ?? '';
    while (labelRe.lastIndex < raw.length) {
      const l = labelRe.exec(raw);
      assert.ok(l, `bad labels: ${raw}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { types, help, samples };
}

test('renderPrometheus: exact text for Envoy-style stats with tag extraction', () => {
  const store = sampleStore();
  const body = store.renderPrometheus(/backend\.upstream_rq_t|ingress|tcp\./);
  const buckets = ENVOY_MS_BUCKETS.map((le) => `envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="${le}"} ${le < 1 ? 0 : le < 5 ? 1 : 3}`);
  assert.equal(
    body,
    [
      '# TYPE envoy_cluster_upstream_rq_total counter',
      'envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 3',
      '# TYPE envoy_http_downstream_rq_xx counter',
      'envoy_http_downstream_rq_xx{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress"} 2',
      '# TYPE envoy_tcp_upstream_flush_active gauge',
      'envoy_tcp_upstream_flush_active{envoy_tcp_prefix="db"} 0',
      '# TYPE envoy_cluster_upstream_rq_time histogram',
      ...buckets,
      'envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="+Inf"} 3',
      'envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="backend"} 6',
      'envoy_cluster_upstream_rq_time_count{envoy_cluster_name="backend"} 3',
      '',
    ].join('\n'),
  );
});

test('renderPrometheus parses back: families grouped, labelled weft metrics with HELP, values escaped', () => {
  const store = sampleStore();
  store.counter('cluster.other.upstream_rq_total').inc(7);
  const requests = store.labelledCounter('weft_requests_total', 'Requests handled.\nOne line.', ['destination_service', 'response_code']);
  requests.inc(['a"b\\c\nd', '200']);
  requests.bind(['a"b\\c\nd', '200']).inc(2);
  requests.inc(['svc', '503']);
  const duration = store.labelledHistogram('weft_request_duration_seconds', 'Request duration.', ['destination_service']);
  duration.record(['svc'], 0.003);
  duration.bind(['svc']).record(20);
  const { types, help, samples } = parsePrometheus(store.renderPrometheus());

  assert.equal(types.get('envoy_cluster_upstream_rq_total'), 'counter');
  assert.equal(types.get('envoy_cluster_upstream_rq'), 'counter');
  assert.equal(types.get('envoy_cluster_upstream_cx_active'), 'gauge');
  assert.equal(types.get('envoy_listener_downstream_cx_total'), 'counter');
  assert.equal(types.get('envoy_cluster_upstream_rq_time'), 'histogram');
  assert.equal(types.get('weft_requests_total'), 'counter');
  assert.equal(types.get('weft_request_duration_seconds'), 'histogram');
  assert.equal(help.get('weft_requests_total'), 'Requests handled.\\nOne line.');

  const find = (name: string, labels: Record<string, string>) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.deepEqual(find('envoy_cluster_upstream_rq_total', {}).map((s) => [s.labels['envoy_cluster_name'], s.value]), [
    ['backend', 3],
    ['other', 7],
  ]);
  assert.deepEqual(find('envoy_cluster_upstream_rq', { envoy_response_code: '200' })[0]?.value, 2);
  assert.equal(find('envoy_listener_downstream_cx_total', { envoy_listener_address: '127.0.0.1_8080' })[0]?.value, 4);
  assert.equal(find('weft_requests_total', { destination_service: 'a"b\\c\nd', response_code: '200' })[0]?.value, 3);
  assert.equal(find('weft_requests_total', { destination_service: 'svc', response_code: '503' })[0]?.value, 1);
  const seconds = (le: string) => find('weft_request_duration_seconds_bucket', { destination_service: 'svc', le })[0]?.value;
  assert.equal(seconds('0.0025'), 0);
  assert.equal(seconds('0.005'), 1);
  assert.equal(seconds('10'), 1);
  assert.equal(seconds('30'), 2);
  assert.equal(seconds('+Inf'), 2);
  assert.equal(find('weft_request_duration_seconds_count', { destination_service: 'svc' })[0]?.value, 2);
  assert.equal(find('weft_request_duration_seconds_sum', { destination_service: 'svc' })[0]?.value, 20.003);
  // Cumulative buckets never decrease.
  const les = find('envoy_cluster_upstream_rq_time_bucket', { envoy_cluster_name: 'backend' }).map((s) => s.value);
  assert.deepEqual(les, les.slice().sort((a, b) => a - b));
});

test('labelled metrics: bind returns the cached child; wrong arity and conflicting labels are rejected', () => {
  const store = createStatsStore();
  const c = store.labelledCounter('weft_requests_total', 'help', ['a', 'b']);
  assert.equal(c.bind(['x', 'y']), c.bind(['x', 'y']));
  assert.notEqual(c.bind(['x', 'y']), c.bind(['x', 'z']));
  assert.equal(store.labelledCounter('weft_requests_total', 'help', ['a', 'b']), c);
  assert.throws(() => c.inc(['only-one']), /takes 2 label values/);
  assert.throws(() => store.labelledCounter('weft_requests_total', 'help', ['a']), /already registered/);
  assert.throws(() => store.labelledCounter('bad-name', 'help', []), /invalid Prometheus metric name/);
  assert.throws(() => store.labelledHistogram('weft_x', 'help', ['le']), /invalid Prometheus label name/);
});

test('merge sums counters, gauges, histogram buckets and labelled series across snapshots', () => {
  const primary = createStatsStore();
  primary.counter('cluster.a.upstream_rq_total').inc(1);
  primary.gauge('cluster.a.upstream_cx_active').set(2);
  primary.histogram('cluster.a.upstream_rq_time').record(3);
  primary.labelledCounter('weft_requests_total', 'h', ['response_code']).inc(['200']);

  const worker = createStatsStore();
  worker.counter('cluster.a.upstream_rq_total').inc(10);
  worker.counter('cluster.b.upstream_rq_total').inc(5);
  worker.gauge('cluster.a.upstream_cx_active').set(3);
  worker.histogram('cluster.a.upstream_rq_time').record(700);
  worker.labelledCounter('weft_requests_total', 'h', ['response_code']).inc(['200'], 4);
  worker.labelledHistogram('weft_request_duration_seconds', 'd', ['response_code']).record(['200'], 0.2);
  // Snapshots cross a process boundary as JSON.
  const snapshot = JSON.parse(JSON.stringify(worker.snapshot()));

  const merged = primary.merge([snapshot, createStatsStore().snapshot()]);
  assert.equal(
    merged.renderText(),
    [
      'cluster.a.upstream_cx_active: 5',
      'cluster.a.upstream_rq_total: 11',
      'cluster.b.upstream_rq_total: 5',
      'cluster.a.upstream_rq_time: P0(nan,3) P25(nan,4) P50(nan,5) P75(nan,600) P90(nan,660) P95(nan,680) P99(nan,696) P99.5(nan,698) P99.9(nan,699.6) P100(nan,700)',
      '',
    ].join('\n'),
  );
  const prom = merged.renderPrometheus(/weft_/);
  assert.match(prom, /^weft_requests_total\{response_code="200"\} 5$/m);
  assert.match(prom, /^weft_request_duration_seconds_bucket\{response_code="200",le="0.25"\} 1$/m);
  // The live store is unchanged and the view is read-only.
  assert.equal(primary.counter('cluster.a.upstream_rq_total').value(), 1);
  assert.throws(() => merged.counter('x'), /read-only/);
});

test('histogram quantiles interpolate within buckets and clamp to min/max', () => {
  const h = new HistogramData([10, 20]);
  for (let i = 1; i <= 100; i++) h.record(i % 2 === 0 ? 15 : 5);
  assert.equal(h.quantile(0), 5);
  assert.equal(h.quantile(1), 15);
  // Half the samples in (0, 10], half in (10, 20]; edges clamped to the seen min 5 and max 15.
  assert.equal(h.quantile(0.25), 7.5);
  assert.equal(h.quantile(0.5), 10);
  assert.equal(h.quantile(0.75), 12.5);
  h.record(Number.NaN);
  h.record(-1);
  assert.equal(h.count, 100);
  assert.ok(Number.isNaN(new HistogramData([1]).quantile(0.5)));
});
