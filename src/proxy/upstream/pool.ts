/**
 * A pool of raw TCP connections to one host, for the connection manager's own
 * HTTP/1.1. One request per connection at a time.
 *
 * Life of a connection: connecting (one connect timer) -> busy (owned by the
 * caller) <-> idle (owned by the pool, LIFO) -> closed. Everything that ends a
 * connection funnels into the socket's 'close' event, where the accounting
 * happens once. The cluster's max_connections is shared by its pools through
 * the resource manager; a pool short of a slot waits for one and asks the
 * cluster to close an idle connection elsewhere so it never starves behind
 * connections nobody uses.
 */
import * as net from 'node:net';
import { isTlsSocket } from '../tls/node-tls.js';
import type { ClusterStats } from './cluster-stats.js';
import type { ManagedHost } from './host.js';
import type { ClusterResources, ConnectionSlotWaiter } from './resource-manager.js';
import type { AcquireCallback, ConnectionPool, PoolError, UpstreamConnection } from './types.js';

export interface PoolOptions {
  connectTimeoutMs: number;
  /** 0 = idle connections never time out. */
  idleTimeoutMs: number;
  /** 0 = unlimited. */
  maxRequestsPerConnection: number;
  resources: ClusterResources;
  stats: ClusterStats;
  now: () => number;
  connect: (address: string, port: number) => net.Socket;
  /** Asks the cluster to close one idle connection of another pool, freeing a connection slot. */
  reclaimIdleConnection(requester: ManagedPool): void;
}

export interface ManagedPool extends ConnectionPool {
  /** Closes this pool's least recently used idle connection; false when it has none. */
  closeOldestIdle(): boolean;
  dumpState(): unknown;
}

const NO_OP_HANDLE = { cancel() {} };

let nextConnectionId = 1;

class PooledConnection implements UpstreamConnection {
  readonly id = nextConnectionId++;
  requests = 0;
  state: 'connecting' | 'idle' | 'busy' | 'closed' = 'connecting';
  readonly startedAt: number;
  connectedAt = 0;
  idleSince = 0;
  closedLocally = false;
  timedOut = false;
  /** Set when a forced drain destroys it while connecting: not a connect failure. */
  abandoned = false;
  error: Error | undefined;
  connectTimer: NodeJS.Timeout | undefined;
  rxReported = 0;
  txReported = 0;
  onData: ((chunk: Buffer) => void) | undefined = undefined;

  constructor(
    readonly socket: net.Socket,
    readonly host: ManagedHost,
    now: number,
  ) {
    this.startedAt = now;
    // One 'data' and one 'end' listener for the connection's life (adding and removing them at
    // each hand-out cost ~1% of the proxy's CPU per request). While idle, any byte or half-close
    // from the server means the connection is unusable.
    socket.on('data', (chunk: Buffer) => {
      if (this.state === 'idle') socket.destroy();
      else this.onData?.(chunk);
    });
    socket.on('end', () => {
      if (this.state === 'idle') socket.destroy();
    });
  }
}

class Waiter {
  done = false;
  constructor(
    private readonly pool: HostConnectionPool,
    readonly cb: AcquireCallback,
  ) {}

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.pool.removeWaiter(this);
  }
}

