/**
 * The parent's side of the simulated proxies: forks the client workers, spreads
 * the sidecar nodes over them, and turns their reports into the two
 * measurements of the xDS benchmark: time to first full config, and what one
 * change reaches (which clients, which types, how fast).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TYPE_SHORT_NAMES, type TypeUrl } from '../../src/xds/type-urls.js';
import { epochMs, type FromWorker, type ReceivedTotals, type ToWorker } from './ads-fleet-protocol.js';
import type { SidecarNode } from './mesh-fixture.js';
import { forkManaged, type ManagedProcess } from './processes.js';

const WORKER_MODULE = fileURLToPath(new URL('./ads-client-worker.js', import.meta.url));

export interface FullConfigResult {
  /** Per client, ms from opening the streams to having ACKed all four types; sorted ascending. */
  perClientMs: number[];
}

export interface ChangeResult {
  /** Clients whose subscription includes the changed resource when the change was applied. */
  subscribers: number;
  /** Clients that ACKed a new version of any type after the change. */
  pushedClients: number;
  /** Of those, clients whose copy of the watched resource actually changed. */
  watchedChanged: number;
  /** Clients that ACKed a new version, per xDS type (LDS, RDS, CDS, EDS). */
  pushesByType: Record<string, number>;
  /** From sending the change to the API until its answer. */
  applyMs: number;
  /** From sending the change until the last client ACKed a new version; undefined if none did. */
  convergenceMs: number | undefined;
}

export interface ChangeWaitOptions {
  /** A change is complete when no client reported for this long. */
  quietMs: number;
  /** Give up waiting for the first report after this long. */
  timeoutMs: number;
}

interface Worker {
  process: ManagedProcess;
  child: ChildProcess;
  /** Global index of the worker's first client. */
  offset: number;
}

type Listener = (message: FromWorker, worker: Worker) => void;

export class AdsFleet {
  private readonly listeners = new Set<Listener>();
  private failure: Error | undefined;
  private nextChangeId = 0;
  private closing = false;

  private constructor(
    private readonly workers: Worker[],
    readonly clients: number,
  ) {
    for (const worker of workers) {
      worker.child.on('message', (message: FromWorker) => {
        if (message.kind === 'failed') this.fail(new Error(`client worker ${worker.process.name}: ${message.error}`));
        for (const listener of [...this.listeners]) listener(message, worker);
      });
      worker.process.exited.then((status) => {
        if (!this.closing) this.fail(new Error(`client worker ${worker.process.name} exited (${status.code ?? status.signal}): ${worker.process.stderr().trim()}`));
      }, (error: Error) => this.fail(error));
    }
  }

  /** Forks `workerCount` workers and connects one gRPC channel per node to `target`. */
  static async start(target: string, nodes: readonly SidecarNode[], workerCount: number, connectTimeoutMs: number): Promise<AdsFleet> {
    const perWorker = Math.ceil(nodes.length / workerCount);
    const workers: Worker[] = [];
    for (let offset = 0; offset < nodes.length; offset += perWorker) {
      const { process, child } = forkManaged(`ads-clients-${workers.length}`, WORKER_MODULE);
      workers.push({ process, child, offset });
    }
    const fleet = new AdsFleet(workers, nodes.length);
    const ready = fleet.waitFor(connectTimeoutMs, 'every client channel to connect', (() => {
      let count = 0;
      return (message) => (message.kind === 'ready' && ++count === workers.length ? true : undefined);
    })());
    if (workers.length === 0) throw new Error('no clients to simulate');
    for (const worker of workers) fleet.send(worker, { kind: 'connect', target, nodes: nodes.slice(worker.offset, worker.offset + perWorker) });
    await ready;
    return fleet;
  }

  /** Opens every ADS stream at once and waits until every client has ACKed all four types. */
  async openAll(timeoutMs: number): Promise<FullConfigResult> {
    const perClientMs: number[] = [];
    const done = this.waitFor(timeoutMs, 'every client to ACK a full config', (message) => {
      if (message.kind !== 'full-config') return undefined;
      perClientMs.push(message.atMs - openedAt);
      return perClientMs.length === this.clients ? true : undefined;
    });
    const openedAt = epochMs();
    for (const worker of this.workers) this.send(worker, { kind: 'open' });
    await done;
    return { perClientMs: perClientMs.sort((a, b) => a - b) };
  }

