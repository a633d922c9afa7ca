/**
 * Owns the listening sockets and the per-config-version contexts behind them.
 *
 * A config change is applied in two phases so a bad one changes nothing:
 *  1. prepare: compile every listener's context (routes, filters, loggers) and
 *     bind sockets for new addresses; any failure undoes the phase and throws.
 *  2. commit: new connections get the new contexts; connections accepted under
 *     a retired context finish their in-flight request and then close (Envoy's
 *     listener drain), so no request ever sees two configs.
 * A listener whose config did not change keeps its context and connections
 * (a secret rotation changes only the secret store, not the listener).
 *
 * A connection is matched to a filter chain by transport protocol: with the TLS
 * inspector the first byte is peeked (0x16, a TLS handshake record, means
 * "tls"), so one port can serve mTLS and plaintext (PERMISSIVE). A chain with a
 * TLS transport socket terminates TLS (tls-termination.ts) before its network
 * filter sees the connection.
 */
import * as net from 'node:net';
import type * as tls from 'node:tls';
import type { Logger } from '../../lib/json-log.js';
import { once } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { DeadlineWheel } from '../../lib/timers.js';
import type { FilterChainConfig, ListenerConfig, NodeInfo } from '../config/types.js';
import { DownstreamConnection } from '../http1/connection.js';
import { closeHcmContext, createHcmContext, type HcmContext, type RequestMetrics } from '../http1/hcm-context.js';
import { defineStats, type DeclaredStats } from '../observe/stats.js';
import type { StatsStore } from '../observe/stats-store.js';
import { createNetworkRbacChain, type NetworkRbacChain } from '../filters/rbac/network-filter.js';
import { createTcpProxyContext, proxyTcpConnection, type TcpProxyContext } from '../tcp/tcp-proxy.js';
import type { SecretStore } from '../tls/secret-store.js';
import { defineTlsStats, type TlsStats } from '../tls/tls-context.js';
import type { ClusterManager } from '../upstream/types.js';
import { createTlsTerminator, type TlsTerminator } from './tls-termination.js';

const LISTENER_STATS = {
  counters: ['downstream_cx_total', 'downstream_cx_destroy', 'downstream_cx_overflow', 'no_filter_chain_match', 'downstream_pre_cx_timeout'],
  gauges: ['downstream_cx_active'],
  histograms: ['downstream_cx_length_ms'],
} as const;

const MANAGER_STATS = {
  counters: ['listener_added', 'listener_modified', 'listener_removed', 'listener_create_failure'],
  gauges: ['total_listeners_active', 'total_listeners_draining'],
  histograms: [],
} as const;

type NetworkContext = { kind: 'http'; http: HcmContext } | { kind: 'tcp'; tcp: TcpProxyContext };

/** One filter chain of one config version: its network filter and, for TLS chains, its terminator. */
interface ChainContext {
  readonly config: FilterChainConfig;
  readonly network: NetworkContext;
  /** The chain's network RBAC filters, checked before the network filter sees the connection. */
  readonly rbac: NetworkRbacChain;
  tls?: TlsTerminator;
}

/** Envoy's listener_filters_timeout default: how long the TLS inspector waits for the first byte. */
const INSPECT_TIMEOUT_MS = 15_000;
/** The first byte of a TLS record carrying a handshake (ClientHello). */
const TLS_HANDSHAKE_RECORD = 0x16;

export interface ListenerDeps {
  store: StatsStore;
  clusters: ClusterManager;
  wheel: DeadlineWheel;
  node: NodeInfo;
  metrics: RequestMetrics;
  log: Logger;
  /** Secrets for TLS chains (static and SDS). */
  secrets: SecretStore;
  /** Socket options for workers sharing one port (node:cluster). */
  exclusive?: boolean;
}

/** The connections accepted under one config version of a listener. */
class Generation {
  readonly connections = new Set<DownstreamConnection | net.Socket>();

  constructor(
    readonly chains: readonly ChainContext[],
    readonly inspect: boolean,
  ) {}

  /** Envoy's rule: the chain naming the detected transport protocol, else the chain without one. */
  select(transportProtocol: 'tls' | 'raw_buffer'): ChainContext | undefined {
    return this.chains.find((c) => c.config.transportProtocol === transportProtocol) ?? this.chains.find((c) => c.config.transportProtocol === undefined);
  }

  /** Idle HTTP connections close now; busy ones after their current response. TCP tunnels are left to finish. */
  drain(): void {
    for (const { network } of this.chains) {
      if (network.kind === 'http') network.http.draining = true;
      else network.tcp.draining = true;
    }
    for (const connection of this.connections) if (connection instanceof DownstreamConnection) connection.drain();
  }

  destroyConnections(): void {
    for (const connection of this.connections) connection.destroy();
  }

  close(): void {
    for (const chain of this.chains) {
      chain.tls?.close();
      if (chain.network.kind === 'http') closeHcmContext(chain.network.http);
    }
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
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.stats.downstream_cx_active.dec();
      this.stats.downstream_cx_destroy.inc();
      this.stats.downstream_cx_length_ms.record(performance.now() - started);
    });
    const generation = this.generation;
    if (!generation.inspect) {
      this.dispatch(generation, generation.chains[0], socket);
      return;
    }
    inspectTransport(socket, INSPECT_TIMEOUT_MS, (protocol) => {
      if (protocol === undefined) {
        this.stats.downstream_pre_cx_timeout.inc();
        socket.destroy();
        return;
      }
      this.dispatch(generation, generation.select(protocol), socket);
    });
  }

  private dispatch(generation: Generation, chain: ChainContext | undefined, socket: net.Socket): void {
    if (chain === undefined) {
      this.stats.no_filter_chain_match.inc();
      socket.destroy();
      return;
    }
    if (chain.tls !== undefined) chain.tls.accept(socket);
    else serve(generation, chain, socket);
  }
}

