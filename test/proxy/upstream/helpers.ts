/**
 * Shared test helpers for the upstream layer: an in-memory StatsScope (our own
 * interface, so a fake is fine), config builders, deterministic randomness,
 * small real servers on 127.0.0.1 and a bounded wait.
 */
import * as net from 'node:net';
import type { ClusterConfig, EndpointConfig } from '../../../src/proxy/config/types.js';
import type { Counter, Gauge, Histogram, StatsScope } from '../../../src/proxy/observe/stats.js';
import type { ManagedHost } from '../../../src/proxy/upstream/host.js';
import type { ManagedPool } from '../../../src/proxy/upstream/pool.js';
import type { Host } from '../../../src/proxy/upstream/types.js';

export { seededRandom } from '../../support/random.js';

/** Flat name -> value store; histograms keep their samples. */
export class TestStats implements StatsScope {
  constructor(
    readonly values = new Map<string, number>(),
    readonly samples = new Map<string, number[]>(),
    private readonly prefix = '',
  ) {}

  counter(name: string): Counter {
    const key = this.prefix + name;
    const values = this.values;
    values.set(key, values.get(key) ?? 0);
    return {
      inc: (n = 1) => void values.set(key, values.get(key)! + n),
      value: () => values.get(key)!,
    };
  }

  gauge(name: string): Gauge {
    const key = this.prefix + name;
    const values = this.values;
    values.set(key, values.get(key) ?? 0);
    return {
      set: (v) => void values.set(key, v),
      inc: (n = 1) => void values.set(key, values.get(key)! + n),
      dec: (n = 1) => void values.set(key, values.get(key)! - n),
      value: () => values.get(key)!,
    };
  }

  histogram(name: string): Histogram {
    const key = this.prefix + name;
    const list = this.samples.get(key) ?? [];
    this.samples.set(key, list);
    return { record: (ms) => void list.push(ms) };
  }

  scope(prefix: string): StatsScope {
    return new TestStats(this.values, this.samples, this.prefix + prefix);
  }

  get(name: string): number {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`no stat ${name}`);
    return v;
  }
}

export function endpoint(address: string, port: number, weight = 1): EndpointConfig {
  return { address, port, weight, healthCheckPort: 0, hostname: address };
}

export function clusterConfig(overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name: 'backend',
    type: 'STATIC',
    connectTimeoutMs: 1000,
    lbPolicy: 'ROUND_ROBIN',
    leastRequestChoiceCount: 2,
    ringHash: { minimumRingSize: 1024, maximumRingSize: 8 * 1024 * 1024 },
    endpoints: [],
    dnsRefreshRateMs: 5000,
    dnsLookupFamily: 'AUTO',
    circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    healthChecks: [],
    idleTimeoutMs: 3_600_000,
    maxRequestsPerConnection: 0,
    perConnectionBufferLimitBytes: 1024 * 1024,
    ...overrides,
  };
}

/** Returns the given values in turn, cycling. */
export function sequenceRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

/** A pool stand-in for hosts built outside a cluster (balancer and outlier detection tests). */
export const UNUSED_POOL: ManagedPool = {
  acquire: () => {
    throw new Error('unused pool');
  },
  release() {},
  drain() {},
  closeOldestIdle: () => false,
  dumpState: () => ({}),
};

/** A host for load balancer tests: only what balancers read is real. */
export function lbHost(label: string, weight = 1, activeRequests = 0): Host {
  return {
    address: label,
    port: 80,
    hostname: label,
    weight,
    label,
    healthy: () => true,
    activeRequests,
    onRequestStart() {},
    onRequestEnd() {},
    reportStatus() {},
    reportLocalFailure() {},
    pool: UNUSED_POOL,
  };
}

export interface TestServer {
  port: number;
  /** Server-side sockets accepted so far. */
  accepted: net.Socket[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 that tracks its sockets and runs `onSocket` for each. */
export async function tcpServer(onSocket: (socket: net.Socket) => void = () => {}): Promise<TestServer> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = await tcpServer();
  await server.close();
  return server.port;
}

/** Polls `condition` every 5 ms, failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function hostsOf(hosts: readonly Host[]): ManagedHost[] {
  return hosts as ManagedHost[];
}
