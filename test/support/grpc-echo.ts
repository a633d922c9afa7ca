/**
 * Real gRPC echo servers and a real proxyless xDS client (@grpc/grpc-js-xds)
 * for the xDS tests: each server answers with its own name, so a client can
 * count which backend served each call and check a traffic split.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import grpcXds from '@grpc/grpc-js-xds';

// The .proto is not compiled: resolve it in the source tree from dist/test/support/.
const ECHO_PROTO = fileURLToPath(new URL('../../../test/support/echo.proto', import.meta.url));
const DEFAULT_CONCURRENCY = 50;

interface EchoReply {
  message: string;
  server: string;
}

export type EchoClient = grpc.Client & {
  Echo(request: { message: string }, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void): void;
};
type EchoClientConstructor = new (target: string, credentials: grpc.ChannelCredentials) => EchoClient;

let loaded: { service: grpc.ServiceDefinition; Client: EchoClientConstructor } | undefined;

function echoPackage(): { service: grpc.ServiceDefinition; Client: EchoClientConstructor } {
  if (loaded !== undefined) return loaded;
  const definition = protoLoader.loadSync(ECHO_PROTO, { keepCase: true });
  // loadPackageDefinition's result is untyped by design: the shape comes from the .proto.
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { weft: { test: { Echo: grpc.ServiceClientConstructor } } };
  const Echo = pkg.weft.test.Echo;
  loaded = { service: Echo.service, Client: Echo as unknown as EchoClientConstructor };
  return loaded;
}

export interface GrpcEchoServer {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** A gRPC Echo server on 127.0.0.1 and a free port, answering with `name`. */
export async function startGrpcEchoServer(name: string): Promise<GrpcEchoServer> {
  const server = new grpc.Server();
  server.addService(echoPackage().service, {
    Echo(call: grpc.ServerUnaryCall<{ message: string }, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) {
      callback(null, { message: call.request.message, server: name });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { name, port, close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
}

export function newEchoClient(target: string): EchoClient {
  return new (echoPackage().Client)(target, grpc.credentials.createInsecure());
}

/**
 * Makes grpc-js-xds resolve `xds:///` targets through the ADS server at
 * `127.0.0.1:<xdsPort>`. grpc-js-xds reads its bootstrap once per process, so
 * a test process has one xDS client identity.
 */
export function registerXdsClient(xdsPort: number, node: { id: string; metadata?: Record<string, string> }): void {
  process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
    xds_servers: [{ server_uri: `127.0.0.1:${xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: node.id, cluster: 'test', locality: {}, metadata: node.metadata ?? {} },
  });
  grpcXds.register();
}

/** One call; resolves with the name of the server that answered. */
export function echoOnce(client: EchoClient, deadlineMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    client.Echo({ message: 'hi' }, { deadline: Date.now() + deadlineMs }, (error, reply) => (error !== null ? reject(error) : resolve(reply!.server)));
  });
}

/** Makes `count` calls, `concurrency` at a time; returns how many each server answered. */
export async function countBackends(client: EchoClient, count: number, concurrency = DEFAULT_CONCURRENCY): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < count) {
      started++;
      const server = await echoOnce(client);
      counts.set(server, (counts.get(server) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return counts;
}

/** The fraction of calls `server` answered. */
export function share(counts: ReadonlyMap<string, number>, server: string): number {
  let total = 0;
  for (const value of counts.values()) total += value;
  return total === 0 ? 0 : (counts.get(server) ?? 0) / total;
}

/**
 * Calls in batches until `server` answers about `expected` of them (within
 * `tolerance`, a loose bound that tells splits apart); returns how long that took.
 * A push takes a round trip, so callers measure the exact split afterwards.
 */
export async function waitForShare(
  client: EchoClient,
  server: string,
  expected: number,
  options: { timeoutMs?: number; batch?: number; tolerance?: number } = {},
): Promise<number> {
  const { timeoutMs = 10_000, batch = 200, tolerance = 0.15 } = options;
  const started = Date.now();
  for (;;) {
    const observed = share(await countBackends(client, batch), server);
    if (Math.abs(observed - expected) <= tolerance) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${server} still answers ${(observed * 100).toFixed(1)}% of calls after ${timeoutMs} ms, wanted about ${expected * 100}%`);
  }
}
