/**
 * The control loop with scoped sidecars, end to end in one process: a real
 * SQLite store, the controller, the snapshot cache and the ADS server on a
 * real port, and Envoy-like SotW clients (wildcard CDS/LDS, EDS/RDS for what
 * those name, every response ACKed). A change to one service must push only to
 * the sidecars that can reach it, counted as responses received.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { MeshController } from '../../src/controlplane/controller.js';
import { openSqliteStore } from '../../src/controlplane/store/sqlite-store.js';
import type { Store } from '../../src/controlplane/store/store.js';
import { createSnapshotCache } from '../../src/controlplane/xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from '../../src/controlplane/xds/server.js';
import type { EnvoyJson } from '../../src/xds/codec.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL as EDS, CLUSTER_TYPE_URL as CDS, LISTENER_TYPE_URL as LDS, ROUTE_CONFIGURATION_TYPE_URL as RDS, TYPE_SHORT_NAMES, type TypeUrl } from '../../src/xds/type-urls.js';
import { httpService, service, trafficPolicy, workload } from './translate/fixtures.js';
import { connectAdsClient, type AdsTestClient, type AdsTestStream } from './xds/ads-test-client.js';

const log = pino({ level: 'silent' });
/** A push is over when no client heard anything for this long. */
const QUIET_MS = 1000;

/** An Envoy-like SotW client that counts the responses it gets, per type. */
class CountingSidecar {
  readonly counts: Record<string, number> = {};
  private readonly client: AdsTestClient;
  private readonly stream: AdsTestStream;
  private readonly names = new Map<TypeUrl, string[]>([[CDS, []], [LDS, []], [EDS, []], [RDS, []]]);
  /** The last response's version and nonce per type: every request carries them, as Envoy's do. */
  private readonly acked = new Map<TypeUrl, { version_info: unknown; response_nonce: unknown }>();
  private closed = false;
  lastHeardAt = Date.now();
  readonly pump: Promise<void>;

  constructor(port: number, workloadName: string) {
    this.client = connectAdsClient(port);
    this.stream = this.client.sotw();
    this.stream.send({ node: { id: `sidecar~${workloadName}.default` }, type_url: CDS, resource_names: [] });
    this.stream.send({ type_url: LDS, resource_names: [] });
    this.pump = this.run();
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  private async run(): Promise<void> {
    while (!this.closed && this.stream.ended === undefined) {
      const response = await this.stream.next(100).catch(() => undefined);
      if (response !== undefined) this.onResponse(response);
    }
  }

  private onResponse(response: EnvoyJson): void {
    const typeUrl = response['type_url'] as TypeUrl;
    const resources = (response['resources'] ?? []) as EnvoyJson[];
    this.counts[TYPE_SHORT_NAMES[typeUrl]] = (this.counts[TYPE_SHORT_NAMES[typeUrl]] ?? 0) + 1;
    this.lastHeardAt = Date.now();
    // Subscribe to what new clusters and listeners need before ACKing them, as Envoy does.
    if (typeUrl === CDS) this.subscribe(EDS, resources.filter((c) => c['type'] === 'EDS').map((c) => String(c['name'])));
    if (typeUrl === LDS) this.subscribe(RDS, [...new Set(resources.flatMap((l) => routeConfigNames(l)))]);
    this.acked.set(typeUrl, { version_info: response['version_info'], response_nonce: response['nonce'] });
    this.request(typeUrl);
  }

  private request(typeUrl: TypeUrl): void {
    this.stream.send({ type_url: typeUrl, ...this.acked.get(typeUrl), resource_names: this.names.get(typeUrl) });
  }

  private subscribe(typeUrl: TypeUrl, names: string[]): void {
    const sorted = names.sort();
    if (JSON.stringify(sorted) === JSON.stringify(this.names.get(typeUrl))) return;
    this.names.set(typeUrl, sorted);
    this.request(typeUrl);
  }
}

function routeConfigNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(routeConfigNames);
  if (value === null || typeof value !== 'object') return [];
  const object = value as EnvoyJson;
  const own = typeof (object['rds'] as EnvoyJson | undefined)?.['route_config_name'] === 'string' ? [String((object['rds'] as EnvoyJson)['route_config_name'])] : [];
  return [...own, ...Object.values(object).flatMap(routeConfigNames)];
}

