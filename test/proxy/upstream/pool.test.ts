import assert from 'node:assert/strict';
import * as net from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { createCluster, type ClusterDeps, type ManagedCluster } from '../../../src/proxy/upstream/cluster.js';
import { defaultConnect } from '../../../src/proxy/upstream/pool.js';
import type { ClusterConfig } from '../../../src/proxy/config/types.js';
import type { PoolError, UpstreamConnection } from '../../../src/proxy/upstream/types.js';
import { closedPort, clusterConfig, endpoint, TestStats, tcpServer, waitFor, type TestServer } from './helpers.js';
import * as dns from 'node:dns';

type Result = { err: PoolError | undefined; conn: UpstreamConnection | undefined };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(overrides: Partial<ClusterConfig>, deps: Partial<ClusterDeps> = {}) {
  const stats = new TestStats();
  const cluster: ManagedCluster = createCluster(clusterConfig(overrides), {
    stats,
    now: Date.now,
    random: Math.random,
    lookup: dns.lookup,
    connect: defaultConnect,
    ...deps,
  });
  cleanups.push(() => cluster.shutdown(true));
  return { cluster, stats, stat: (name: string) => stats.get(`cluster.backend.${name}`) };
}

async function server(onSocket?: (s: net.Socket) => void): Promise<TestServer> {
  const s = await tcpServer(onSocket);
  cleanups.push(() => s.close());
  return s;
}

function acquire(cluster: ManagedCluster, hostIndex = 0): Promise<Result> {
  return new Promise((resolve) => cluster.hosts()[hostIndex]!.pool.acquire((err, conn) => resolve({ err, conn })));
}

async function connection(cluster: ManagedCluster, hostIndex = 0): Promise<UpstreamConnection> {
  const { err, conn } = await acquire(cluster, hostIndex);
  assert.equal(err, undefined);
  return conn!;
}

