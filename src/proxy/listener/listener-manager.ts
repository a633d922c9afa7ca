/**
 * Owns the listening sockets and the per-config-version contexts behind them.
 *
 * A config change is applied in two phases so a bad one changes nothing:
 *  1. prepare: compile every listener's context (routes, filters, loggers) and
 *     bind sockets for new addresses; any failure undoes the phase and throws.
 *  2. commit: new connections get the new contexts; connections accepted under
 *     a retired context finish their in-flight request and then close (Envoy's
 *     listener drain), so no request ever sees two configs.
 */
import * as net from 'node:net';
import type pino from 'pino';
import { once } from 'node:events';
import type { DeadlineWheel } from '../../lib/timers.js';
import type { ListenerConfig, NodeInfo } from '../config/types.js';
import { DownstreamConnection } from '../http1/connection.js';
import { closeHcmContext, createHcmContext, type HcmContext, type RequestMetrics } from '../http1/hcm-context.js';
import { defineStats, type DeclaredStats } from '../observe/stats.js';
import type { StatsStore } from '../observe/stats-store.js';
import { createNetworkRbacChain, type NetworkRbacChain } from '../filters/rbac/network-filter.js';
import { createTcpProxyContext, proxyTcpConnection, type TcpProxyContext } from '../tcp/tcp-proxy.js';
import type { ClusterManager } from '../upstream/types.js';

const LISTENER_STATS = {
  counters: ['downstream_cx_total', 'downstream_cx_destroy', 'downstream_cx_overflow'],
  gauges: ['downstream_cx_active'],
  histograms: ['downstream_cx_length_ms'],
} as const;

const MANAGER_STATS = {
  counters: ['listener_added', 'listener_modified', 'listener_removed', 'listener_create_failure'],
  gauges: ['total_listeners_active', 'total_listeners_draining'],
  histograms: [],
} as const;

/** The terminal filter's context, and the network RBAC filters checked before it. */
type ListenerContext = ({ kind: 'http'; http: HcmContext } | { kind: 'tcp'; tcp: TcpProxyContext }) & { rbac: NetworkRbacChain };

export interface ListenerDeps {
  store: StatsStore;
  clusters: ClusterManager;
  wheel: DeadlineWheel;
  node: NodeInfo;
  metrics: RequestMetrics;
  log: pino.Logger;
  /** Socket options for workers sharing one port (node:cluster). */
  exclusive?: boolean;
}

/** The connections accepted under one config version of a listener. */
class Generation {
  readonly connections = new Set<DownstreamConnection | net.Socket>();

  constructor(readonly context: ListenerContext) {}

  /** Idle HTTP connections close now; busy ones after their current response. TCP tunnels are left to finish. */
  drain(): void {
    if (this.context.kind === 'http') this.context.http.draining = true;
    else this.context.tcp.draining = true;
    for (const connection of this.connections) if (connection instanceof DownstreamConnection) connection.drain();
  }

  destroyConnections(): void {
    for (const connection of this.connections) connection.destroy();
  }
}

/** One bound socket; its current generation takes new connections. */
class ActiveListener {
  readonly stats: DeclaredStats<typeof LISTENER_STATS>;
  generation!: Generation;
  /** Actual bound port (differs from the config when it asked for 0). */
  port = 0;
  /** Every accepted socket still open, including those handed to tunnels (upgrades), for the drain deadline. */
  readonly sockets = new Set<net.Socket>();

  constructor(
    public config: ListenerConfig,
    readonly server: net.Server,
    deps: ListenerDeps,
  ) {
    this.stats = defineStats(deps.store.scope(`listener.${config.address.address}_${config.address.port}.`), LISTENER_STATS);
    server.on('connection', (socket) => this.accept(socket));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    this.stats.downstream_cx_total.inc();
    this.stats.downstream_cx_active.inc();
    const started = performance.now();
    const generation = this.generation;
    const context = generation.context;
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.stats.downstream_cx_active.dec();
      this.stats.downstream_cx_destroy.inc();
      this.stats.downstream_cx_length_ms.record(performance.now() - started);
    });
    if (!context.rbac.allows(socket)) {
      // Envoy's network RBAC closes a denied connection before any byte reaches the terminal filter.
      socket.destroy();
      return;
    }
    if (context.kind === 'http') {
      const connection = new DownstreamConnection(context.http, socket, (c) => generation.connections.delete(c));
      if (!connection.isClosed) generation.connections.add(connection);
    } else {
      generation.connections.add(socket);
      socket.once('close', () => generation.connections.delete(socket));
      proxyTcpConnection(context.tcp, socket);
    }
  }
}

export class ListenerManager {
  private readonly listeners = new Map<string, ActiveListener>();
  /** Contexts retired by a reload whose connections may still be finishing. */
  private readonly retired = new Set<Generation>();
  private readonly stats: DeclaredStats<typeof MANAGER_STATS>;

  constructor(private readonly deps: ListenerDeps) {
    this.stats = defineStats(deps.store.scope('listener_manager.'), MANAGER_STATS);
  }