/** Hands a connection (plaintext, or TLS after verification) to the chain's network filter. */
function serve(generation: Generation, chain: ChainContext, socket: net.Socket): void {
  const { network } = chain;
  // After the TLS handshake, so the peer's verified identity is known. Envoy's network RBAC
  // closes a denied connection before any byte reaches the terminal filter.
  if (!chain.rbac.allows(socket)) {
    socket.destroy();
    return;
  }
  if (network.kind === 'http') {
    const connection = new DownstreamConnection(network.http, socket, (c) => generation.connections.delete(c));
    if (!connection.isClosed) generation.connections.add(connection);
  } else {
    generation.connections.add(socket);
    socket.once('close', () => generation.connections.delete(socket));
    proxyTcpConnection(network.tcp, socket);
  }
  // The inspector paused the socket to put its first bytes back; the handlers are attached now.
  if (socket.isPaused() && network.kind === 'http') socket.resume();
}

/**
 * Envoy's TLS inspector: waits for the first bytes, puts them back (unshift) so
 * the chain reads them again, and reports "tls" for a TLS handshake record.
 * undefined when the peer closed or sent nothing in time.
 */
function inspectTransport(socket: net.Socket, timeoutMs: number, done: (protocol: 'tls' | 'raw_buffer' | undefined) => void): void {
  const finish = (chunk: Buffer | undefined): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
    if (chunk === undefined) return done(undefined);
    socket.pause();
    socket.unshift(chunk);
    done(chunk[0] === TLS_HANDSHAKE_RECORD ? 'tls' : 'raw_buffer');
  };
  const onData = (chunk: Buffer): void => finish(chunk);
  const onGone = (): void => finish(undefined);
  const timer = setTimeout(onGone, timeoutMs);
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('error', onGone);
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
    const generations = new Map<string, Generation>();
    const opened: ActiveListener[] = [];
    const unchanged = (config: ListenerConfig): boolean => {
      const existing = this.listeners.get(config.name);
      return existing !== undefined && isDeepStrictEqual(existing.config, config);
    };
    try {
      for (const config of configs) if (!unchanged(config)) generations.set(config.name, this.createGeneration(config));
      for (const config of configs) {
        const existing = this.listeners.get(config.name);
        if (existing !== undefined && sameAddress(existing.config, config)) continue;
        if (unchanged(config)) continue;
        opened.push(await this.bind(config));
      }
    } catch (err) {
      this.stats.listener_create_failure.inc();
      for (const generation of generations.values()) generation.close();
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
      const generation = generations.get(config.name);
      if (generation === undefined) continue;
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

  /**
   * Listeners with a TLS filter chain whose secrets have not all arrived (Envoy's warming listeners):
   * such a chain refuses handshakes, so the proxy is not ready while any remain.
   */
  warming(): string[] {
    return [...this.listeners.values()].filter((l) => l.generation.chains.some((c) => c.tls !== undefined && !c.tls.ready)).map((l) => l.config.name);
  }

  dump(): Array<{ name: string; address: string; port: number; connections: number }> {
    return [...this.listeners.values()].map((l) => ({ name: l.config.name, address: l.config.address.address, port: l.port, connections: l.generation.connections.size }));
  }

  private createGeneration(config: ListenerConfig): Generation {
    const { deps } = this;
    const chains: ChainContext[] = [];
    const generation = new Generation(chains, config.tlsInspector);
    try {
      config.filterChains.forEach((chainConfig, i) => {
        const { filter } = chainConfig;
        const network: NetworkContext = filter.kind === 'http'
          ? { kind: 'http', http: createHcmContext(filter, { ...deps, bufferLimitBytes: config.perConnectionBufferLimitBytes, trafficDirection: config.trafficDirection }) }
          : { kind: 'tcp', tcp: createTcpProxyContext(filter, { stats: deps.store, clusters: deps.clusters, wheel: deps.wheel }) };
        const chain: ChainContext = { config: chainConfig, network, rbac: createNetworkRbacChain(chainConfig.rbacFilters, deps.store) };
        chains.push(chain);
        if (chainConfig.tls !== undefined) {
          const label = `listener ${config.name} filter_chains[${i}]`;
          chain.tls = createTlsTerminator(chainConfig.tls, {
            store: deps.secrets,
            stats: this.tlsStats(config),
            label,
            onError: (message) => deps.log.error({ listener: config.name }, message),
            onSecure: (socket: tls.TLSSocket) => serve(generation, chain, socket),
          });
        }
      });
    } catch (err) {
      generation.close();
      throw err;
    }
    return generation;
  }

  /** `listener.<address>_<port>.ssl.*`, shared by the listener's TLS chains. */
  private tlsStats(config: ListenerConfig): TlsStats {
    return defineTlsStats(this.deps.store.scope(`listener.${config.address.address}_${config.address.port}.`));
  }

  private async bind(config: ListenerConfig): Promise<ActiveListener> {
    const server = net.createServer({ noDelay: true, pauseOnConnect: false });
    const listener = new ActiveListener(config, server, this.deps);
    server.listen({ host: config.address.address, port: config.address.port, exclusive: this.deps.exclusive ?? true, backlog: 1024 });
    try {
      // once() rejects with the server's 'error' (EADDRINUSE, EACCES, ...).
      await once(server, 'listening');
    } catch (err) {
      throw new Error(`listener ${config.name}: cannot listen on ${config.address.address}:${config.address.port}: ${(err as Error).message}`, { cause: err });
    }
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
      generation.close();
      this.retired.delete(generation);
      this.stats.total_listeners_draining.set(this.retired.size);
    }, 100);
    sweep.unref();
  }
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