describe('connection pool', () => {
  it('reuses a released connection and sets socket options once at connect', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)] });
    const first = await connection(cluster);
    assert.equal(first.requests, 1);
    first.socket.write('ping');
    cluster.hosts()[0]!.pool.release(first, true);
    const second = await connection(cluster);
    assert.equal(second, first);
    assert.equal(second.requests, 2);
    assert.equal(srv.accepted.length, 1);
    assert.equal(stat('upstream_cx_total'), 1);
    assert.equal(stat('upstream_cx_active'), 1);
    assert.equal(stat('upstream_cx_tx_bytes_total'), 4);
  });

  it('hands out the most recently released connection first (LIFO)', async () => {
    const srv = await server();
    const { cluster } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)] });
    const pool = cluster.hosts()[0]!.pool;
    const [a, b] = await Promise.all([connection(cluster), connection(cluster)]);
    assert.notEqual(a, b);
    pool.release(a, true);
    pool.release(b, true);
    assert.equal(await connection(cluster), b);
    assert.equal(await connection(cluster), a);
  });

  it('calls back synchronously when an idle connection is at hand', async () => {
    const srv = await server();
    const { cluster } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)] });
    const pool = cluster.hosts()[0]!.pool;
    pool.release(await connection(cluster), true);
    let got: UpstreamConnection | undefined;
    pool.acquire((_err, conn) => (got = conn));
    assert.notEqual(got, undefined);
  });

  it('closes connections idle longer than idle_timeout', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)], idleTimeoutMs: 30 });
    const conn = await connection(cluster);
    cluster.hosts()[0]!.pool.release(conn, true);
    await waitFor(() => conn.socket.destroyed, 1000, 'idle timeout');
    await waitFor(() => stat('upstream_cx_active') === 0);
    assert.equal(stat('upstream_cx_idle_timeout'), 1);
    assert.equal(stat('upstream_cx_destroy_local'), 1);
    assert.equal(stat('upstream_cx_destroy'), 1);
  });

  it('drops an idle connection the server closed, and one the server wrote garbage on', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)] });
    const pool = cluster.hosts()[0]!.pool;
    const [a, b] = await Promise.all([connection(cluster), connection(cluster)]);
    pool.release(a, true);
    pool.release(b, true);
    await waitFor(() => srv.accepted.length === 2);
    srv.accepted[0]!.end();
    srv.accepted[1]!.write('HTTP/1.1 200 OK\r\n\r\n');
    await waitFor(() => stat('upstream_cx_destroy') === 2, 1000, 'both idle connections dropped');
    assert.equal(stat('upstream_cx_destroy_remote'), 2);
    const fresh = await connection(cluster);
    assert.notEqual(fresh, a);
    assert.notEqual(fresh, b);
    assert.equal(stat('upstream_cx_total'), 3);
  });

  it('times out a connect that never completes', async () => {
    const { cluster, stat } = await setup(
      { endpoints: [endpoint('127.0.0.1', 9)], connectTimeoutMs: 30 },
      // A socket that is never connected stands in for a blackholed SYN.
      { connect: () => new net.Socket() },
    );
    const started = Date.now();
    const { err, conn } = await acquire(cluster);
    assert.equal(conn, undefined);
    assert.equal(err?.kind, 'connect-timeout');
    assert.ok(Date.now() - started >= 25);
    assert.equal(stat('upstream_cx_connect_timeout'), 1);
    assert.equal(stat('upstream_rq_pending_failure_eject'), 1);
    await waitFor(() => stat('upstream_cx_active') === 0);
    assert.equal(stat('upstream_rq_pending_active'), 0);
  });

  it('reports a refused connect as connect-failure, with the cause', async () => {
    const port = await closedPort();
    const { cluster, stat } = await setup({ endpoints: [endpoint('127.0.0.1', port)] });
    const { err } = await acquire(cluster);
    assert.equal(err?.kind, 'connect-failure');
    assert.equal((err?.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED');
    assert.equal(stat('upstream_cx_connect_fail'), 1);
    assert.equal(stat('upstream_cx_destroy'), 0);
  });

  it('queues requests as pending at max_connections and overflows past max_pending_requests', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({
      endpoints: [endpoint('127.0.0.1', srv.port)],
      circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1024, maxRetries: 3 },
    });
    const pool = cluster.hosts()[0]!.pool;
    const first = await connection(cluster);
    const pending = acquire(cluster);
    assert.equal(stat('upstream_rq_pending_active'), 1);
    assert.equal(stat('upstream_cx_overflow'), 1);
    const overflow = await acquire(cluster);
    assert.equal(overflow.err?.kind, 'overflow');
    assert.equal(stat('upstream_rq_pending_overflow'), 1);
    pool.release(first, true);
    const { conn } = await pending;
    assert.equal(conn, first);
    assert.equal(stat('upstream_rq_pending_active'), 0);
    assert.equal(stat('upstream_rq_pending_total'), 2);
    assert.equal(srv.accepted.length, 1);
  });

  it('a pool short of a connection slot takes one from another host\'s idle connection', async () => {
    const srvA = await server();
    const srvB = await server();
    const { cluster, stat } = await setup({
      endpoints: [endpoint('127.0.0.1', srvA.port), endpoint('127.0.0.1', srvB.port)],
      circuitBreakers: { maxConnections: 1, maxPendingRequests: 10, maxRequests: 1024, maxRetries: 3 },
    });
    const a = await connection(cluster, 0);
    cluster.hosts()[0]!.pool.release(a, true);
    const b = await connection(cluster, 1);
    assert.equal(b.host, cluster.hosts()[1]);
    assert.equal(a.socket.destroyed, true);
    assert.equal(stat('upstream_cx_active'), 1);
  });

  it('cancel() removes a waiting acquire; its callback never runs', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({
      endpoints: [endpoint('127.0.0.1', srv.port)],
      circuitBreakers: { maxConnections: 1, maxPendingRequests: 5, maxRequests: 1024, maxRetries: 3 },
    });
    const pool = cluster.hosts()[0]!.pool;
    const first = await connection(cluster);
    let called = false;
    const handle = pool.acquire(() => (called = true));
    assert.equal(stat('upstream_rq_pending_active'), 1);
    handle.cancel();
    handle.cancel();
    assert.equal(stat('upstream_rq_pending_active'), 0);
    pool.release(first, true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(called, false);
    assert.equal(await connection(cluster), first);
  });

  it('closes a connection after max_requests_per_connection, and on release(conn, false)', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)], maxRequestsPerConnection: 2 });
    const pool = cluster.hosts()[0]!.pool;
    const conn = await connection(cluster);
    pool.release(conn, true);
    assert.equal(await connection(cluster), conn);
    pool.release(conn, true);
    assert.equal(stat('upstream_cx_max_requests'), 1);
    assert.equal(conn.socket.destroyed, true);
    const next = await connection(cluster);
    assert.notEqual(next, conn);
    pool.release(next, false);
    assert.equal(next.socket.destroyed, true);
    await waitFor(() => stat('upstream_cx_destroy_local') === 2);
  });

  it('counts a connection the server closes while in use as a remote destroy', async () => {
    const srv = await server();
    const { cluster, stat, stats } = await setup({ endpoints: [endpoint('127.0.0.1', srv.port)] });
    const conn = await connection(cluster);
    await waitFor(() => srv.accepted.length === 1);
    srv.accepted[0]!.destroy();
    await waitFor(() => stat('upstream_cx_destroy_remote') === 1);
    // A late release of the dead connection changes nothing.
    cluster.hosts()[0]!.pool.release(conn, true);
    assert.equal(stat('upstream_cx_destroy'), 1);
    assert.equal(stat('upstream_cx_active'), 0);
    assert.equal(stats.samples.get('cluster.backend.upstream_cx_length_ms')!.length, 1);
    assert.equal(stats.samples.get('cluster.backend.upstream_cx_connect_ms')!.length, 1);
  });

  it('drain(false) closes idle connections and those released later; drain(true) fails waiters', async () => {
    const srv = await server();
    const { cluster, stat } = await setup({
      endpoints: [endpoint('127.0.0.1', srv.port)],
      circuitBreakers: { maxConnections: 2, maxPendingRequests: 5, maxRequests: 1024, maxRetries: 3 },
    });
    const pool = cluster.hosts()[0]!.pool;
    const [idle, busy] = await Promise.all([connection(cluster), connection(cluster)]);
    pool.release(idle, true);
    pool.drain(false);
    assert.equal(idle.socket.destroyed, true);
    pool.release(busy, true);
    assert.equal(busy.socket.destroyed, true);

    const [c1, c2] = await Promise.all([connection(cluster), connection(cluster)]);
    const waiting = acquire(cluster);
    pool.drain(true);
    const { err } = await waiting;
    assert.equal(err?.kind, 'connect-failure');
    assert.equal(c1.socket.destroyed && c2.socket.destroyed, true);
    await waitFor(() => stat('upstream_cx_active') === 0);
    assert.equal(stat('upstream_rq_pending_active'), 0);
  });
});
