import assert from 'node:assert/strict';
import * as http from 'node:http';
import type * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import type { ClusterConfig } from '../../../src/proxy/config/types.js';
import { createClusterManager } from '../../../src/proxy/upstream/cluster-manager.js';
import type { ClusterManager, UpstreamConnection } from '../../../src/proxy/upstream/types.js';
import { clusterConfig, endpoint, TestStats, tcpServer, waitFor, type TestServer } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function manager(): { cm: ClusterManager; stats: TestStats } {
  const stats = new TestStats();
  const cm = createClusterManager({ stats });
  cleanups.push(() => cm.close());
  return { cm, stats };
}

async function server(): Promise<TestServer> {
  const s = await tcpServer();
  cleanups.push(() => s.close());
  return s;
}

function connection(cm: ClusterManager, cluster: string): Promise<UpstreamConnection> {
  return new Promise((resolve, reject) =>
    cm.get(cluster)!.hosts()[0]!.pool.acquire((err, conn) => (err ? reject(new Error(err.message)) : resolve(conn!))),
  );
}

describe('cluster manager', () => {
  it('keeps unchanged clusters with their pools, replaces changed ones and drains removed ones', async () => {
    const srv = await server();
    const { cm, stats } = manager();
    const a = clusterConfig({ name: 'a', endpoints: [endpoint('127.0.0.1', srv.port)] });
    const b = clusterConfig({ name: 'b', endpoints: [endpoint('127.0.0.1', srv.port)] });
    const c = clusterConfig({ name: 'c', endpoints: [endpoint('127.0.0.1', srv.port)] });
    cm.update([a, b, c]);
    await cm.ready();
    assert.deepEqual(cm.all().map((x) => x.name), ['a', 'b', 'c']);
    const clusterA = cm.get('a')!;
    const clusterB = cm.get('b')!;
    const idleA = await connection(cm, 'a');
    const idleB = await connection(cm, 'b');
    const busyC = await connection(cm, 'c');
    clusterA.hosts()[0]!.pool.release(idleA, true);
    clusterB.hosts()[0]!.pool.release(idleB, true);

    // a: deep-equal copy (kept); b: new connect timeout (replaced); c: removed.
    cm.update([structuredClone(a), { ...b, connectTimeoutMs: 2000 }]);
    assert.equal(cm.get('a'), clusterA);
    assert.notEqual(cm.get('b'), clusterB);
    assert.equal(cm.get('c'), undefined);
    assert.equal(await connection(cm, 'a'), idleA, 'the kept cluster reuses its idle connection');
    assert.equal(idleB.socket.destroyed, true, 'the replaced cluster drained its idle connection');
    assert.equal(busyC.socket.destroyed, false, 'a removed cluster lets requests in flight finish');
    busyC.host.pool.release(busyC, true);
    assert.equal(busyC.socket.destroyed, true);
    await waitFor(() => stats.get('cluster.c.upstream_cx_active') === 0);
  });

  it('moves a static cluster whose only change is its endpoints onto them in place', async () => {
    const srv = await server();
    const { cm } = manager();
    const config = clusterConfig({ name: 'eds', type: 'EDS', endpoints: [endpoint('127.0.0.1', srv.port)] });
    cm.update([config]);
    const cluster = cm.get('eds')!;
    const conn = await connection(cm, 'eds');
    conn.host.pool.release(conn, true);
    const next: ClusterConfig = { ...config, endpoints: [...config.endpoints, endpoint('127.0.0.2', srv.port)] };
    cm.update([next]);
    assert.equal(cm.get('eds'), cluster);
    assert.equal(cluster.config, next);
    assert.equal(cluster.hosts().length, 2);
    assert.equal(await connection(cm, 'eds'), conn);
  });

  it('is ready only after DNS and the first health check round', async () => {
    let healthy = false;
    const hc = http.createServer((_req, res) => res.writeHead(healthy ? 200 : 503).end());
    await new Promise<void>((r) => hc.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => hc.close(() => r())));
    const port = (hc.address() as net.AddressInfo).port;
    const { cm } = manager();
    cm.update([
      clusterConfig({ name: 'dns', type: 'STRICT_DNS', dnsLookupFamily: 'V4_ONLY', endpoints: [endpoint('localhost', port)] }),
      clusterConfig({
        name: 'checked',
        endpoints: [endpoint('127.0.0.1', port)],
        healthChecks: [
          {
            timeoutMs: 500,
            intervalMs: 20,
            intervalJitterMs: 0,
            unhealthyThreshold: 1,
            healthyThreshold: 1,
            noTrafficIntervalMs: 20,
            http: { path: '/', expectedStatuses: [[200, 201]], requestHeadersToAdd: [] },
          },
        ],
      }),
    ]);
    assert.equal(cm.get('dns')!.hosts().length, 0);
    assert.equal(cm.get('checked')!.hosts()[0]!.healthy(), false);
    await cm.ready();
    assert.deepEqual(cm.get('dns')!.hosts().map((h) => h.address), ['127.0.0.1']);
    assert.equal(cm.get('checked')!.hosts()[0]!.healthy(), false, 'first round done, check failed');
    healthy = true;
    await waitFor(() => cm.get('checked')!.hosts()[0]!.healthy(), 2000, 'healthy');
  });

  it('close() destroys every socket, including those of retired clusters', async () => {
    const srv = await server();
    const { cm } = manager();
    const config = clusterConfig({ name: 'x', endpoints: [endpoint('127.0.0.1', srv.port)] });
    cm.update([config]);
    const retiredBusy = await connection(cm, 'x');
    cm.update([]);
    cm.update([config]);
    const current = await connection(cm, 'x');
    await cm.close();
    assert.equal(retiredBusy.socket.destroyed, true);
    assert.equal(current.socket.destroyed, true);
    assert.deepEqual(cm.all(), []);
  });
});
