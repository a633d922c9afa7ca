/**
 * A worker process of the xDS benchmark: runs many simulated sidecars
 * (ads-client.ts), each on its own gRPC channel and TCP connection as separate
 * proxies would be, and reports to the parent over IPC (ads-fleet-protocol.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { Buffer } from 'node:buffer';
import type { EncodedAny } from '../../src/xds/codec.js';
import { xdsProtos } from '../../src/xds/protos.js';
import type { TypeUrl } from '../../src/xds/type-urls.js';
import { AdsClient, findResource, type DiscoveryRequest, type DiscoveryResponse } from './ads-client.js';
import { epochMs, type FromWorker, type ReceivedTotals, type ToWorker } from './ads-fleet-protocol.js';
import type { SidecarNode } from './mesh-fixture.js';

const CONNECT_TIMEOUT_MS = 60_000;

/** What a client remembers about the change being measured. */
interface Expectation {
  changeId: number;
  watch: { typeUrl: TypeUrl; name: string };
  /** Version of each type ACKed when the change was announced. */
  versionsBefore: Map<TypeUrl, string>;
  watchedBefore: Uint8Array | undefined;
  reported: Set<TypeUrl>;
}

interface SimulatedSidecar {
  channel: grpc.Client;
  client: AdsClient | undefined;
  versions: Map<TypeUrl, string>;
  expectation: Expectation | undefined;
}

function send(message: FromWorker): void {
  process.send!(message);
}

const sidecars: SimulatedSidecar[] = [];
let nodes: SidecarNode[] = [];

async function connect(target: string, toConnect: SidecarNode[]): Promise<void> {
  nodes = toConnect;
  xdsProtos(); // about a second: load the protos now, not while the streams are being timed
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  await Promise.all(
    toConnect.map((node) => {
      // A local subchannel pool: without it grpc-js would share one connection between all channels to the target.
      const channel = new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
      sidecars.push({ channel, client: undefined, versions: new Map(), expectation: undefined });
      return new Promise<void>((resolve, reject) => {
        channel.waitForReady(deadline, (error) => (error ? reject(new Error(`${node.id}: cannot connect to ${target}: ${error.message}`)) : resolve()));
      });
    }),
  );
  send({ kind: 'ready' });
}

function open(): void {
  const protos = xdsProtos();
  const method = protos.aggregatedDiscoveryService['StreamAggregatedResources']!;
  // proto-loader's own deserializer (json: true) would expand every Any into JSON; the clients want the bytes.
  const responseType = protos.root.lookupType('envoy.service.discovery.v3.DiscoveryResponse');
  const decodeResponse = (bytes: Buffer) => responseType.decode(bytes) as unknown as DiscoveryResponse;
  sidecars.forEach((sidecar, index) => {
    const node = nodes[index]!;
    const call = sidecar.channel.makeBidiStreamRequest<DiscoveryRequest, DiscoveryResponse>(
      method.path,
      method.requestSerialize as (request: DiscoveryRequest) => Buffer,
      decodeResponse,
    );
    sidecar.client = new AdsClient(call, { id: node.id, metadata: { WORKLOAD: node.workload, NAMESPACE: node.namespace } }, {
      onFullConfig: () => send({ kind: 'full-config', client: index, atMs: epochMs() }),
      onAck: (typeUrl, version, resources) => onAck(sidecar, index, typeUrl, version, resources),
      onFailure: (error) => send({ kind: 'failed', client: index, error: `${node.id}: ${error.message}` }),
    });
  });
}

function onAck(sidecar: SimulatedSidecar, index: number, typeUrl: TypeUrl, version: string, resources: readonly EncodedAny[]): void {
  sidecar.versions.set(typeUrl, version);
  const expectation = sidecar.expectation;
  if (expectation === undefined || expectation.reported.has(typeUrl) || expectation.versionsBefore.get(typeUrl) === version) return;
  expectation.reported.add(typeUrl);
  const atMs = epochMs();
  let watchedChanged = false;
  if (typeUrl === expectation.watch.typeUrl) {
    const after = findResource(resources, expectation.watch.name)?.value;
    watchedChanged = after !== undefined && (expectation.watchedBefore === undefined || Buffer.compare(after, expectation.watchedBefore) !== 0);
  }
  send({ kind: 'pushed', changeId: expectation.changeId, client: index, typeUrl, atMs, watchedChanged });
}

function expect(changeId: number, watch: { typeUrl: TypeUrl; name: string }): void {
  let subscribers = 0;
  for (const sidecar of sidecars) {
    const client = sidecar.client;
    if (client === undefined) continue;
    if (client.isSubscribed(watch.typeUrl, watch.name)) subscribers++;
    sidecar.expectation = {
      changeId,
      watch,
      versionsBefore: new Map(sidecar.versions),
      watchedBefore: findResource(client.lastResources(watch.typeUrl), watch.name)?.value,
      reported: new Set(),
    };
  }
  send({ kind: 'expecting', changeId, subscribers });
}

function totals(): ReceivedTotals {
  const sum: ReceivedTotals = { responses: 0, resources: 0, bytes: 0 };
  for (const { client } of sidecars) {
    if (client === undefined) continue;
    sum.responses += client.received.responses;
    sum.resources += client.received.resources;
    sum.bytes += client.received.bytes;
  }
  return sum;
}

function close(): void {
  for (const sidecar of sidecars) {
    sidecar.client?.close();
    sidecar.channel.close();
  }
  process.disconnect();
}

process.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'connect':
      connect(message.target, message.nodes).catch((error: Error) => {
        send({ kind: 'failed', client: -1, error: error.message });
      });
      break;
    case 'open':
      open();
      break;
    case 'expect':
      expect(message.changeId, message.watch);
      break;
    case 'totals':
      send({ kind: 'totals', totals: totals() });
      break;
    case 'close':
      close();
      break;
  }
});
// The parent is gone (crashed or killed): nothing left to report to.
process.on('disconnect', () => process.exit(0));