  /** Applies a listener set atomically; throws (changing nothing) when any listener cannot be built or bound. */
  async apply(configs: readonly ListenerConfig[]): Promise<void> {
    const contexts = new Map<string, ListenerContext>();
    const opened: ActiveListener[] = [];
    try {
      for (const config of configs) contexts.set(config.name, this.createContext(config));
      for (const config of configs) {
        const existing = this.listeners.get(config.name);
        if (existing !== undefined && sameAddress(existing.config, config)) continue;
        opened.push(await this.bind(config));
      }
    } catch (err) {
      this.stats.listener_create_failure.inc();
      for (const context of contexts.values()) closeContext(context);
      await Promise.all(opened.map((listener) => closeServer(listener.server)));
      throw err;
    }

    // Commit: from here nothing can fail.
    const names = new Set(configs.map((c) => c.name));
    for (const [name, listener] of this.listeners) {
      if (names.has(name)) continue;
      this.listeners.delete(name);
      this.stats.listener_removed.inc();
      void closeServer(listener.server);
      this.retire(listener.generation);
    }
    for (const config of configs) {
      const generation = new Generation(contexts.get(config.name)!);
      const replacement = opened.find((l) => l.config.name === config.name);
      const existing = this.listeners.get(config.name);
      if (existing !== undefined) this.stats.listener_modified.inc();
      else this.stats.listener_added.inc();
      if (replacement !== undefined) {
        replacement.generation = generation;
        this.listeners.set(config.name, replacement);
        if (existing !== undefined) {
          void closeServer(existing.server);
          this.retire(existing.generation);
        }
      } else if (existing !== undefined) {
        // Same socket, new rules: connections accepted so far keep the old context and drain.
        const old = existing.generation;
        existing.config = config;
        existing.generation = generation;
        this.retire(old);
      }
    }
    this.stats.total_listeners_active.set(this.listeners.size);
  }

  /** The actual port of a listener (for configs that ask for port 0). */
  port(name: string): number | undefined {
    return this.listeners.get(name)?.port;
  }

  /** Stops accepting everywhere and drains connections; resolves when all are closed or `timeoutMs` passed (then they are destroyed). */
  async drain(timeoutMs: number): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    // close() stops accepting at once; its callback waits for every connection, so it is awaited only
    // after the deadline below has destroyed what remained.
    const closed = all.map((listener) => closeServer(listener.server));
    for (const listener of all) this.retire(listener.generation);
    this.stats.total_listeners_active.set(0);
    const deadline = Date.now() + timeoutMs;
    const open = (): boolean => this.openConnections() > 0 || all.some((listener) => listener.sockets.size > 0);
    while (open() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    for (const generation of this.retired) generation.destroyConnections();
    // Sockets no generation tracks any more (upgraded to a tunnel) go too.
    for (const listener of all) for (const socket of listener.sockets) socket.destroy();
    await Promise.all(closed);
  }

  openConnections(): number {
    let total = 0;
    for (const listener of this.listeners.values()) total += listener.generation.connections.size;
    for (const generation of this.retired) total += generation.connections.size;
    return total;
  }

  dump(): Array<{ name: string; address: string; port: number; connections: number }> {
    return [...this.listeners.values()].map((l) => ({ name: l.config.name, address: l.config.address.address, port: l.port, connections: l.generation.connections.size }));
  }

  private createContext(config: ListenerConfig): ListenerContext {
    const { deps } = this;
    const rbac = createNetworkRbacChain(config.rbacFilters, deps.store);
    if (config.filter.kind === 'http') {
      return { kind: 'http', http: createHcmContext(config.filter, { ...deps, bufferLimitBytes: config.perConnectionBufferLimitBytes }), rbac };
    }
    return { kind: 'tcp', tcp: createTcpProxyContext(config.filter, { stats: deps.store, clusters: deps.clusters, wheel: deps.wheel }), rbac };
  }

  private async bind(config: ListenerConfig): Promise<ActiveListener> {
    const server = net.createServer({ noDelay: true, pauseOnConnect: false });
    const listener = new ActiveListener(config, server, this.deps);
    server.listen({ host: config.address.address, port: config.address.port, exclusive: this.deps.exclusive ?? true, backlog: 1024 });
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw new Error(`listener ${config.name}: cannot listen on ${config.address.address}:${config.address.port}: ${(err as Error).message}`, { cause: err });
      }),
    ]);
    const address = server.address();
    listener.port = typeof address === 'object' && address !== null ? address.port : config.address.port;
    this.deps.log.info({ listener: config.name, address: config.address.address, port: listener.port }, 'listener bound');
    return listener;
  }

  /** Drains a generation; its context is released once its last connection closed. */
  private retire(generation: Generation): void {
    generation.drain();
    this.retired.add(generation);
    this.stats.total_listeners_draining.set(this.retired.size);
    const sweep = setInterval(() => {
      if (generation.connections.size > 0) return;
      clearInterval(sweep);
      closeContext(generation.context);
      this.retired.delete(generation);
      this.stats.total_listeners_draining.set(this.retired.size);
    }, 100);
    sweep.unref();
  }
}

function closeContext(context: ListenerContext): void {
  if (context.kind === 'http') closeHcmContext(context.http);
}

function sameAddress(a: ListenerConfig, b: ListenerConfig): boolean {
  return a.address.address === b.address.address && a.address.port === b.address.port && a.address.port !== 0;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
