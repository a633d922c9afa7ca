/**
 * A small raw ADS client over @grpc/grpc-js for protocol tests: requests are
 * written and responses read as Envoy JSON (resources decoded from their Any),
 * one response at a time, so a test can assert exactly what the server sent
 * and that it sent nothing more.
 */
import * as grpc from '@grpc/grpc-js';
import { decodeMessage, encodeMessage, type EnvoyJson } from '../../../src/xds/codec.js';
import { xdsProtos } from '../../../src/xds/protos.js';

const DISCOVERY = 'envoy.service.discovery.v3.';

function clientConstructor() {
  const ads = xdsProtos().aggregatedDiscoveryService;
  const method = (name: 'StreamAggregatedResources' | 'DeltaAggregatedResources', request: string, response: string) => ({
    ...ads[name]!,
    requestSerialize: (json: EnvoyJson) => Buffer.from(encodeMessage(DISCOVERY + request, json)),
    responseDeserialize: (bytes: Buffer) => decodeMessage(DISCOVERY + response, bytes),
  });
  return grpc.makeGenericClientConstructor({
    StreamAggregatedResources: method('StreamAggregatedResources', 'DiscoveryRequest', 'DiscoveryResponse'),
    DeltaAggregatedResources: method('DeltaAggregatedResources', 'DeltaDiscoveryRequest', 'DeltaDiscoveryResponse'),
  }, 'AggregatedDiscoveryService');
}

export class AdsTestStream {
  private readonly received: EnvoyJson[] = [];
  private waiter: (() => void) | undefined;
  /** Every response so far, in order. */
  readonly all: EnvoyJson[] = [];
  ended: grpc.StatusObject | undefined;

  constructor(private readonly call: grpc.ClientDuplexStream<EnvoyJson, EnvoyJson>) {
    call.on('data', (response: EnvoyJson) => {
      this.received.push(response);
      this.all.push(response);
      this.waiter?.();
    });
    call.on('status', (status: grpc.StatusObject) => {
      this.ended = status;
      this.waiter?.();
    });
    call.on('error', () => { /* surfaced through 'status' */ });
  }

  send(request: EnvoyJson): void {
    this.call.write(request);
  }

  /** The next response; fails after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<EnvoyJson> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length === 0) {
      if (this.ended !== undefined) throw new Error(`stream ended: ${this.ended.code} ${this.ended.details}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.received.shift()!;
  }

  /** Asserts that no response arrives within `ms`. */
  async expectNothing(ms = 300): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.received.length > 0) throw new Error(`unexpected response: ${JSON.stringify(this.received[0])}`);
  }

  async waitForEnd(timeoutMs = 3000): Promise<grpc.StatusObject> {
    const deadline = Date.now() + timeoutMs;
    while (this.ended === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (this.ended === undefined) throw new Error('stream did not end');
    return this.ended;
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

export interface AdsTestClient {
  sotw(): AdsTestStream;
  delta(): AdsTestStream;
  close(): void;
}

export function connectAdsClient(port: number, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()): AdsTestClient {
  const Client = clientConstructor();
  const client = new Client(`127.0.0.1:${port}`, credentials);
  const streams: AdsTestStream[] = [];
  const open = (method: string) => {
    // The generic constructor's methods are not in its static type.
    const start = (client as unknown as Record<string, () => grpc.ClientDuplexStream<EnvoyJson, EnvoyJson>>)[method]!.bind(client);
    const stream = new AdsTestStream(start());
    streams.push(stream);
    return stream;
  };
  return {
    sotw: () => open('StreamAggregatedResources'),
    delta: () => open('DeltaAggregatedResources'),
    close() {
      for (const stream of streams) stream.close();
      client.close();
    },
  };
}

/** The resource names in a SotW response or a delta response. */
export function namesIn(response: EnvoyJson): string[] {
  const resources = (response['resources'] ?? []) as EnvoyJson[];
  return resources.map((item) => {
    const resource = (item['resource'] ?? item) as EnvoyJson;
    return String(item['name'] ?? resource['name'] ?? resource['cluster_name']);
  }).sort();
}
