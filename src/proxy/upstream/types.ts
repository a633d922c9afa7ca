/**
 * The upstream layer's interfaces: what the connection manager and the admin
 * server see of clusters, hosts, load balancing, circuit breakers and pools.
 * Implementations live beside this file and are reached only through
 * `createClusterManager` (cluster-manager.ts).
 */
import type * as dns from 'node:dns';
import type * as net from 'node:net';
import type { ClusterConfig } from '../config/types.js';
import type { Counter, StatsScope } from '../observe/stats.js';
import type { ClusterStats } from './cluster-stats.js';
import type { SecretStore } from '../tls/secret-store.js';

export type { ClusterStats } from './cluster-stats.js';

/** The failures a caller observed on its own side of a request (Envoy's "local origin"). */
export type LocalFailureKind = 'connect-failure' | 'timeout' | 'reset';

export interface Host {
  /** Resolved IP. */
  readonly address: string;
  readonly port: number;
  /** For auto_host_rewrite and %UPSTREAM_HOST%. */
  readonly hostname: string;
  readonly weight: number;
  /** "ip:port" ("[v6]:port" for IPv6). */
  readonly label: string;
  /** Passing active health checks (when configured) and not ejected by outlier detection. */
  healthy(): boolean;
  /** Maintained via onRequestStart/onRequestEnd; read by LEAST_REQUEST. */
  readonly activeRequests: number;
  onRequestStart(): void;
  onRequestEnd(): void;
  /** Outlier detection input: one upstream HTTP response status. */
  reportStatus(status: number): void;
  /**
   * Outlier detection input: a local-origin failure of a request. The pool
   * already reports its own connect failures and connect timeouts; callers
   * report request timeouts and resets.
   */
  reportLocalFailure(kind: LocalFailureKind): void;
  readonly pool: ConnectionPool;
}

export interface LbContext {
  /** Request hash from the route's hash policy (RING_HASH); a random one is used when absent. */
  hash?: number;
  /** A host to avoid (the previous try's), best effort. */
  avoid?: Host;
}

/** Envoy's circuit breakers at DEFAULT priority. */
export interface ResourceManager {
  /** max_requests. Keeps `upstream_rq_active` in step. */
  tryStartRequest(): boolean;
  endRequest(): void;
  /** max_pending_requests. Used by the pools; keeps `upstream_rq_pending_active` in step. */
  tryStartPending(): boolean;
  endPending(): void;
  /**
   * max_retries, or with a retry budget: allowed concurrent retries =
   * max(min_retry_concurrency, budget_percent% of (active + pending requests)).
   */
  tryStartRetry(): boolean;
  endRetry(): void;
  /** max_connections is enforced jointly by the pools of the cluster. */
  readonly activeConnections: number;
}

export interface Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly resources: ResourceManager;
  readonly stats: ClusterStats;
  /**
   * Undefined when the cluster has no host at all. When fewer than half of the
   * hosts are healthy the cluster is in panic and balances over all of them
   * (counted in `lb_healthy_panic`), as Envoy does.
   */
  chooseHost(ctx: LbContext): Host | undefined;
  /** Envoy's per-status `upstream_rq_<code>` counter (e.g. `upstream_rq_200`), created on first use. */
  upstreamRqCode(status: number): Counter;
  hosts(): readonly Host[];
  /** For /clusters and /config_dump. */
  dumpState(): unknown;
}

export interface UpstreamConnection {
  readonly socket: net.Socket;
  readonly host: Host;
  /** Unique per process, for logs. */
  readonly id: number;
  /** Requests handed out on this connection; the pool counts one per acquire. */
  requests: number;
  /**
   * The owner's reader: the pool's one 'data' listener passes bytes here while the
   * connection is handed out (an HTTP/1 channel sets it once; a TCP tunnel reads the socket itself).
   */
  onData: ((chunk: Buffer) => void) | undefined;
}

export type PoolError = {
  kind: 'connect-failure' | 'connect-timeout' | 'overflow';
  message: string;
  cause?: Error;
};

export type AcquireCallback = (err: PoolError | undefined, conn: UpstreamConnection | undefined) => void;

/**
 * Raw TCP connections to one host, for the connection manager's own HTTP/1.1.
 *
 * Ownership: between acquire's callback and release() the caller owns the
 * socket (listeners, pause/resume, writes). It must attach its 'data'
 * listener synchronously in the callback and must end every use with
 * release(conn, reusable) — never by destroying the socket itself, which the
 * pool would count as a remote close.
 */
export interface ConnectionPool {
  /**
   * Gets an idle kept-alive connection (most recently used first) or opens one
   * (connect_timeout). When the cluster is at max_connections the request waits
   * as pending; past max_pending_requests it fails with 'overflow'. The
   * callback runs exactly once — synchronously when an idle connection is at
   * hand or on overflow, later otherwise. cancel() before it runs removes the
   * waiter (a no-op afterwards).
   */
  acquire(cb: AcquireCallback): { cancel(): void };
  /**
   * reusable=true: back to the idle list (or straight to a waiting acquire),
   * unless max_requests_per_connection is reached or the pool drains;
   * reusable=false: destroyed.
   */
  release(conn: UpstreamConnection, reusable: boolean): void;
  /**
   * Closes idle connections and closes the others as they are released;
   * with `force`, destroys active ones too and fails waiting acquires.
   */
  drain(force: boolean): void;
}

export interface ClusterManager {
  get(name: string): Cluster | undefined;
  /**
   * Applies a new set of cluster configs: unchanged ones (deep-equal config) are
   * kept with their pools and health state; removed ones drain; new ones start
   * (DNS, health checks).
   */
  update(configs: readonly ClusterConfig[]): void;
  /**
   * Resolves once every current cluster has initialized: first DNS resolution
   * done and, where health checks exist, every host's first check finished.
   */
  ready(): Promise<void>;
  all(): readonly Cluster[];
  /** Stops timers and destroys sockets. */
  close(): Promise<void>;
}

/** The one form of dns.lookup the upstream layer calls: every address of a name. */
export type LookupFn = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

export interface ClusterManagerOptions {
  stats: StatsScope;
  now?: () => number;
  random?: () => number;
  /** Default dns.lookup (which satisfies this narrower type). */
  lookup?: LookupFn;
  /** Opens upstream sockets; tests inject one that never connects. Default net.connect. */
  connect?: (address: string, port: number) => net.Socket;
  /** Secrets for TLS clusters (static and SDS); default an empty store. */
  secrets?: SecretStore;
  /** Where a cluster's TLS context reports a secret it cannot use. */
  onError?: (message: string) => void;
}
