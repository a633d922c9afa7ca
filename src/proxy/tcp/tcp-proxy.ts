/**
 * Envoy's `tcp_proxy` network filter: each downstream connection gets one
 * upstream connection to a host of the (weighted) cluster, and bytes are
 * spliced both ways until either side closes or the idle timeout fires.
 * Connect failures are retried on another host up to `max_connect_attempts`.
 */
import type { Socket } from 'node:net';
import type { DeadlineWheel } from '../../lib/timers.js';
import type { TcpProxyConfig } from '../config/types.js';
import { AccessLogEntry } from '../observe/access-log-entry.js';
import { createAccessLogger, type AccessLogger } from '../observe/access-log.js';
import { defineStats, type DeclaredStats, type StatsScope } from '../observe/stats.js';
import type { Cluster, ClusterManager, Host, PoolError, UpstreamConnection } from '../upstream/types.js';
import { formatHostPort } from '../../lib/address.js';
import { compileWeightedPick } from '../router/weighted-pick.js';
import { tunnel } from './pipe.js';

/** Envoy's `tcp.<stat_prefix>.` stats. */
const TCP_PROXY_STATS = {
  counters: [
    'downstream_cx_total',
    'downstream_cx_no_route',
    'downstream_cx_rx_bytes_total',
    'downstream_cx_tx_bytes_total',
    'idle_timeout',
    'upstream_flush_total',
    'max_downstream_connection_duration',
  ],
  gauges: ['downstream_cx_rx_bytes_buffered', 'downstream_cx_tx_bytes_buffered', 'upstream_flush_active'],
  histograms: [],
} as const;

export interface TcpProxyContext {
  readonly config: TcpProxyConfig;
  readonly stats: DeclaredStats<typeof TCP_PROXY_STATS>;
  readonly accessLoggers: readonly AccessLogger[];
  readonly clusters: ClusterManager;
  readonly wheel: DeadlineWheel;
  /** The cluster for a new connection: `cluster`, or a weighted pick compiled once. */
  readonly pickCluster: () => string | undefined;
  draining: boolean;
}

export function createTcpProxyContext(config: TcpProxyConfig, deps: { stats: StatsScope; clusters: ClusterManager; wheel: DeadlineWheel; random?: () => number }): TcpProxyContext {
  const random = deps.random ?? Math.random;
  const weighted = compileWeightedPick(config.weightedClusters ?? [], (c) => c.weight);
  const fixed = config.cluster;
  return {
    config,
    stats: defineStats(deps.stats.scope(`tcp.${config.statPrefix}.`), TCP_PROXY_STATS),
    accessLoggers: config.accessLog.map(createAccessLogger),
    clusters: deps.clusters,
    wheel: deps.wheel,
    pickCluster: fixed !== undefined ? () => fixed : () => weighted?.(random()).name,
    draining: false,
  };
}

/** Handles one accepted connection until both sides are closed. */
export function proxyTcpConnection(context: TcpProxyContext, downstream: Socket): void {
  new TcpSession(context, downstream).start();
}

class TcpSession {
  private readonly startedAt = Date.now();
  private cluster: Cluster | undefined;
  private host: Host | undefined;
  private attempts = 0;
  private closed = false;
  private tunneled = false;
  private flags = '';

  constructor(
    private readonly context: TcpProxyContext,
    private readonly downstream: Socket,
  ) {}

  start(): void {
    const { stats } = this.context;
    stats.downstream_cx_total.inc();
    this.downstream.pause();
    this.downstream.on('error', () => {
      if (!this.tunneled) this.close('DC');
    });
    // Once tunneled, the tunnel owns both sockets and reports the close (with its byte counts).
    this.downstream.on('close', () => {
      if (!this.tunneled) this.close('DC');
    });
    const name = this.context.pickCluster();
    this.cluster = name === undefined ? undefined : this.context.clusters.get(name);
    if (this.cluster === undefined) {
      stats.downstream_cx_no_route.inc();
      this.close('NR');
      return;
    }
    this.connect();
  }

  private connect(): void {
    const cluster = this.cluster!;
    const host = cluster.chooseHost({ avoid: this.host });
    if (host === undefined) {
      this.close('UH');
      return;
    }
    this.host = host;
    this.attempts++;
    host.pool.acquire((err, conn) => this.onConnected(err, conn));
  }

  private onConnected(err: PoolError | undefined, conn: UpstreamConnection | undefined): void {
    if (this.closed) {
      if (conn !== undefined) conn.host.pool.release(conn, false);
      return;
    }
    if (err !== undefined || conn === undefined) {
      if (err?.kind !== 'overflow' && this.attempts < this.context.config.maxConnectAttempts) {
        this.connect();
        return;
      }
      this.close(err?.kind === 'overflow' ? 'UO' : 'UF');
      return;
    }
    const { stats } = this.context;
    this.tunneled = true;
    tunnel(this.downstream, conn.socket, {
      idleTimeoutMs: this.context.config.idleTimeoutMs,
      wheel: this.context.wheel,
      onClose: (result) => {
        stats.downstream_cx_rx_bytes_total.inc(result.aToB);
        stats.downstream_cx_tx_bytes_total.inc(result.bToA);
        if (result.reason === 'idle_timeout') stats.idle_timeout.inc();
        conn.host.pool.release(conn, false);
        this.finish(result.aToB, result.bToA);
      },
    });
  }

  private close(flag: string): void {
    if (this.closed) return;
    if (this.flags === '') this.flags = flag;
    this.downstream.destroy();
    this.finish(0, 0);
  }

  private finish(received: number, sent: number): void {
    if (this.closed) return;
    this.closed = true;
    if (this.context.accessLoggers.length === 0) return;
    const entry = new AccessLogEntry();
    entry.startTimeMs = this.startedAt;
    entry.protocol = 'TCP';
    entry.remoteAddress = formatHostPort(this.downstream.remoteAddress ?? '', this.downstream.remotePort ?? 0);
    entry.localAddress = formatHostPort(this.downstream.localAddress ?? '', this.downstream.localPort ?? 0);
    entry.bytesReceived = received;
    entry.bytesSent = sent;
    entry.durationMs = Date.now() - this.startedAt;
    entry.responseFlags = this.flags;
    entry.upstreamCluster = this.cluster?.name ?? '';
    entry.upstreamHost = this.host?.label ?? '';
    entry.attempts = this.attempts;
    for (const logger of this.context.accessLoggers) logger.log(entry);
  }
}