describe('controller: a change to one service pushes only to the sidecars that reach it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-controller-scope-'));
  let store: Store;
  let controller: MeshController;
  let xds: RunningXdsServer;
  const sidecars = new Map<string, CountingSidecar>();

  /**
   * Responses per client and type caused by `change`: waits (bounded) until each of `reached` heard
   * something, then until every client has been quiet for QUIET_MS.
   */
  async function pushesDuring(change: () => Promise<unknown>, reached: readonly string[]): Promise<Record<string, Record<string, number>>> {
    const before = new Map([...sidecars].map(([name, s]) => [name, { ...s.counts }]));
    const heard = (name: string) => Object.entries(sidecars.get(name)!.counts).some(([type, n]) => n !== (before.get(name)![type] ?? 0));
    await change();
    const started = Date.now();
    const deadline = started + 20_000;
    while (Date.now() < deadline && !reached.every(heard)) await new Promise((resolve) => setTimeout(resolve, 50));
    while (Date.now() < deadline) {
      const lastHeard = Math.max(started, ...[...sidecars.values()].map((s) => s.lastHeardAt));
      if (Date.now() - lastHeard >= QUIET_MS) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Object.fromEntries([...sidecars].map(([name, s]) => {
      const was = before.get(name)!;
      return [name, Object.fromEntries(Object.entries(s.counts).filter(([type, n]) => n !== (was[type] ?? 0)).map(([type, n]) => [type, n - (was[type] ?? 0)]))];
    }));
  }

  before(async () => {
    store = openSqliteStore(dir);
    for (const resource of [
      ...httpService('a', ['10.0.0.1']),
      ...httpService('b', ['10.0.0.2']),
      ...httpService('c', ['10.0.0.3']),
      ...httpService('d', ['10.0.0.4']),
      workload('caller-b', { address: '10.0.1.1', service: 'a', reachableServices: ['b', 'later'] }),
      workload('caller-d', { address: '10.0.1.2', service: 'c', reachableServices: ['d'] }),
      workload('caller-all', { address: '10.0.1.3', service: 'a' }),
    ]) await store.put(resource);
    const cache = createSnapshotCache();
    controller = new MeshController({ store, cache, log, debounceMs: 20 });
    await controller.start();
    xds = await startXdsServer({
      cache,
      port: 0,
      log,
      onStreamEvent: (event) => {
        if (event.kind === 'connected') controller.onProxyConnected(event.nodeId, event.nodeMetadata);
        else if (event.kind === 'disconnected') controller.onProxyDisconnected(event.nodeId);
      },
    });
    for (const name of ['caller-b', 'caller-d', 'caller-all']) sidecars.set(name, new CountingSidecar(xds.port, name));
    const deadline = Date.now() + 20_000;
    const complete = () => [...sidecars.values()].every((s) => ['CDS', 'EDS', 'LDS', 'RDS'].every((type) => s.counts[type] === 1));
    while (Date.now() < deadline && !complete()) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const [name, s] of sidecars) assert.deepEqual(s.counts, { CDS: 1, EDS: 1, LDS: 1, RDS: 1 }, `${name} got one full config`);
  });

  after(async () => {
    for (const sidecar of sidecars.values()) sidecar.close();
    await Promise.all([...sidecars.values()].map((s) => s.pump));
    await xds.close();
    controller.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves an endpoint of b: one EDS response to each sidecar that reaches b, none to the other', async () => {
    const pushes = await pushesDuring(() => store.put(workload('b-1', { address: '10.0.9.9', service: 'b', ports: [{ name: 'http', port: 9080 }] })), ['caller-b', 'caller-all']);
    assert.deepEqual(pushes, { 'caller-b': { EDS: 1 }, 'caller-d': {}, 'caller-all': { EDS: 1 } });
  });

  it('sets a request timeout on d: one RDS response to each sidecar that reaches d, none to the other', async () => {
    const pushes = await pushesDuring(() => store.put(trafficPolicy('d', { targetRef: { kind: 'Service', name: 'd' }, timeouts: { request: '3s' } })), ['caller-d', 'caller-all']);
    assert.deepEqual(pushes, { 'caller-b': {}, 'caller-d': { RDS: 1 }, 'caller-all': { RDS: 1 } });
  });

  it('widens a sidecar\'s scope: it alone gets the new cluster, assignment and routes', async () => {
    const pushes = await pushesDuring(() => store.put(workload('caller-d', { address: '10.0.1.2', service: 'c', reachableServices: ['d', 'a'] })), ['caller-d']);
    assert.deepEqual(pushes, { 'caller-b': {}, 'caller-d': { CDS: 1, EDS: 1, RDS: 1 }, 'caller-all': {} });
  });

  it('creates a service a sidecar declared before it existed: that sidecar (and the unscoped one) get its cluster, assignment and routes', async () => {
    const pushes = await pushesDuring(() => store.put(service('later', { ports: [{ name: 'http', port: 9080, protocol: 'http' }] })), ['caller-b', 'caller-all']);
    assert.deepEqual(pushes, { 'caller-b': { CDS: 1, EDS: 1, RDS: 1 }, 'caller-d': {}, 'caller-all': { CDS: 1, EDS: 1, RDS: 1 } });
  });
});
