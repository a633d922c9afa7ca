/**
 * Delta (incremental) ADS against a real gRPC server and a raw gRPC client:
 * per-resource versions, subscribe/unsubscribe, removed_resources,
 * initial_resource_versions on reconnect, NACK without a resend loop, and
 * CDS-before-EDS order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createSnapshotCache } from '../../../src/controlplane/xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from '../../../src/controlplane/xds/server.js';
import type { ProxyStreamEvent } from '../../../src/controlplane/xds/proxy-status.js';
import type { EnvoyJson } from '../../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL as EDS,
  CLUSTER_TYPE_URL as CDS,
  LISTENER_TYPE_URL as LDS,
  ROUTE_CONFIGURATION_TYPE_URL as RDS,
} from '../../../src/xds/type-urls.js';
import { connectAdsClient, namesIn, type AdsTestClient, type AdsTestStream } from './ads-test-client.js';
import { serviceSnapshot, type WeightedBackend } from './fixtures.js';

const log = pino({ level: 'silent' });

function backends(portA = 9001, withB = true): WeightedBackend[] {
  const a: WeightedBackend = { cluster: 'echo-a', weight: withB ? 90 : 100, endpoints: [{ address: '127.0.0.1', port: portA }] };
  return withB ? [a, { cluster: 'echo-b', weight: 10, endpoints: [{ address: '127.0.0.1', port: 9002 }] }] : [a];
}

const node = (id: string) => ({ id, cluster: 'test' });

describe('xds server: delta', () => {
  const cache = createSnapshotCache();
  const events: ProxyStreamEvent[] = [];
  let server: RunningXdsServer;
  let client: AdsTestClient;

  async function answered(nonce: unknown): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!events.some((event) => (event.kind === 'ack' || event.kind === 'nack') && event.nonce === nonce)) {
      if (Date.now() > deadline) throw new Error(`the server recorded no answer to nonce ${String(nonce)}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function ack(stream: AdsTestStream, response: EnvoyJson): Promise<void> {
    stream.send({ type_url: response['type_url'], response_nonce: response['nonce'] });
    await answered(response['nonce']);
  }

  const versionsIn = (response: EnvoyJson) =>
    Object.fromEntries(((response['resources'] ?? []) as EnvoyJson[]).map((item) => [item['name'], item['version']]));

  before(async () => {
    server = await startXdsServer({ cache, log, port: 0, onStreamEvent: (event) => events.push(event) });
    client = connectAdsClient(server.port);
  });

  after(async () => {
    client.close();
    await server.close();
  });

  it('subscribes by wildcard and by name, sends only what the client lacks, and removes what is gone', async () => {
    cache.setSnapshot('delta', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('delta'), type_url: CDS });
    const clusters = await stream.next();
    assert.equal(clusters['system_version_info'], 'v1');
    assert.deepEqual(namesIn(clusters), ['echo-a', 'echo-b']);
    assert.equal((((clusters['resources'] as EnvoyJson[])[0]!)['resource'] as EnvoyJson)['@type'], CDS);
    await ack(stream, clusters);

    stream.send({ type_url: EDS, resource_names_subscribe: ['echo-a'] });
    const a = await stream.next();
    assert.deepEqual(namesIn(a), ['echo-a']);
    await ack(stream, a);
    stream.send({ type_url: EDS, resource_names_subscribe: ['echo-b'] });
    const b = await stream.next();
    assert.deepEqual(namesIn(b), ['echo-b'], 'only the newly subscribed resource');
    await ack(stream, b);

    stream.send({ type_url: EDS, resource_names_unsubscribe: ['echo-a'] });
    await stream.expectNothing();
    cache.setSnapshot('delta', serviceSnapshot('v2', 'echo', backends(9011)));
    await stream.expectNothing(); // echo-a changed, but nobody here subscribes to it any more

    cache.setSnapshot('delta', serviceSnapshot('v3', 'echo', backends(9011, false)));
    const removedClusters = await stream.next();
    assert.equal(removedClusters['type_url'], CDS);
    assert.deepEqual(removedClusters['removed_resources'], ['echo-b']);
    assert.deepEqual(namesIn(removedClusters), [], 'echo-a is unchanged, so not re-sent');
    const removedEndpoints = await stream.next();
    assert.equal(removedEndpoints['type_url'], EDS);
    assert.deepEqual(removedEndpoints['removed_resources'], ['echo-b']);
    await stream.expectNothing();

    const status = server.proxies().find((proxy) => proxy.nodeId === 'delta')!;
    assert.equal(status.protocol, 'delta');
    assert.equal(status.types[CDS]?.ackedVersion, 'v1');
    assert.equal(status.types[CDS]?.sentVersion, 'v3');
    assert.deepEqual(status.types[EDS]?.subscribed, ['echo-b']);
  });

  it('sends only resources whose version differs from initial_resource_versions on a new stream', async () => {
    cache.setSnapshot('resume', serviceSnapshot('v1', 'echo', backends()));
    const firstStream = client.delta();
    firstStream.send({ node: node('resume'), type_url: CDS });
    const had = versionsIn(await firstStream.next());
    firstStream.close();

    cache.setSnapshot('resume', serviceSnapshot('v2', 'echo', [
      ...backends().slice(0, 1),
      { cluster: 'echo-c', weight: 10, endpoints: [{ address: '127.0.0.1', port: 9003 }] },
    ]));
    const stream = client.delta();
    stream.send({ node: node('resume'), type_url: CDS, initial_resource_versions: had });
    const response = await stream.next();
    assert.deepEqual(namesIn(response), ['echo-c'], 'echo-a is current on the client');
    assert.deepEqual(response['removed_resources'], ['echo-b']);
  });

  it('tells a client once that a subscribed resource does not exist', async () => {
    cache.setSnapshot('absent', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('absent'), type_url: CDS });
    await ack(stream, await stream.next());
    stream.send({ type_url: EDS, resource_names_subscribe: ['no-such-cluster'] });
    const response = await stream.next();
    assert.deepEqual(response['removed_resources'], ['no-such-cluster']);
    await ack(stream, response);
    cache.setSnapshot('absent', serviceSnapshot('v2', 'echo', backends(9011)));
    await stream.expectNothing();
  });

  it('answers a subscribe to a resource the client should already have, and to one it was told is absent', async () => {
    cache.setSnapshot('resub', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('resub'), type_url: CDS, resource_names_subscribe: ['echo-a', 'no-such-cluster'] });
    const first = await stream.next();
    assert.deepEqual(namesIn(first), ['echo-a']);
    assert.deepEqual(first['removed_resources'], ['no-such-cluster']);
    await ack(stream, first);

    // xDS protocol, "Subscribing to Resources": the server must still provide them (the client may have forgotten them).
    stream.send({ type_url: CDS, resource_names_subscribe: ['echo-a', 'no-such-cluster'] });
    const again = await stream.next();
    assert.deepEqual(versionsIn(again), versionsIn(first));
    assert.deepEqual(again['removed_resources'], ['no-such-cluster']);
    await ack(stream, again);
    await stream.expectNothing();
  });

  it('is not a legacy wildcard when the first request only unsubscribes', async () => {
    cache.setSnapshot('unsub-first', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('unsub-first'), type_url: CDS, resource_names_unsubscribe: ['echo-b'] });
    await stream.expectNothing();
    assert.deepEqual(server.proxies().find((proxy) => proxy.nodeId === 'unsub-first')?.types[CDS]?.subscribed, []);
  });

  it('records a NACK and re-sends nothing until the resource changes again', async () => {
    cache.setSnapshot('dnack', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('dnack'), type_url: CDS });
    await ack(stream, await stream.next());
    const before = stream.all.length;

    const rejected = serviceSnapshot('v2', 'echo', backends());
    const entry = rejected.resources.get(CDS)!.get('echo-a')!;
    entry.resource['connect_timeout'] = '0.000000001s';
    entry.version = 'tiny-timeout';
    cache.setSnapshot('dnack', rejected);
    const bad = await stream.next();
    assert.deepEqual(versionsIn(bad), { 'echo-a': 'tiny-timeout' });
    stream.send({ type_url: CDS, response_nonce: bad['nonce'], error_detail: { code: 3, message: 'connect_timeout too small' } });
    await answered(bad['nonce']);
    await stream.expectNothing();
    assert.equal(stream.all.length, before + 1);
    const status = server.proxies().find((proxy) => proxy.nodeId === 'dnack')!;
    assert.equal(status.types[CDS]?.ackedVersion, 'v1');
    assert.equal(status.types[CDS]?.nackError?.rejectedVersion, 'v2');
    assert.equal(status.types[CDS]?.nackError?.message, 'connect_timeout too small');

    cache.setSnapshot('dnack', serviceSnapshot('v3', 'echo', backends()));
    const fixed = await stream.next();
    assert.deepEqual(namesIn(fixed), ['echo-a']);
    await ack(stream, fixed);
    assert.equal(server.proxies().find((proxy) => proxy.nodeId === 'dnack')!.types[CDS]?.nackError, undefined);
  });

  it('removes clusters and their endpoints only after the routes that named them moved on (make before break)', async () => {
    cache.setSnapshot('dmbb', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('dmbb'), type_url: CDS });
    await ack(stream, await stream.next());
    stream.send({ type_url: EDS, resource_names_subscribe: ['echo-a', 'echo-b'] });
    await ack(stream, await stream.next());
    stream.send({ type_url: LDS });
    await ack(stream, await stream.next());
    stream.send({ type_url: RDS, resource_names_subscribe: ['echo-routes'] });
    await ack(stream, await stream.next());

    cache.setSnapshot('dmbb', serviceSnapshot('v2', 'echo', [{ cluster: 'echo-c', weight: 100, endpoints: [{ address: '127.0.0.1', port: 9003 }] }]));
    const sequence: [unknown, string[], unknown][] = [];
    for (let i = 0; i < 4; i++) {
      const response = await stream.next();
      sequence.push([response['type_url'], namesIn(response), response['removed_resources'] ?? []]);
    }
    assert.deepEqual(sequence, [
      [CDS, ['echo-c'], []],
      [RDS, ['echo-routes'], []],
      [CDS, [], ['echo-a', 'echo-b']],
      [EDS, [], ['echo-a', 'echo-b']],
    ]);
    await stream.expectNothing();
  });

  it('holds EDS until CDS has been sent on the stream', async () => {
    cache.setSnapshot('dorder', serviceSnapshot('v1', 'echo', backends()));
    const stream = client.delta();
    stream.send({ node: node('dorder'), type_url: EDS, resource_names_subscribe: ['echo-a', 'echo-b'] });
    await stream.expectNothing();
    stream.send({ type_url: CDS });
    const first = await stream.next();
    const second = await stream.next();
    assert.deepEqual([first['type_url'], second['type_url']], [CDS, EDS]);
    assert.deepEqual(namesIn(second), ['echo-a', 'echo-b']);
  });
});
