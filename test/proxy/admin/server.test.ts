import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { startAdminServer, type AdminHooks, type AdminServer, type ServerState } from '../../../src/proxy/admin/server.js';
import { createStatsStore } from '../../../src/proxy/observe/stats-store.js';

const stats = createStatsStore();
stats.counter('cluster.backend.upstream_rq_total').inc(3);
stats.counter('http.ingress.downstream_rq_total').inc(5);
stats.labelledCounter('weft_requests_total', 'Requests.', ['response_code']).inc(['200'], 2);

let state: ServerState = 'LIVE';
const calls: string[] = [];
const hooks: AdminHooks = {
  stats: () => stats,
  ready: () => state === 'LIVE',
  state: () => state,
  configDump: () => ({ configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump' }] }),
  clusters: (format) => (format === 'json' ? { cluster_statuses: [{ name: 'backend' }] } : 'backend::10.0.0.1:80::health_flags::healthy\n'),
  certs: () => ({ certificates: [] }),
  drainListeners: async (graceful) => {
    calls.push(`drain graceful=${graceful}`);
  },
  quit: () => calls.push('quit'),
  serverInfo: () => ({ version: 'weft/test', state }),
};

let server: AdminServer;
let base: string;
test.before(async () => {
  server = await startAdminServer({ address: '127.0.0.1', port: 0 }, hooks, pino({ level: 'silent' }));
  base = `http://127.0.0.1:${server.port}`;
});
test.after(() => server.close());

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(base + path, init);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

test('/ready is 200 LIVE, 503 with the state otherwise', async () => {
  assert.deepEqual(await get('/ready'), { status: 200, type: 'text/plain; charset=UTF-8', body: 'LIVE\n' });
  state = 'DRAINING';
  try {
    assert.deepEqual(await get('/ready'), { status: 503, type: 'text/plain; charset=UTF-8', body: 'DRAINING\n' });
  } finally {
    state = 'LIVE';
  }
});

test('/stats text, filter, json and prometheus', async () => {
  const text = await get('/stats');
  assert.equal(text.status, 200);
  assert.equal(text.body, 'cluster.backend.upstream_rq_total: 3\nhttp.ingress.downstream_rq_total: 5\n');
  assert.equal((await get('/stats?filter=^http')).body, 'http.ingress.downstream_rq_total: 5\n');

  const json = await get('/stats?format=json&filter=cluster');
  assert.equal(json.type, 'application/json');
  assert.deepEqual(JSON.parse(json.body), { stats: [{ name: 'cluster.backend.upstream_rq_total', value: 3 }] });

  const prom = await get('/stats/prometheus');
  assert.equal(prom.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(prom.body, /^envoy_cluster_upstream_rq_total\{envoy_cluster_name="backend"\} 3$/m);
  assert.match(prom.body, /^# HELP weft_requests_total Requests\.$/m);
  assert.match(prom.body, /^weft_requests_total\{response_code="200"\} 2$/m);
  assert.deepEqual(await get('/stats?format=prometheus'), prom);

  const bad = await get('/stats?filter=(');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Invalid regex/);
  assert.equal((await get('/stats?format=xml')).status, 400);
});

test('/config_dump, /clusters, /server_info', async () => {
  const dump = await get('/config_dump');
  assert.equal(dump.type, 'application/json');
  assert.deepEqual(JSON.parse(dump.body), hooks.configDump());
  const clusters = await get('/clusters');
  assert.deepEqual(clusters, { status: 200, type: 'text/plain; charset=UTF-8', body: 'backend::10.0.0.1:80::health_flags::healthy\n' });
  assert.deepEqual(JSON.parse((await get('/clusters?format=json')).body), { cluster_statuses: [{ name: 'backend' }] });
  assert.deepEqual(JSON.parse((await get('/server_info')).body), { version: 'weft/test', state: 'LIVE' });
});

test('/help lists every endpoint; an unknown path is 404 with the list', async () => {
  const help = await get('/help');
  for (const path of ['/ready', '/stats', '/stats/prometheus', '/config_dump', '/clusters', '/certs', '/server_info', '/drain_listeners', '/quitquitquit']) {
    assert.match(help.body, new RegExp(`^  ${path}( \\(POST\\))?: `, 'm'));
  }
  const missing = await get('/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /^invalid path\. admin commands are:\n/);
  assert.ok(missing.body.includes('/help'));
});

test('mutating endpoints require POST', async () => {
  const denied = await get('/drain_listeners');
  assert.equal(denied.status, 405);
  assert.equal(denied.body, 'Method GET not allowed, POST required.\n');
  assert.equal((await get('/quitquitquit')).status, 405);
  assert.equal(calls.length, 0);

  assert.equal((await get('/drain_listeners?graceful', { method: 'POST' })).body, 'OK\n');
  assert.equal((await get('/drain_listeners', { method: 'POST' })).body, 'OK\n');
  assert.deepEqual(calls, ['drain graceful=true', 'drain graceful=false']);

  assert.deepEqual(await get('/quitquitquit', { method: 'POST' }), { status: 200, type: 'text/plain; charset=UTF-8', body: 'OK\n' });
  for (let i = 0; i < 100 && !calls.includes('quit'); i++) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(calls, ['drain graceful=true', 'drain graceful=false', 'quit']);
});

test('a failing hook is a 500, and the server keeps serving', async () => {
  const failing = await startAdminServer(
    { address: '127.0.0.1', port: 0 },
    { ...hooks, configDump: () => { throw new Error('boom'); } },
    pino({ level: 'silent' }),
  );
  try {
    const res = await fetch(`http://127.0.0.1:${failing.port}/config_dump`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'internal error\n');
    assert.equal((await fetch(`http://127.0.0.1:${failing.port}/ready`)).status, 200);
  } finally {
    await failing.close();
  }
});

test('listening on a taken port rejects', async () => {
  await assert.rejects(startAdminServer({ address: '127.0.0.1', port: server.port }, hooks, pino({ level: 'silent' })), /EADDRINUSE/);
});
