/**
 * A minimal state-of-the-world ADS server for tests (real @grpc/grpc-js, Envoy's
 * protos from src/xds): holds resources per type, pushes a new version to every
 * stream on `set`, answers subscription changes, and records every request so
 * tests can assert ACKs, NACKs (error_detail) and the absence of resend loops.
 */
import * as grpc from '@grpc/grpc-js';
import { encodeResource, type EnvoyJson } from '../../../src/xds/codec.js';
import { xdsProtos } from '../../../src/xds/protos.js';
import { CLUSTER_TYPE_URL, LISTENER_TYPE_URL } from '../../../src/xds/type-urls.js';

export interface RecordedRequest {
  typeUrl: string;
  versionInfo: string;
  nonce: string;
  names: string[];
  errorDetail?: string;
  node?: { id?: string; metadata?: unknown };
}

interface WireRequest {
  version_info: string;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
  error_detail?: { message?: string } | null;
  node?: { id?: string; metadata?: unknown } | null;
}

type Stream = grpc.ServerDuplexStream<WireRequest, unknown>;

interface StreamState {
  names: Map<string, string[]>;
  nonce: number;
}

export interface AdsTestServer {
  port: number;
  readonly requests: RecordedRequest[];
  /** Replaces every resource of a type (named by `name`, or `cluster_name` for EDS) and pushes a new version. */
  set(typeUrl: string, resources: EnvoyJson[]): string;
  /** RDS/EDS only: updates the given resources and pushes a response carrying just them, as SotW allows for those types. */
  update(typeUrl: string, changed: EnvoyJson[]): string;
  /** Kills every stream and the server at once (a crashed control plane). */
  kill(): void;
  close(): Promise<void>;
}

export async function startAdsServer(port = 0, initial: Array<[string, EnvoyJson[]]> = []): Promise<AdsTestServer> {
  const resources = new Map<string, EnvoyJson[]>();
  const versions = new Map<string, number>();
  const streams = new Map<Stream, StreamState>();
  const requests: RecordedRequest[] = [];

  const respond = (stream: Stream, state: StreamState, typeUrl: string, only?: EnvoyJson[]): void => {
    const wanted = state.names.get(typeUrl);
    if (wanted === undefined) return;
    const wildcard = typeUrl === LISTENER_TYPE_URL || typeUrl === CLUSTER_TYPE_URL;
    const all = only ?? resources.get(typeUrl) ?? [];
    const chosen = wildcard ? all : all.filter((r) => wanted.includes(String(r['name'] ?? r['cluster_name'])));
    state.nonce++;
    stream.write({
      version_info: String(versions.get(typeUrl) ?? 0),
      type_url: typeUrl,
      nonce: String(state.nonce),
      resources: chosen.map((r) => encodeResource(typeUrl, r)),
    });
  };

  const server = new grpc.Server();
  server.addService(xdsProtos().aggregatedDiscoveryService, {
    StreamAggregatedResources: (stream: Stream) => {
      const state: StreamState = { names: new Map(), nonce: 0 };
      streams.set(stream, state);
      stream.on('data', (request: WireRequest) => {
        const recorded: RecordedRequest = {
          typeUrl: request.type_url,
          versionInfo: request.version_info,
          nonce: request.response_nonce,
          names: [...request.resource_names],
        };
        if (request.error_detail?.message) recorded.errorDetail = request.error_detail.message;
        if (request.node) recorded.node = request.node;
        requests.push(recorded);
        const before = state.names.get(request.type_url);
        state.names.set(request.type_url, recorded.names);
        // A new subscription or changed names get a response; an ACK or NACK does not.
        if (before === undefined || before.join() !== recorded.names.join()) respond(stream, state, request.type_url);
      });
      stream.on('error', () => streams.delete(stream));
      stream.on('end', () => {
        streams.delete(stream);
        stream.end();
      });
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));

  const set = (typeUrl: string, list: EnvoyJson[]): string => {
    resources.set(typeUrl, list);
    const version = (versions.get(typeUrl) ?? 0) + 1;
    versions.set(typeUrl, version);
    for (const [stream, state] of streams) respond(stream, state, typeUrl);
    return String(version);
  };
  for (const [typeUrl, list] of initial) set(typeUrl, list);

  const nameOf = (r: EnvoyJson): string => String(r['name'] ?? r['cluster_name']);
  const update = (typeUrl: string, changed: EnvoyJson[]): string => {
    const names = new Set(changed.map(nameOf));
    resources.set(typeUrl, [...(resources.get(typeUrl) ?? []).filter((r) => !names.has(nameOf(r))), ...changed]);
    const version = (versions.get(typeUrl) ?? 0) + 1;
    versions.set(typeUrl, version);
    for (const [stream, state] of streams) respond(stream, state, typeUrl, changed);
    return String(version);
  };

  return {
    port: bound,
    requests,
    set,
    update,
    kill() {
      for (const stream of streams.keys()) stream.destroy();
      streams.clear();
      server.forceShutdown();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams.keys()) stream.end();
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 1000).unref();
      }),
  };
}