  /** Announces a change to the clients, applies it, and follows its pushes until the clients go quiet. */
  async measureChange(watch: { typeUrl: TypeUrl; name: string }, apply: () => Promise<unknown>, wait: ChangeWaitOptions): Promise<ChangeResult> {
    const changeId = ++this.nextChangeId;
    let subscribers = 0;
    let answered = 0;
    const expecting = this.waitFor(10_000, 'the clients to take note of the change', (message) => {
      if (message.kind !== 'expecting' || message.changeId !== changeId) return undefined;
      subscribers += message.subscribers;
      return ++answered === this.workers.length ? true : undefined;
    });
    for (const worker of this.workers) this.send(worker, { kind: 'expect', changeId, watch });
    await expecting;

    const lastAckAt = new Map<number, number>();
    const watchedChanged = new Set<number>();
    const pushesByType: Record<string, number> = {};
    let quietTimer: NodeJS.Timeout | undefined;
    let firstReportTimeout: NodeJS.Timeout | undefined;
    let settle: () => void = () => {};
    let abort: (error: Error) => void = () => {};
    const quiet = new Promise<void>((resolve, reject) => {
      settle = resolve;
      abort = reject;
    });
    const listener: Listener = (message, worker) => {
      if (message.kind === 'failed') abort(this.failure ?? new Error(message.error));
      if (message.kind !== 'pushed' || message.changeId !== changeId) return;
      const client = worker.offset + message.client;
      lastAckAt.set(client, Math.max(lastAckAt.get(client) ?? 0, message.atMs));
      if (message.watchedChanged) watchedChanged.add(client);
      const type = TYPE_SHORT_NAMES[message.typeUrl];
      pushesByType[type] = (pushesByType[type] ?? 0) + 1;
      clearTimeout(firstReportTimeout);
      clearTimeout(quietTimer);
      quietTimer = setTimeout(settle, wait.quietMs);
    };
    this.listeners.add(listener);
    firstReportTimeout = setTimeout(settle, wait.timeoutMs);
    try {
      const startedAt = epochMs();
      await apply();
      const applyMs = epochMs() - startedAt;
      await quiet;
      const lastAt = lastAckAt.size === 0 ? undefined : Math.max(...lastAckAt.values());
      return {
        subscribers,
        pushedClients: lastAckAt.size,
        watchedChanged: watchedChanged.size,
        pushesByType,
        applyMs,
        convergenceMs: lastAt === undefined ? undefined : lastAt - startedAt,
      };
    } finally {
      clearTimeout(quietTimer);
      clearTimeout(firstReportTimeout);
      this.listeners.delete(listener);
    }
  }

  async totals(): Promise<ReceivedTotals> {
    const sum: ReceivedTotals = { responses: 0, resources: 0, bytes: 0 };
    let answered = 0;
    const done = this.waitFor(10_000, 'the clients to count what they received', (message) => {
      if (message.kind !== 'totals') return undefined;
      sum.responses += message.totals.responses;
      sum.resources += message.totals.resources;
      sum.bytes += message.totals.bytes;
      return ++answered === this.workers.length ? true : undefined;
    });
    for (const worker of this.workers) this.send(worker, { kind: 'totals' });
    await done;
    return sum;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const worker of this.workers) if (worker.child.connected) this.send(worker, { kind: 'close' });
    await Promise.all(this.workers.map((worker) => worker.process.stop('SIGTERM', 5000)));
  }

  private send(worker: Worker, message: ToWorker): void {
    worker.child.send(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const listener of [...this.listeners]) listener({ kind: 'failed', client: -1, error: error.message }, this.workers[0]!);
  }

  /** Resolves when `accept` returns a value; rejects on a client failure or after `timeoutMs`. */
  private waitFor<T>(timeoutMs: number, what: string, accept: (message: FromWorker, worker: Worker) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`))), timeoutMs);
      const listener: Listener = (message, worker) => {
        if (message.kind === 'failed') {
          finish(() => reject(this.failure ?? new Error(message.error)));
          return;
        }
        const value = accept(message, worker);
        if (value !== undefined) finish(() => resolve(value));
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        settle();
      };
      if (this.failure !== undefined) {
        finish(() => reject(this.failure!));
        return;
      }
      this.listeners.add(listener);
    });
  }
}
