/**
 * State-of-the-world ADS against a real gRPC server and a raw gRPC client:
 * ACK, NACK without a resend loop, stale nonces, dependency order, and pushes
 * only for what changed.
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

function backends(weightA: number, portA = 9001): WeightedBackend[] {
  return [
    { cluster: 'echo-a', weight: weightA, endpoints: [{ address: '127.0.0.1', port: portA }] },
    { cluster: 'echo-b', weight: 100 - weightA, endpoints: [{ address: '127.0.0.1', port: 9002 }] },
  ];
}

const node = (id: string) => ({ id, cluster: 'test', metadata: { workload: id, labels: { app: 'echo' } } });

/** Resolves once the server has recorded an ACK or NACK of `nonce`. */
async function answered(events: ProxyStreamEvent[], nonce: unknown): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!events.some((event) => (event.kind === 'ack' || event.kind === 'nack') && event.nonce === nonce)) {
    if (Date.now() > deadline) throw new Error(`the server recorded no answer to nonce ${String(nonce)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('xds server: state of the world', () => {
  const cache = createSnapshotCache();
  const events: ProxyStreamEvent[] = [];
  let server: RunningXdsServer;
  let client: AdsTestClient;

  /** Sends a request, ACKs the response and waits until the server recorded the ACK; returns the response. */
  async function requestAndAck(stream: AdsTestStream, request: EnvoyJson): Promise<EnvoyJson> {
    stream.send(request);
    const response = await stream.next();
    stream.send({ ...request, node: undefined, version_info: response['version_info'], response_nonce: response['nonce'] });
    await answered(events, response['nonce']);
    return response;
  }

  before(async () => {
    server = await startXdsServer({ cache, log, port: 0, onStreamEvent: (event) => events.push(event) });
    client = connectAdsClient(server.port);
  });

  after(async () => {
    client.close();
    await server.close();
  });

  it('answers a wildcard CDS request, records the ACK and node metadata, and sends nothing more', async () => {
    cache.setSnapshot('ack', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    const response = await requestAndAck(stream, { node: node('ack'), type_url: CDS });
    assert.equal(response['version_info'], 'v1');
    assert.equal(response['type_url'], CDS);
    assert.deepEqual(namesIn(response), ['echo-a', 'echo-b']);
    assert.equal((response['resources'] as EnvoyJson[])[0]!['@type'], CDS);
    await stream.expectNothing();
    const status = server.proxies().find((proxy) => proxy.nodeId === 'ack');
    assert.ok(status);
    assert.equal(status.protocol, 'sotw');
    assert.deepEqual(status.nodeMetadata, { workload: 'ack', labels: { app: 'echo' } });
    assert.equal(status.types[CDS]?.sentVersion, 'v1');
    assert.equal(status.types[CDS]?.ackedVersion, 'v1');
    assert.equal(status.types[CDS]?.lastNonce, response['nonce']);
    assert.deepEqual(status.types[CDS]?.subscribed, ['*']);
    assert.ok(events.some((event) => event.kind === 'ack' && event.nodeId === 'ack' && event.version === 'v1'));
  });

  it('sends EDS only after CDS, and RDS only after LDS, whatever order the requests come in', async () => {
    cache.setSnapshot('order', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    stream.send({ node: node('order'), type_url: EDS, resource_names: ['echo-a', 'echo-b'] });
    stream.send({ type_url: RDS, resource_names: ['echo-routes'] });
    await stream.expectNothing();
    stream.send({ type_url: CDS });
    const first = await stream.next();
    const second = await stream.next();
    assert.deepEqual([first['type_url'], second['type_url']], [CDS, EDS]);
    assert.deepEqual(namesIn(second), ['echo-a', 'echo-b']);
    stream.send({ type_url: LDS });
    const third = await stream.next();
    const fourth = await stream.next();
    assert.deepEqual([third['type_url'], fourth['type_url']], [LDS, RDS]);
    assert.deepEqual(namesIn(fourth), ['echo-routes']);
  });

  it('pushes only the type that changed, only to the node it belongs to, and nothing for an identical snapshot', async () => {
    cache.setSnapshot('push', serviceSnapshot('v1', 'echo', backends(90)));
    cache.setSnapshot('bystander', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    const bystander = client.sotw();
    for (const [each, id] of [[stream, 'push'], [bystander, 'bystander']] as const) {
      await requestAndAck(each, { node: node(id), type_url: CDS });
      await requestAndAck(each, { type_url: EDS, resource_names: ['echo-a', 'echo-b'] });
      await requestAndAck(each, { type_url: LDS });
      await requestAndAck(each, { type_url: RDS, resource_names: ['echo-routes'] });
    }
    await stream.expectNothing(100);

    cache.setSnapshot('push', serviceSnapshot('v2', 'echo', backends(50)));
    const update = await stream.next();
    assert.equal(update['type_url'], RDS);
    assert.equal(update['version_info'], 'v2');
    const route = (update['resources'] as EnvoyJson[])[0]!;
    assert.match(JSON.stringify(route), /"weight":50/);
    await stream.expectNothing();
    await bystander.expectNothing(50);

    cache.setSnapshot('push', serviceSnapshot('v3', 'echo', backends(50)));
    await stream.expectNothing();

    // A moved endpoint is an EDS change for one cluster: for EDS (and RDS) a SotW response
    // may carry only the changed resources, and clients keep the rest.
    cache.setSnapshot('push', serviceSnapshot('v4', 'echo', backends(50, 9011)));
    const endpoints = await stream.next();
    assert.equal(endpoints['type_url'], EDS);
    assert.equal(endpoints['version_info'], 'v4');
    assert.deepEqual(namesIn(endpoints), ['echo-a']);
    await stream.expectNothing();
    const status = server.proxies().find((proxy) => proxy.nodeId === 'push')!;
    assert.equal(status.types[CDS]?.sentVersion, 'v1', 'clusters did not change, so their version did not either');
  });

  it('removes clusters only after the routes that named them moved on (make before break)', async () => {
    cache.setSnapshot('mbb', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    await requestAndAck(stream, { node: node('mbb'), type_url: CDS });
    await requestAndAck(stream, { type_url: EDS, resource_names: ['echo-a', 'echo-b'] });
    await requestAndAck(stream, { type_url: LDS });
    await requestAndAck(stream, { type_url: RDS, resource_names: ['echo-routes'] });

    cache.setSnapshot('mbb', serviceSnapshot('v2', 'echo', [{ cluster: 'echo-c', weight: 100, endpoints: [{ address: '127.0.0.1', port: 9003 }] }]));
    const sequence: [unknown, string[]][] = [];
    for (let i = 0; i < 4; i++) {
      const response = await stream.next();
      sequence.push([response['type_url'], namesIn(response)]);
    }
    assert.deepEqual(sequence, [
      [CDS, ['echo-a', 'echo-b', 'echo-c']], // the new cluster, the old ones kept while routes still name them
      [RDS, ['echo-routes']], // routes move to echo-c
      [CDS, ['echo-c']], // now the old clusters go
      [EDS, []], // a no-op for the client: the subscribed assignments are gone
    ]);
    await stream.expectNothing();
  });

  it('records a NACK, keeps the last good version and never re-sends the rejected config until it changes', async () => {
    cache.setSnapshot('nack', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    await requestAndAck(stream, { node: node('nack'), type_url: CDS });
    const before = stream.all.length;

    const rejected = serviceSnapshot('v2', 'echo', backends(90));
    rejected.resources.get(CDS)!.get('echo-a')!.resource['connect_timeout'] = '0.000000001s';
    rejected.resources.get(CDS)!.get('echo-a')!.version = 'tiny-timeout';
    cache.setSnapshot('nack', rejected);
    const bad = await stream.next();
    assert.equal(bad['version_info'], 'v2');
    const nack = { type_url: CDS, version_info: 'v1', response_nonce: bad['nonce'], error_detail: { code: 3, message: 'echo-a: connect_timeout too small' } };
    stream.send(nack);
    await answered(events, bad['nonce']);
    await stream.expectNothing();
    stream.send(nack); // a client retrying its NACK must not start a loop either
    await stream.expectNothing();
    assert.equal(stream.all.length, before + 1, 'exactly one response: the rejected config, sent once');

    const status = server.proxies().find((proxy) => proxy.nodeId === 'nack')!;
    assert.equal(status.types[CDS]?.ackedVersion, 'v1');
    assert.equal(status.types[CDS]?.sentVersion, 'v2');
    assert.equal(status.types[CDS]?.nackError?.rejectedVersion, 'v2');
    assert.equal(status.types[CDS]?.nackError?.message, 'echo-a: connect_timeout too small');
    assert.equal(status.types[CDS]?.nackError?.code, 3);
    assert.ok(events.some((event) => event.kind === 'nack' && event.nodeId === 'nack' && event.version === 'v2'));

    cache.setSnapshot('nack', serviceSnapshot('v3', 'echo', backends(90)));
    const fixed = await stream.next();
    assert.equal(fixed['version_info'], 'v3');
    stream.send({ type_url: CDS, version_info: 'v3', response_nonce: fixed['nonce'] });
    await answered(events, fixed['nonce']);
    const healed = server.proxies().find((proxy) => proxy.nodeId === 'nack')!;
    assert.equal(healed.types[CDS]?.ackedVersion, 'v3');
    assert.equal(healed.types[CDS]?.nackError, undefined);
  });

  it('ignores a request that answers an older nonce', async () => {
    cache.setSnapshot('stale', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    await requestAndAck(stream, { node: node('stale'), type_url: CDS });
    const first = await requestAndAck(stream, { type_url: EDS, resource_names: ['echo-a', 'echo-b'] });
    cache.setSnapshot('stale', serviceSnapshot('v2', 'echo', backends(90, 9011)));
    const second = await stream.next();
    assert.equal(second['version_info'], 'v2');

    // Stale: answers the first response's nonce; neither its subscription change nor its "ACK" counts.
    stream.send({ type_url: EDS, version_info: 'v2', response_nonce: first['nonce'], resource_names: ['echo-a'] });
    await stream.expectNothing();
    const status = server.proxies().find((proxy) => proxy.nodeId === 'stale')!;
    assert.equal(status.types[EDS]?.ackedVersion, 'v1');
    assert.deepEqual(status.types[EDS]?.subscribed, ['echo-a', 'echo-b']);

    // Current nonce: the narrower subscription applies and is answered.
    stream.send({ type_url: EDS, version_info: 'v2', response_nonce: second['nonce'], resource_names: ['echo-a'] });
    const narrowed = await stream.next();
    assert.deepEqual(namesIn(narrowed), ['echo-a']);
  });

  it('treats an empty list as wildcard only until a request names a resource, "*" included', async () => {
    cache.setSnapshot('explicit', serviceSnapshot('v1', 'echo', backends(90)));
    const stream = client.sotw();
    const all = await requestAndAck(stream, { node: node('explicit'), type_url: CDS, resource_names: ['*'] });
    assert.deepEqual(namesIn(all), ['echo-a', 'echo-b']);

    // After an explicit '*', an empty list unsubscribes from everything (xDS protocol, "How the client
    // specifies what resources to return"): the answer holds no cluster and later changes are not pushed.
    stream.send({ type_url: CDS, version_info: all['version_info'], response_nonce: all['nonce'], resource_names: [] });
    const none = await stream.next();
    assert.deepEqual(namesIn(none), []);
    stream.send({ type_url: CDS, version_info: none['version_info'], response_nonce: none['nonce'], resource_names: [] });
    await answered(events, none['nonce']);
    assert.deepEqual(server.proxies().find((proxy) => proxy.nodeId === 'explicit')?.types[CDS]?.subscribed, []);
    cache.setSnapshot('explicit', serviceSnapshot('v2', 'echo', [...backends(80), { cluster: 'echo-c', weight: 10, endpoints: [{ address: '127.0.0.1', port: 9003 }] }]));
    await stream.expectNothing();
  });

  it('sends every listener in each LDS response, so a removed one is simply absent', async () => {
    const two = serviceSnapshot('v1', 'echo', backends(90));
    const other = serviceSnapshot('v1', 'other', backends(90));
    for (const type of [LDS, RDS] as const) for (const [name, entry] of other.resources.get(type)!) two.resources.get(type)!.set(name, entry);
    cache.setSnapshot('lds', two);
    const stream = client.sotw();
    const first = await requestAndAck(stream, { node: node('lds'), type_url: LDS });
    assert.deepEqual(namesIn(first), ['echo', 'other']);
    cache.setSnapshot('lds', serviceSnapshot('v2', 'echo', backends(90)));
    const second = await stream.next();
    assert.equal(second['type_url'], LDS);
    assert.deepEqual(namesIn(second), ['echo']);
  });

  it('waits for a snapshot before answering, then answers', async () => {
    const stream = client.sotw();
    stream.send({ node: node('late'), type_url: CDS });
    await stream.expectNothing(200);
    cache.setSnapshot('late', serviceSnapshot('v1', 'echo', backends(90)));
    const response = await stream.next();
    assert.equal(response['version_info'], 'v1');
  });

  it('ends a stream whose first request has no node id', async () => {
    const stream = client.sotw();
    stream.send({ type_url: CDS });
    const status = await stream.waitForEnd();
    assert.equal(status.code, 3); // INVALID_ARGUMENT
    assert.match(status.details, /node\.id/);
  });
});
