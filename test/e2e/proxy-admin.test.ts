/**
 * Observability and admin of a real `weft proxy`: file access logs (default JSON,
 * custom json_format, text format) checked value by value, and the admin
 * endpoints (/ready, /stats in text / JSON / filtered, /stats/prometheus parsed as
 * exposition format, /config_dump, /clusters, /server_info, unknown paths).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { curl, freePort, startHttpProxy, startUpstream, statValue, waitFor, type HttpProxyProcess, type Upstream } from './harness.js';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const TEXT_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "%UPSTREAM_HOST%" "%REQ(USER-AGENT)%"\n';

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

describe('weft proxy: access logs and admin', () => {
  let app: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;
  let downPort: number;
  let dir: string;
  let defaultLog: string;
  let customLog: string;
  let textLog: string;
  /** Requests sent so far through the listener (for the stats assertions). */
  let sent = 0;

  before(async () => {
    app = await startUpstream(undefined, 'app');
    downPort = await freePort(); // nothing listens here
    dir = mkdtempSync(join(tmpdir(), 'weft-e2e-logs-'));
    defaultLog = join(dir, 'default.log');
    customLog = join(dir, 'custom.log');
    textLog = join(dir, 'text.log');
    proxy = await startHttpProxy({
      listener: {
        routes: [
          { name: 'app-route', match: { prefix: '/app' }, route: { cluster: 'app' } },
          { match: { prefix: '/down' }, route: { cluster: 'down' } },
        ],
        hcm: {
          access_log: [
            { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: defaultLog } },
            {
              name: 'envoy.access_loggers.file',
              typed_config: {
                '@type': FILE_LOG,
                path: customLog,
                log_format: {
                  json_format: {
                    verb: '%REQ(:METHOD)%',
                    code: '%RESPONSE_CODE%',
                    flags: '%RESPONSE_FLAGS%',
                    upstream: '%UPSTREAM_HOST%',
                    cluster: '%UPSTREAM_CLUSTER%',
                    rx: '%BYTES_RECEIVED%',
                    tx: '%BYTES_SENT%',
                    took: '%DURATION%',
                    agent: 'ua=%REQ(USER-AGENT)%',
                    route: '%ROUTE_NAME%',
                    fixed: 'constant',
                  },
                },
              },
            },
            { name: 'envoy.access_loggers.file', typed_config: { '@type': FILE_LOG, path: textLog, log_format: { text_format_source: { inline_string: TEXT_FORMAT } } } },
          ],
        },
      },
      clusters: [
        { name: 'app', ports: [app.port] },
        { name: 'down', ports: [downPort], connect_timeout: '0.5s' },
      ],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends one request with curl and waits (at most 1 s) for its line in all three logs. */
  async function send(args: string[], stdin?: string): Promise<{ body: string; logged: [Record<string, unknown>, Record<string, unknown>, string] }> {
    const expected = lines(defaultLog).length + 1;
    const res = await curl(['-A', 'e2e-agent/1.0', ...args], stdin);
    assert.equal(res.code, 0, res.stderr);
    sent++;
    const done = Date.now();
    await waitFor(() => lines(defaultLog).length >= expected && lines(customLog).length >= expected && lines(textLog).length >= expected, 'the access log lines', 1000);
    assert.ok(Date.now() - done <= 1000);
    assert.equal(lines(defaultLog).length, expected, 'one line per request');
    return {
      body: res.stdout,
      logged: [JSON.parse(lines(defaultLog).at(-1)!), JSON.parse(lines(customLog).at(-1)!), lines(textLog).at(-1)!],
    };
  }

  it('logs a proxied GET with Envoy\'s keys and the right values', async () => {
    const { body, logged } = await send([`http://127.0.0.1:${port}/app/get?x=1`]);
    const [line, custom, text] = logged;
    assert.equal(line['method'], 'GET');
    assert.equal(line['path'], '/app/get?x=1');
    assert.equal(line['protocol'], 'HTTP/1.1');
    assert.equal(line['response_code'], 200);
    assert.equal(line['response_flags'] ?? '-', '-');
    assert.equal(line['bytes_received'], 0);
    assert.equal(line['bytes_sent'], Buffer.byteLength(body));
    assert.equal(typeof line['duration'], 'number');
    assert.ok((line['duration'] as number) >= 0 && (line['duration'] as number) < 5000);
    assert.equal(line['upstream_host'], `127.0.0.1:${app.port}`);
    assert.equal(line['upstream_cluster'], 'app');
    assert.equal(line['route_name'], 'app-route');
    assert.equal(line['user_agent'], 'e2e-agent/1.0');
    assert.equal(line['authority'], `127.0.0.1:${port}`);
    assert.equal(line['request_id'], (JSON.parse(body) as { headers: Record<string, string> }).headers['x-request-id']);
    assert.match(String(line['downstream_remote_address']), /^127\.0\.0\.1:\d+$/);
    assert.ok(Math.abs(Date.parse(String(line['start_time'])) - Date.now()) < 60_000, String(line['start_time']));
    assert.match(String(line['upstream_service_time']), /^\d+$/);

    assert.deepEqual(
      { ...custom, took: typeof custom['took'] },
      { verb: 'GET', code: 200, flags: null, upstream: `127.0.0.1:${app.port}`, cluster: 'app', rx: 0, tx: Buffer.byteLength(body), took: 'number', agent: 'ua=e2e-agent/1.0', route: 'app-route', fixed: 'constant' },
    );
    assert.match(text, new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\dT[^\\]]+Z\\] "GET /app/get\\?x=1 HTTP/1\\.1" 200 - 0 ${Buffer.byteLength(body)} \\d+ "127\\.0\\.0\\.1:${app.port}" "e2e-agent/1\\.0"$`));
  });

  it('logs bytes received for a POST body', async () => {
    const payload = 'x'.repeat(1000);
    const { body, logged } = await send(['--data-binary', '@-', '-H', 'content-type: text/plain', `http://127.0.0.1:${port}/app/post`], payload);
    assert.equal((JSON.parse(body) as { bodyBytes: number }).bodyBytes, 1000);
    const [line, custom, text] = logged;
    assert.equal(line['method'], 'POST');
    assert.equal(line['bytes_received'], 1000);
    assert.equal(custom['rx'], 1000);
    assert.match(text, / "POST \/app\/post HTTP\/1\.1" 200 - 1000 /);
  });

  it('logs an upstream connect failure (503 UF) and a missing route (404 NR)', async () => {
    const down = await send([`http://127.0.0.1:${port}/down`]);
    const [line, custom, text] = down.logged;
    assert.equal(line['response_code'], 503);
    assert.equal(line['response_flags'], 'UF');
    assert.equal(line['upstream_host'], `127.0.0.1:${downPort}`);
    assert.equal(line['upstream_cluster'], 'down');
    assert.equal(line['bytes_sent'], Buffer.byteLength(down.body));
    assert.equal(custom['flags'], 'UF');
    assert.match(text, new RegExp(`" 503 UF 0 ${Buffer.byteLength(down.body)} \\d+ "127\\.0\\.0\\.1:${downPort}"`));

    const missing = await send([`http://127.0.0.1:${port}/nowhere`]);
    assert.equal(missing.logged[0]['response_code'], 404);
    assert.equal(missing.logged[0]['response_flags'], 'NR');
    assert.equal(missing.logged[0]['upstream_host'] ?? '-', '-');
    assert.equal(missing.logged[1]['upstream'], null);
    assert.match(missing.logged[2], /" 404 NR 0 \d+ \d+ "-" /);
  });

  it('/ready and /server_info report LIVE; an unknown admin path is 404', async () => {
    const ready = await proxy.admin('/ready');
    assert.equal(ready.status, 200);
    assert.equal(await ready.text(), 'LIVE\n');
    const info = await proxy.admin('/server_info');
    assert.match(info.headers.get('content-type') ?? '', /application\/json/);
    const body = (await info.json()) as { state: string; node: { id: string; cluster: string } };
    assert.equal(body.state, 'LIVE');
    assert.deepEqual([body.node.id, body.node.cluster], ['test-proxy', 'test']);
    const missing = await proxy.admin('/no/such/endpoint');
    assert.equal(missing.status, 404);
    await missing.text();
  });

  it('/stats as text, JSON and filtered count the requests', async () => {
    const textStats = await (await proxy.admin('/stats')).text();
    const counters = new Map<string, string>();
    for (const line of textStats.split('\n')) {
      if (line === '') continue;
      const match = /^([^:\s]+): (.+)$/.exec(line);
      assert.ok(match, `stats text line "${line}" is "name: value"`);
      counters.set(match[1]!, match[2]!);
    }
    assert.equal(counters.get('http.ingress.downstream_rq_total'), String(sent));
    assert.equal(counters.get('http.ingress.downstream_rq_2xx'), '2');
    assert.equal(counters.get('http.ingress.downstream_rq_5xx'), '1');
    assert.equal(counters.get('http.ingress.downstream_rq_4xx'), '1');
    assert.equal(counters.get('cluster.app.upstream_rq_total'), '2');
    assert.equal(counters.get('cluster.down.upstream_cx_connect_fail'), '1');

    const json = (await (await proxy.admin('/stats?format=json')).json()) as { stats: Array<{ name?: string; value?: number; histograms?: unknown }> };
    assert.equal(json.stats.find((s) => s.name === 'http.ingress.downstream_rq_total')?.value, sent);
    assert.equal(await statValue(proxy, 'cluster.app.upstream_rq_200'), 2);

    const filtered = await (await proxy.admin(`/stats?filter=${encodeURIComponent('^cluster\\.app\\.')}`)).text();
    const names = filtered.split('\n').filter((l) => l !== '').map((l) => l.split(':')[0]!);
    assert.ok(names.length > 5);
    assert.ok(names.every((n) => n.startsWith('cluster.app.')), names.join(' '));
    const bad = await proxy.admin('/stats?filter=(');
    assert.equal(bad.status, 400);
    await bad.text();
  });

  it('/stats/prometheus is valid exposition format and carries the counters', async () => {
    const res = await proxy.admin('/stats/prometheus');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    assert.ok(body.endsWith('\n'));
    const types = new Map<string, string>();
    const finished = new Set<string>();
    let current = '';
    const samples = new Map<string, number>();
    const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
    for (const line of body.split('\n')) {
      if (line === '') continue;
      if (line.startsWith('#')) {
        const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
        if (type === null) {
          assert.match(line, /^# HELP \S+ /, `comment line "${line}"`);
          continue;
        }
        assert.match(type[1]!, NAME);
        assert.ok(!types.has(type[1]!), `TYPE ${type[1]} declared twice`);
        types.set(type[1]!, type[2]!);
        if (current !== '') finished.add(current);
        current = type[1]!;
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*,?)?\})? (\S+)$/.exec(line);
      assert.ok(sample, `sample line "${line}" is name{labels} value`);
      const [, name, labels, value] = sample;
      assert.ok(/^(-?\d+(\.\d+)?([eE][-+]?\d+)?|[-+]Inf|NaN)$/.test(value!), `value in "${line}"`);
      const family = types.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '');
      assert.ok(types.has(family), `TYPE line before the first sample of ${name}`);
      assert.equal(family, current, `samples of ${family} are grouped after its TYPE line`);
      assert.ok(!finished.has(family));
      if (types.get(family) === 'counter') assert.ok(Number(value) >= 0);
      samples.set(`${name}${labels ?? ''}`, Number(value));
    }
    assert.equal(samples.get(`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="ingress"}`), sent);
    assert.equal(samples.get(`envoy_cluster_upstream_rq_total{envoy_cluster_name="app"}`), 2);
    assert.equal(types.get('envoy_http_downstream_rq_total'), 'counter');
    // Per-status cluster counters (cluster.app.upstream_rq_200) become a response code label.
    const perCode = [...samples].filter(([key]) => key.startsWith('envoy_cluster_upstream_rq{') && key.includes('envoy_cluster_name="app"') && key.includes('envoy_response_code="200"'));
    assert.deepEqual(perCode.map(([, value]) => value), [2]);
    // Histograms: per series (labels without le), cumulative buckets ending in +Inf equal to _count.
    const histograms = [...types].filter(([, type]) => type === 'histogram').map(([name]) => name);
    assert.ok(histograms.length > 0, 'at least one histogram');
    let checked = 0;
    for (const histogram of histograms) {
      const series = new Map<string, Array<[number, number]>>();
      for (const [key, value] of samples) {
        const match = new RegExp(`^${histogram}_bucket\\{(.*)\\}$`).exec(key);
        if (match === null) continue;
        const labels = match[1]!.split(/,(?=[a-zA-Z_]+=")/);
        const le = labels.find((l) => l.startsWith('le='))!.slice(4, -1);
        const rest = labels.filter((l) => !l.startsWith('le=')).join(',');
        if (!series.has(rest)) series.set(rest, []);
        series.get(rest)!.push([le === '+Inf' ? Infinity : Number(le), value]);
      }
      for (const [rest, buckets] of series) {
        let previous = 0;
        for (const [le, value] of buckets) {
          assert.ok(value >= previous, `${histogram}{${rest}} buckets are cumulative (le=${le})`);
          previous = value;
        }
        assert.equal(buckets.at(-1)![0], Infinity, `${histogram}{${rest}} ends with le="+Inf"`);
        const count = samples.get(rest === '' ? `${histogram}_count` : `${histogram}_count{${rest}}`);
        assert.equal(count, buckets.at(-1)![1], `${histogram}_count{${rest}} equals the +Inf bucket`);
        assert.ok(samples.has(rest === '' ? `${histogram}_sum` : `${histogram}_sum{${rest}}`), `${histogram}_sum{${rest}}`);
        checked++;
      }
    }
    assert.ok(checked > 0);
  });

  it('/config_dump returns the bootstrap as JSON; /clusters lists hosts and their stats', async () => {
    const res = await proxy.admin('/config_dump');
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const dump = (await res.json()) as { configs: Array<Record<string, unknown>> };
    const bootstrap = dump.configs.find((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump') as {
      bootstrap: { node: { id: string }; static_resources: { listeners: Array<{ name: string }>; clusters: Array<{ name: string }> } };
    };
    assert.ok(bootstrap);
    assert.equal(bootstrap.bootstrap.node.id, 'test-proxy');
    assert.deepEqual(bootstrap.bootstrap.static_resources.clusters.map((c) => c.name), ['app', 'down']);
    assert.deepEqual(bootstrap.bootstrap.static_resources.listeners.map((l) => l.name), ['http']);
    assert.ok(dump.configs.some((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump'));
    assert.ok(dump.configs.some((c) => c['@type'] === 'type.googleapis.com/envoy.admin.v3.ListenersConfigDump'));

    const clusters = await (await proxy.admin('/clusters')).text();
    assert.match(clusters, new RegExp(`^app::127\\.0\\.0\\.1:${app.port}::health_flags::healthy$`, 'm'));
    assert.match(clusters, new RegExp(`^app::127\\.0\\.0\\.1:${app.port}::rq_active::0$`, 'm'));
    assert.match(clusters, new RegExp(`^app::127\\.0\\.0\\.1:${app.port}::weight::1$`, 'm'));
    assert.match(clusters, new RegExp(`^down::127\\.0\\.0\\.1:${downPort}::hostname::127\\.0\\.0\\.1$`, 'm'));
    assert.match(clusters, /^app::default_priority::max_connections::1024$/m);
    const json = (await (await proxy.admin('/clusters?format=json')).json()) as { cluster_statuses: Array<{ name: string }> };
    assert.deepEqual(json.cluster_statuses.map((c) => c.name).sort(), ['app', 'down']);
  });
});
