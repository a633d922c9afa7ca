/**
 * The control plane's UI backend against a real mesh: `weft controlplane`, two
 * `ratings` instances (BookInfo's sample app) behind a 50/50 TrafficSplit, a
 * `client` sidecar (outbound only) and a sidecar for ratings-v1 (inbound), all
 * real processes. curl, the independent client, sends the counted requests.
 * Checked: SMI TrafficMetrics with the exact request counts for a service and
 * an edge and sensible latencies, the split's backends, time series, the
 * topology's nodes and edges, proxy detail and config dump, and a short
 * performance run streamed over SSE.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';
import { curl, freePorts, mapLimit, waitFor, WEFT_BIN } from './harness.js';

const SERVE = fileURLToPath(new URL('../../samples/bookinfo/serve.js', import.meta.url));
/** Requests curl sends through the client sidecar to ratings (the split spreads them over v1 and v2). */
const COUNTED = 30;
/** Requests curl sends straight to ratings-v1's inbound sidecar (a caller outside the mesh). */
const DIRECT = 8;
const SMI = '/apis/metrics.smi-spec.io/v1alpha1/namespaces/default';

interface SmiMetrics {
  kind: string;
  resource: { kind: string; name: string };
  edge: { direction: string; resource: { kind: string; name: string } | null };
  metrics: Array<{ name: string; unit?: string; value: string }>;
}

const metric = (m: SmiMetrics | undefined, name: string): number => Number(m?.metrics.find((x) => x.name === name)?.value);
const total = (m: SmiMetrics | undefined): number => metric(m, 'success_count') + metric(m, 'failure_count');
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function meshYaml(ports: { v1: number; v2: number }): string {
  const service = (name: string, selector?: string): string =>
    `apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  ports: [{ name: http, port: 9080, protocol: http }]\n${selector === undefined ? '' : `  selector: { app: ratings, version: ${selector} }\n`}`;
  const workload = (version: 'v1' | 'v2'): string =>
    `apiVersion: mesh.weft.dev/v1alpha1\nkind: Workload\nmetadata: { name: ratings-${version} }\nspec:\n  address: 127.0.0.1\n  ports: [{ name: http, port: ${ports[version]} }]\n  service: ratings\n  labels: { app: ratings, version: ${version} }\n`;
  const split = 'apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata: { name: ratings-rollout }\nspec:\n  service: ratings\n  backends:\n    - { service: ratings-v1, weight: 50 }\n    - { service: ratings-v2, weight: 50 }\n';
  return [service('ratings'), service('ratings-v1', 'v1'), service('ratings-v2', 'v2'), workload('v1'), workload('v2'), split].join('---\n');
}

