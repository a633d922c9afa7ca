import assert from 'node:assert/strict';
import * as dns from 'node:dns';
import * as http from 'node:http';
import type * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { HealthCheckConfig } from '../../../../src/proxy/config/types.js';
import { createCluster, type ManagedCluster } from '../../../../src/proxy/upstream/cluster.js';
import { defaultConnect } from '../../../../src/proxy/upstream/pool.js';
import { clusterConfig, endpoint, hostsOf, TestStats, tcpServer, waitFor } from '../helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function healthCheck(overrides: Partial<HealthCheckConfig>): HealthCheckConfig {
  return {
    // Generous: on a busy CI machine a first probe that times out leaves the host unhealthy when the
    // cluster reports initialized, and tests that expect a healthy start fail. The timeout test sets its own.
    timeoutMs: 5000,
    intervalMs: 20,
    intervalJitterMs: 0,
    unhealthyThreshold: 2,
    healthyThreshold: 2,
    noTrafficIntervalMs: 20,
    ...overrides,
  };
}

function startCluster(port: number, check: HealthCheckConfig, healthCheckPort = 0) {
  const stats = new TestStats();
  const cluster: ManagedCluster = createCluster(
    clusterConfig({ endpoints: [{ ...endpoint('127.0.0.1', port), healthCheckPort }], healthChecks: [check] }),
    { stats, now: Date.now, random: Math.random, lookup: dns.lookup, connect: defaultConnect },
  );
  cleanups.push(() => cluster.shutdown(true));
  return {
    cluster,
    host: hostsOf(cluster.hosts())[0]!,
    stat: (name: string) => stats.get(`cluster.backend.${name}`),
  };
}

interface CheckRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  status: number;
  hostHealthyOnArrival: boolean;
}

async function httpServer(statusFor: () => number, healthyNow: () => boolean) {
  const requests: CheckRequest[] = [];
  const server = http.createServer((req, res) => {
    const status = statusFor();
    requests.push({ path: req.url!, headers: req.headers, status, hostHealthyOnArrival: healthyNow() });
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let closed = false;
  const close = () =>
    closed
      ? undefined
      : new Promise<void>((r) => {
          closed = true;
          server.closeAllConnections();
          server.close(() => r());
        });
  cleanups.push(close);
  return { port: (server.address() as net.AddressInfo).port, requests, close };
}

describe('active health checks', () => {
  it('HTTP: starts unhealthy, one startup success to healthy, wrong status is unhealthy at once, then healthy_threshold', async () => {
    let status = 200;
    let healthyNow = () => false;
    const srv = await httpServer(() => status, () => healthyNow());
    const t = startCluster(srv.port, healthCheck({ http: { path: '/healthz', expectedStatuses: [[200, 201]], requestHeadersToAdd: [{ key: 'x-probe', value: '1', appendAction: 'APPEND_IF_EXISTS_OR_ADD' }] } }));
    healthyNow = () => t.host.healthy();
    assert.equal(t.host.healthy(), false);
    assert.equal(t.stat('membership_healthy'), 0);
    await t.cluster.initialized;
    assert.equal(t.host.healthy(), true);
    assert.equal(t.stat('membership_healthy'), 1);
    assert.equal(t.stat('health_check.healthy'), 1);
    const first = srv.requests[0]!;
    assert.equal(first.path, '/healthz');
    assert.equal(first.headers.host, 'backend');
    assert.equal(first.headers['user-agent'], 'Envoy/HC');
    assert.equal(first.headers['x-probe'], '1');

    status = 503;
    await waitFor(() => !t.host.healthy(), 2000, 'unhealthy');
    // One 503 sufficed although unhealthy_threshold is 2.
    assert.equal(srv.requests.filter((r) => r.status === 503).length, 1);
    assert.equal(t.stat('health_check.healthy'), 0);
    assert.ok(t.stat('health_check.failure') >= 1);

    status = 200;
    const flipAt = srv.requests.length;
    await waitFor(() => t.host.healthy(), 2000, 'healthy again');
    const after = srv.requests.slice(flipAt).filter((r) => r.status === 200);
    assert.equal(after[1]!.hostHealthyOnArrival, false, 'healthy after only one success');
    assert.ok(t.stat('health_check.success') >= 3);
    assert.ok(t.stat('health_check.attempt') >= t.stat('health_check.success') + 1);
  });

  it('HTTP: network failures take unhealthy_threshold checks; the Host header and ranges come from config', async () => {
    const srv = await httpServer(() => 204, () => true);
    const t = startCluster(
      srv.port,
      healthCheck({ http: { path: '/', host: 'svc.local', expectedStatuses: [[200, 300]], requestHeadersToAdd: [] } }),
    );
    await t.cluster.initialized;
    assert.equal(t.host.healthy(), true);
    assert.equal(srv.requests[0]!.headers.host, 'svc.local');
    await srv.close();
    await waitFor(() => !t.host.healthy(), 2000, 'unhealthy');
    assert.ok(t.stat('health_check.network_failure') >= 2);
  });

  it('probes the endpoint\'s health_check_config port when set', async () => {
    const srv = await httpServer(() => 200, () => true);
    const t = startCluster(1, healthCheck({ http: { path: '/', expectedStatuses: [[200, 201]], requestHeadersToAdd: [] } }), srv.port);
    await t.cluster.initialized;
    assert.equal(t.host.healthy(), true);
    assert.equal(t.host.port, 1);
  });

  it('initializes even when the first check fails, leaving the host unhealthy', async () => {
    const srv = await httpServer(() => 500, () => false);
    const t = startCluster(srv.port, healthCheck({ http: { path: '/', expectedStatuses: [[200, 201]], requestHeadersToAdd: [] } }));
    await t.cluster.initialized;
    assert.equal(t.host.healthy(), false);
    assert.equal(t.stat('health_check.failure'), 1);
  });

  it('TCP: sends the payload and expects every receive block in order', async () => {
    let answer = true;
    const srv = await tcpServer((socket) => {
      socket.on('data', (d) => {
        if (d.toString() === 'ping' && answer) socket.end('po-ng');
        else socket.destroy();
      });
    });
    cleanups.push(() => srv.close());
    const t = startCluster(
      srv.port,
      healthCheck({ tcp: { send: Buffer.from('ping'), receive: [Buffer.from('po'), Buffer.from('ng')] } }),
    );
    await t.cluster.initialized;
    assert.equal(t.host.healthy(), true);
    answer = false;
    await waitFor(() => !t.host.healthy(), 2000, 'unhealthy');
    assert.ok(t.stat('health_check.network_failure') >= 2);
    answer = true;
    await waitFor(() => t.host.healthy(), 2000, 'healthy again');
  });

  it('TCP: a connect-only check succeeds on connect; a timeout is a failure', async () => {
    const srv = await tcpServer();
    cleanups.push(() => srv.close());
    const ok = startCluster(srv.port, healthCheck({ tcp: { receive: [] } }));
    await ok.cluster.initialized;
    assert.equal(ok.host.healthy(), true);

    // The server accepts but never answers: each probe times out.
    const silent = startCluster(srv.port, healthCheck({ timeoutMs: 30, tcp: { send: Buffer.from('x'), receive: [Buffer.from('y')] } }));
    await silent.cluster.initialized;
    assert.equal(silent.host.healthy(), false);
    assert.equal(silent.stat('health_check.network_failure'), 1);
  });
});