class HostConnectionPool implements ManagedPool, ConnectionSlotWaiter {
  private readonly idle: PooledConnection[] = [];
  private readonly connections = new Set<PooledConnection>();
  private readonly waiters: Waiter[] = [];
  private connecting = 0;
  private draining = false;
  private waitingForSlot = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly host: ManagedHost,
    private readonly opts: PoolOptions,
  ) {}

  acquire(cb: AcquireCallback): { cancel(): void } {
    const conn = this.popIdle();
    if (conn !== undefined) {
      this.handOut(conn);
      cb(undefined, conn);
      return NO_OP_HANDLE;
    }
    const { resources, stats } = this.opts;
    if (!resources.tryStartPending()) {
      stats.upstream_rq_pending_overflow.inc();
      cb({ kind: 'overflow', message: `pending requests overflow for ${this.host.label}` }, undefined);
      return NO_OP_HANDLE;
    }
    stats.upstream_rq_pending_total.inc();
    const waiter = new Waiter(this, cb);
    this.waiters.push(waiter);
    this.openConnectionsForWaiters();
    return waiter;
  }

  release(connection: UpstreamConnection, reusable: boolean): void {
    const conn = connection as PooledConnection;
    if (conn.state !== 'busy') return;
    this.flushByteCounts(conn);
    if (!reusable || conn.socket.destroyed || !conn.socket.writable) {
      this.closeLocally(conn);
      return;
    }
    const max = this.opts.maxRequestsPerConnection;
    if (max > 0 && conn.requests >= max) {
      this.opts.stats.upstream_cx_max_requests.inc();
      this.closeLocally(conn);
      return;
    }
    this.makeAvailable(conn);
  }

  drain(force: boolean): void {
    this.draining = true;
    while (this.idle.length > 0) this.closeLocally(this.idle[this.idle.length - 1]!);
    this.stopSweep();
    if (!force) return;
    const drained: PoolError = { kind: 'connect-failure', message: `connection pool for ${this.host.label} drained` };
    for (const waiter of this.waiters.splice(0)) this.settle(waiter, drained, undefined);
    for (const conn of this.connections) {
      if (conn.state === 'connecting') conn.abandoned = true;
      this.closeLocally(conn);
    }
  }

  closeOldestIdle(): boolean {
    const oldest = this.idle[0];
    if (oldest === undefined) return false;
    this.closeLocally(oldest);
    return true;
  }

  onConnectionSlotFree(): void {
    this.waitingForSlot = false;
    this.openConnectionsForWaiters();
  }

  removeWaiter(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
    this.opts.resources.endPending();
    this.dropStaleSlotWait();
  }

  dumpState(): unknown {
    return {
      idle: this.idle.length,
      busy: this.connections.size - this.idle.length - this.connecting,
      connecting: this.connecting,
      pending: this.waiters.length,
      draining: this.draining,
    };
  }

  // -- internals ------------------------------------------------------------

  private popIdle(): PooledConnection | undefined {
    let conn: PooledConnection | undefined;
    while ((conn = this.idle.pop()) !== undefined) {
      // A socket destroyed moments ago waits for its 'close' event; skip it.
      if (!conn.socket.destroyed && conn.socket.writable) break;
    }
    if (this.idle.length === 0) this.stopSweep();
    return conn;
  }

  private handOut(conn: PooledConnection): void {
    conn.state = 'busy';
    conn.requests++;
  }

  /** A connection fresh from connect or released reusable: to the oldest waiter, else idle. */
  private makeAvailable(conn: PooledConnection): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.handOut(conn);
      this.settle(waiter, undefined, conn);
      return;
    }
    // Another pool of the cluster starving for a connection slot gets this one's.
    if (this.draining || this.opts.resources.hasConnectionSlotWaiters()) {
      this.closeLocally(conn);
      return;
    }
    conn.state = 'idle';
    conn.idleSince = this.opts.now();
    this.idle.push(conn);
    // The caller may have paused it; idle sockets must flow to notice a server close.
    if (conn.socket.isPaused()) conn.socket.resume();
    this.startSweep();
  }

  private settle(waiter: Waiter, err: PoolError | undefined, conn: PooledConnection | undefined): void {
    waiter.done = true;
    this.opts.resources.endPending();
    this.dropStaleSlotWait();
    waiter.cb(err, conn);
  }

  /** Once the connections under way cover the waiters, stop holding a place in the slot queue. */
  private dropStaleSlotWait(): void {
    if (!this.waitingForSlot || this.waiters.length > this.connecting) return;
    this.waitingForSlot = false;
    this.opts.resources.stopWaitingForConnectionSlot(this);
  }

  private openConnectionsForWaiters(): void {
    while (this.connecting < this.waiters.length) {
      if (!this.opts.resources.tryStartConnection()) {
        if (!this.waitingForSlot) {
          this.opts.stats.upstream_cx_overflow.inc();
          this.waitingForSlot = true;
          this.opts.resources.waitForConnectionSlot(this);
          this.opts.reclaimIdleConnection(this);
        }
        return;
      }
      this.connect();
    }
  }

  private connect(): void {
    const { stats, now, connectTimeoutMs } = this.opts;
    const socket = this.opts.connect(this.host.address, this.host.port);
    const conn = new PooledConnection(socket, this.host, now());
    this.connections.add(conn);
    this.connecting++;
    stats.upstream_cx_total.inc();
    conn.connectTimer = setTimeout(() => {
      conn.timedOut = true;
      this.closeLocally(conn);
    }, connectTimeoutMs);
    // A TLS connection is usable once its handshake (and verification) is done.
    socket.once(isTlsSocket(socket) ? 'secureConnect' : 'connect', () => this.onConnect(conn));
    socket.on('error', (err) => {
      conn.error ??= err;
    });
    socket.once('close', () => this.onClose(conn));
  }

  private onConnect(conn: PooledConnection): void {
    clearTimeout(conn.connectTimer);
    this.connecting--;
    conn.connectedAt = this.opts.now();
    this.opts.stats.upstream_cx_connect_ms.record(conn.connectedAt - conn.startedAt);
    conn.socket.setNoDelay(true);
    conn.socket.setKeepAlive(true);
    this.makeAvailable(conn);
  }

  private closeLocally(conn: PooledConnection): void {
    if (conn.state === 'idle') this.removeIdle(conn);
    if (conn.socket.destroyed) return;
    conn.closedLocally = true;
    conn.socket.destroy();
  }

  private removeIdle(conn: PooledConnection): void {
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    conn.state = 'closed';
    if (this.idle.length === 0) this.stopSweep();
  }

  /** The single place where a connection's end is accounted. */
  private onClose(conn: PooledConnection): void {
    const { stats, now } = this.opts;
    const wasConnecting = conn.connectedAt === 0;
    if (conn.state === 'idle') this.removeIdle(conn);
    conn.state = 'closed';
    this.connections.delete(conn);
    if (wasConnecting) {
      clearTimeout(conn.connectTimer);
      this.connecting--;
      if (!conn.abandoned) this.onConnectFailure(conn);
    } else {
      this.flushByteCounts(conn);
      stats.upstream_cx_destroy.inc();
      (conn.closedLocally ? stats.upstream_cx_destroy_local : stats.upstream_cx_destroy_remote).inc();
      stats.upstream_cx_length_ms.record(now() - conn.connectedAt);
    }
    // Last: freeing the slot may synchronously start connections in other pools.
    this.opts.resources.endConnection();
  }

  private onConnectFailure(conn: PooledConnection): void {
    const { stats } = this.opts;
    let error: PoolError;
    if (conn.timedOut) {
      stats.upstream_cx_connect_timeout.inc();
      this.host.reportLocalFailure('timeout');
      error = { kind: 'connect-timeout', message: `connect to ${this.host.label} timed out` };
    } else {
      stats.upstream_cx_connect_fail.inc();
      this.host.reportLocalFailure('connect-failure');
      const reason = conn.error?.message ?? 'connection closed';
      error = { kind: 'connect-failure', message: `connect to ${this.host.label} failed: ${reason}`, cause: conn.error };
    }
    // Waiters the remaining connection attempts cannot serve fail now, as Envoy purges them.
    while (this.waiters.length > this.connecting) {
      stats.upstream_rq_pending_failure_eject.inc();
      this.settle(this.waiters.shift()!, error, undefined);
    }
  }

  private flushByteCounts(conn: PooledConnection): void {
    const { bytesRead, bytesWritten } = conn.socket;
    this.opts.stats.upstream_cx_rx_bytes_total.inc(bytesRead - conn.rxReported);
    this.opts.stats.upstream_cx_tx_bytes_total.inc(bytesWritten - conn.txReported);
    conn.rxReported = bytesRead;
    conn.txReported = bytesWritten;
  }

  /** One coarse timer per pool, running only while it has idle connections. */
  private startSweep(): void {
    const timeout = this.opts.idleTimeoutMs;
    if (timeout <= 0 || this.sweepTimer !== undefined) return;
    const period = Math.min(Math.max(timeout / 4, 5), 5000);
    this.sweepTimer = setInterval(() => this.sweepIdle(), period);
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer === undefined) return;
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private sweepIdle(): void {
    const cutoff = this.opts.now() - this.opts.idleTimeoutMs;
    // The idle stack is ordered by idleSince, oldest first.
    while (this.idle.length > 0 && this.idle[0]!.idleSince <= cutoff) {
      this.opts.stats.upstream_cx_idle_timeout.inc();
      this.closeLocally(this.idle[0]!);
    }
    if (this.idle.length === 0) this.stopSweep();
  }
}

export function createConnectionPool(host: ManagedHost, opts: PoolOptions): ManagedPool {
  return new HostConnectionPool(host, opts);
}

export function defaultConnect(address: string, port: number): net.Socket {
  return net.connect({ host: address, port });
}