describe('control plane golden metrics, topology, proxies and perf runs', () => {
  let cp: ControlPlaneProcess;
  let api: string;
  const children: ChildProcess[] = [];
  let ports: { v1: number; v2: number; clientAdmin: number; clientOut: number; clientIn: number; v1Admin: number; v1Out: number; v1In: number };
  const getJson = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await cp.api(path);
    return { status: res.status, body: (await res.json()) as T };
  };
  let logs = '';
  const start = (command: string, args: string[]): void => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    children.push(child);
  };
  const sidecar = (workload: string, admin: number, outbound: number, inbound: number): void =>
    start(WEFT_BIN, ['proxy', '--workload', workload, '--control-plane', `127.0.0.1:${cp.xdsPort}`, '--admin-port', String(admin), '--outbound-port', String(outbound), '--inbound-port', String(inbound), '--drain-timeout', '1']);

  before(async () => {
    const [v1, v2, clientAdmin, clientOut, clientIn, v1Admin, v1Out, v1In] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    ports = { v1, v2, clientAdmin, clientOut, clientIn, v1Admin, v1Out, v1In };
    cp = await startControlPlane(await newSqliteConfig());
    api = cp.url;
    const applied = await cp.weft(['apply', '-f', '-'], meshYaml(ports));
    assert.equal(applied.code, 0, `weft apply: ${applied.stderr}`);
    start(process.execPath, [SERVE, 'ratings', '--port', String(v1), '--instance', 'ratings-v1']);
    start(process.execPath, [SERVE, 'ratings', '--port', String(v2), '--version', 'v2', '--instance', 'ratings-v2']);
    sidecar('client', clientAdmin, clientOut, clientIn);
    sidecar('ratings-v1', v1Admin, v1Out, v1In);
    // Readiness probes with node:http (fetch cannot set Host; curl's stdin can race a refused connection).
    const serves = async (url: string, host?: string): Promise<boolean> => {
      const ok = await new Promise<boolean>((resolve) => {
        get(url, host === undefined ? {} : { headers: { host } }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        }).on('error', () => resolve(false));
      });
      return ok || sleep(300).then(() => false);
    };
    await waitFor(() => serves(`http://127.0.0.1:${clientOut}/ratings/0`, 'ratings:9080'), 'the client sidecar to route to ratings', 80_000)
      .catch((err: Error) => assert.fail(`${err.message}\n${logs.slice(-4000)}`));
    await waitFor(() => serves(`http://127.0.0.1:${v1In}/ratings/0`), 'the ratings-v1 sidecar to serve', 30_000);
    // Tests compare counts before and after their own requests: the probes above must be in a finished scrape.
    const scrapes = async (): Promise<string> => {
      const { body } = await getJson<{ items: Array<{ metrics: { lastScrapeAt: string | null } }> }>('/api/v1/proxies');
      return body.items.length === 2 && body.items.every((p) => p.metrics.lastScrapeAt !== null) ? body.items.map((p) => p.metrics.lastScrapeAt).join() : '';
    };
    const first = await waitFor(() => sleep(500).then(scrapes), 'both sidecars to be scraped', 20_000);
    await waitFor(() => sleep(500).then(async () => { const now = await scrapes(); return now !== '' && now !== first; }), 'the next scrape', 20_000);
  });

  after(async () => {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    await cp?.stop();
  });

  it('counts a service and its edges exactly, with sensible latencies, and splits by backend', async () => {
    type Snapshot = { service: SmiMetrics; edges: SmiMetrics[]; split: SmiMetrics[]; v1: SmiMetrics };
    const snapshot = async (): Promise<Snapshot> => ({
      service: (await getJson<SmiMetrics>(`${SMI}/services/ratings?window=5m`)).body,
      edges: (await getJson<{ items: SmiMetrics[] }>(`${SMI}/services/ratings/edges?window=5m`)).body.items,
      split: (await getJson<{ items: SmiMetrics[] }>(`${SMI}/trafficsplits/ratings-rollout/edges?window=5m`)).body.items,
      v1: (await getJson<SmiMetrics>(`${SMI}/workloads/ratings-v1?window=5m`)).body,
    });
    const edge = (s: Snapshot, direction: string, name: string): SmiMetrics | undefined => s.edges.find((m) => m.edge.direction === direction && m.edge.resource?.name === name);
    const backend = (s: Snapshot, name: string): SmiMetrics | undefined => s.split.find((m) => m.edge.resource?.name === name);
    const before = await snapshot();
    assert.equal(before.service.kind, 'TrafficMetrics');
    const sent = await mapLimit(Array.from({ length: COUNTED + DIRECT }, (_, i) => i), 4, (i) =>
      curl(['-sf', ...(i < COUNTED ? ['-H', 'Host: ratings:9080', `http://127.0.0.1:${ports.clientOut}/ratings/${i}`] : [`http://127.0.0.1:${ports.v1In}/ratings/${i}`])]));
    assert.deepEqual(sent.filter((r) => r.code !== 0), []);

    let seen = 0;
    const after = await waitFor(async () => {
      await sleep(1000);
      const s = await snapshot();
      seen = total(s.service);
      return seen === total(before.service) + COUNTED + DIRECT ? s : undefined;
    }, `ratings to count ${COUNTED + DIRECT} more requests`, 30_000).catch((err: Error) => assert.fail(`${err.message}: before ${total(before.service)}, now ${seen}`));
    await sleep(5500);
    assert.equal(total((await snapshot()).service), total(after.service), 'nothing is counted twice by a later scrape');
    assert.equal(metric(after.service, 'failure_count'), metric(before.service, 'failure_count'));

    // Callers: the client sidecar's requests, and the direct ones from outside the mesh.
    assert.equal(total(edge(after, 'from', 'client')), (total(edge(before, 'from', 'client')) || 0) + COUNTED);
    assert.equal(total(edge(after, 'from', 'unknown')), (total(edge(before, 'from', 'unknown')) || 0) + DIRECT);
    // Servers: the workloads that answered add up to the same requests.
    const served = (s: Snapshot): number => total(edge(s, 'to', 'ratings-v1')) + (total(edge(s, 'to', 'ratings-v2')) || 0);
    assert.equal(served(after) - served(before), COUNTED + DIRECT);
    // The split's backends share the client's requests (50/50, each well above zero).
    const v1Share = total(backend(after, 'ratings-v1')) - (total(backend(before, 'ratings-v1')) || 0);
    const v2Share = total(backend(after, 'ratings-v2')) - (total(backend(before, 'ratings-v2')) || 0);
    assert.equal(v1Share + v2Share, COUNTED);
    assert.ok(v1Share >= 6 && v2Share >= 6, `split ${v1Share}/${v2Share}`);
    // The workload counts what it served: its share of the split and the direct requests.
    assert.equal(total(after.v1) - total(before.v1), v1Share + DIRECT);

    const [p50, p90, p99] = ['p50_response_latency', 'p90_response_latency', 'p99_response_latency'].map((n) => metric(after.service, n)) as [number, number, number];
    assert.ok(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 < 5000, `latencies in ms are ordered and plausible: p50 ${p50}, p90 ${p90}, p99 ${p99}`);
    assert.equal(after.service.metrics.find((m) => m.name === 'p99_response_latency')?.unit, 'ms');
    const { body: list } = await getJson<{ kind: string; items: SmiMetrics[] }>(`${SMI}/services`);
    assert.equal(list.kind, 'TrafficMetricsList');
    assert.deepEqual(list.items.map((m) => m.resource.name).sort(), ['ratings', 'ratings-v1', 'ratings-v2']);
  });

  it('serves 5 s time series and the topology: nodes, and edges with traffic', async () => {
    const { body: series } = await getJson<{ stepSeconds: number; points: Array<{ timestamp: number; rps: number; requests: number; p99Ms: number | null }> }>('/api/v1/metrics/namespaces/default/services/ratings/series?range=1m');
    assert.equal(series.stepSeconds, 5);
    assert.ok(series.points.length >= 3 && series.points.length <= 12, `one point per 5 s since the control plane started, at most 1m: ${series.points.length}`);
    assert.ok(series.points.some((p) => p.requests > 0 && p.rps > 0 && p.p99Ms !== null), 'some point carries traffic');
    for (let i = 1; i < series.points.length; i++) assert.ok(series.points[i]!.timestamp > series.points[i - 1]!.timestamp);

    const { body: graph } = await getJson<{ nodes: Array<{ id: string; kind: string; health: string }>; edges: Array<{ source: string; target: string; metrics: { rps: number; successRate: number | null; p99Ms: number | null } }> }>('/api/v1/topology?window=5m');
    assert.deepEqual(graph.nodes.map((n) => n.id), [
      'service/default/ratings', 'service/default/ratings-v1', 'service/default/ratings-v2',
      'workload/default/client', 'workload/default/ratings-v1', 'workload/default/ratings-v2', 'workload/default/unknown',
    ]);
    assert.equal(graph.nodes.find((n) => n.id === 'workload/default/ratings-v1')?.health, 'healthy');
    assert.equal(graph.nodes.find((n) => n.id === 'service/default/ratings-v1')?.health, 'idle', 'nobody addresses ratings-v1 by name');
    const edges = graph.edges.map((e) => `${e.source} -> ${e.target}`).sort();
    assert.deepEqual(edges, [
      'service/default/ratings -> workload/default/ratings-v1',
      'service/default/ratings -> workload/default/ratings-v2',
      'workload/default/client -> service/default/ratings',
      'workload/default/unknown -> service/default/ratings',
    ]);
    for (const e of graph.edges) assert.ok(e.metrics.rps > 0 && e.metrics.successRate === 1 && e.metrics.p99Ms !== null, JSON.stringify(e));
  });

  it('rejects a bad window with the field and reason, and 404s an unknown resource', async () => {
    const bad = await getJson<{ reason: string; details: { causes: Array<{ field: string }> } }>(`${SMI}/services/ratings?window=20x`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.details.causes[0]?.field, 'querystring.window');
    const tooLong = await getJson<{ details: { causes: Array<{ field: string; message: string }> } }>('/api/v1/topology?window=2h');
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.details.causes[0]?.field, 'window');
    assert.equal((await getJson(`${SMI}/services/nosuch`)).status, 404);
    assert.equal((await getJson(`${SMI}/gateways/x`)).status, 400);
    assert.equal((await getJson(`${SMI}/trafficsplits/nosuch/edges`)).status, 404);
  });

  it('details a proxy (xDS per type, ACKed) and dumps its config with secrets redacted', async () => {
    const { body: proxy } = await getJson<{ nodeId: string; workload: string; adminAddress: string; certExpiry: string | null; xds: Array<{ type: string; state: string; ackedVersion: string }> }>(`/api/v1/proxies/${encodeURIComponent('sidecar~ratings-v1.default')}`);
    assert.equal(proxy.workload, 'ratings-v1');
    assert.equal(proxy.adminAddress, `http://127.0.0.1:${ports.v1Admin}`);
    assert.deepEqual(proxy.xds.map((t) => t.type).sort(), ['CDS', 'EDS', 'LDS', 'RDS']);
    for (const type of proxy.xds) assert.equal(type.state, 'SYNCED', JSON.stringify(type));
    assert.equal(proxy.certExpiry, null, 'this mesh issues no certificates');
    const dump = await cp.api(`/api/v1/proxies/${encodeURIComponent('sidecar~ratings-v1.default')}/config_dump`);
    assert.equal(dump.status, 200);
    const text = await dump.text();
    assert.match(text, /inbound_0\.0\.0\.0_/, 'the proxy\'s own listeners');
    assert.doesNotMatch(text, /PRIVATE KEY/);
    assert.equal((await getJson('/api/v1/proxies/nosuch')).status, 404);
  });

  it('runs a short performance profile with SSE progress and an SMP result', async () => {
    const started = await cp.api(`/api/v1/perf/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${ports.clientOut}/ratings/1`, headers: ['Host: ratings:9080'], rate: 20, duration: '3s', connections: 2 }),
    });
    assert.equal(started.status, 202);
    const run = (await started.json()) as { id: string; state: string };
    assert.equal(run.state, 'running');
    const events = await curl(['-sN', '--max-time', '30', '-H', `authorization: Bearer ${cp.adminToken()}`, `${api}/api/v1/perf/runs/${run.id}/events`]);
    const blocks = events.stdout.split('\n\n').filter((b) => b.startsWith('id:'));
    const parsed = blocks.map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(b)?.[1] ?? 'null') as Record<string, unknown> }));
    const progress = parsed.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 1, events.stdout);
    assert.ok(progress.every((p) => typeof p.data['rps'] === 'number' && typeof p.data['p99Ms'] === 'number' && typeof p.data['percent'] === 'number'));
    const last = parsed[parsed.length - 1]!;
    assert.equal(last.event, 'result', events.stdout);
    const { body: done } = await getJson<{ state: string; result: { smp_version: string; performance_test_result: { latencies_ms: { p50: number; p99: number }; actual_QPS: number } } }>(`/api/v1/perf/runs/${run.id}`);
    assert.equal(done.state, 'done');
    const smp = done.result.performance_test_result;
    assert.ok(smp.latencies_ms.p50 > 0 && smp.latencies_ms.p50 <= smp.latencies_ms.p99, JSON.stringify(smp));
    assert.ok(smp.actual_QPS > 10, `about 20 rps achieved: ${smp.actual_QPS}`);
    const bad = await cp.api(`/api/v1/perf/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: 'http://127.0.0.1:1/', duration: 'soon' }) });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { details: { causes: Array<{ field: string }> } }).details.causes[0]?.field, 'duration');
  });

  it('describes the new routes in /openapi.json', async () => {
    const { body } = await getJson<{ paths: Record<string, unknown> }>('/openapi.json');
    for (const path of [`${SMI.replace('/namespaces/default', '')}/namespaces/{namespace}/{plural}/{name}/edges`, '/api/v1/topology', '/api/v1/proxies/{nodeId}/config_dump', '/api/v1/perf/runs/{id}/events', '/api/v1/metrics/namespaces/{namespace}/{plural}/{name}/series']) {
      assert.ok(path in body.paths, path);
    }
  });
});
