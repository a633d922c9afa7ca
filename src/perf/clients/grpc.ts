/**
 * The gRPC load client: unary calls to the URL's path (`/package.Service/Method`)
 * with the request body as the message's raw protobuf bytes (empty by default:
 * every field at its default), answers read as raw bytes and dropped. No .proto
 * is needed; `--body FILE` takes a serialized message. One @grpc/grpc-js channel
 * per connection (a local subchannel pool, so channels do not share a socket),
 * one call at a time on it. The recorded status is the gRPC status code.
 */
import * as grpc from '@grpc/grpc-js';
import type { ConnectionEvents, LoadConnection, RequestTemplate } from './client.js';

const identity = (bytes: Buffer): Buffer => bytes;
/** How long a new channel may take to connect before it counts as a connect failure. */
const CONNECT_TIMEOUT_MS = 5000;

class GrpcConnection implements LoadConnection {
  private readonly client: grpc.Client;
  private dead = false;
  private readonly message: Buffer;

  constructor(
    private readonly template: RequestTemplate,
    private readonly metadata: grpc.Metadata,
    private readonly events: ConnectionEvents,
  ) {
    const { host, port } = template.target;
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    this.message = Buffer.from(template.body ?? new Uint8Array(0));
    this.client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (error) => {
      if (this.dead) return;
      if (error) {
        this.dead = true;
        this.client.close();
        events.onClosed(`connect: ${error.message}`);
      } else events.onReady();
    });
  }

  send(): void {
    this.client.makeUnaryRequest(this.template.target.path, identity, identity, this.message, this.metadata, (error) => {
      if (this.dead) return;
      // A status is an answer (UNAVAILABLE included: that is what gRPC reports for a lost connection).
      this.events.onResponse(error ? (error.code ?? grpc.status.UNKNOWN) : grpc.status.OK, true);
    });
  }

  destroy(): void {
    this.dead = true;
    this.client.close();
  }
}

export function grpcConnectionFactory(template: RequestTemplate): (events: ConnectionEvents) => LoadConnection {
  const metadata = new grpc.Metadata();
  for (const [name, value] of template.headers) metadata.add(name.toLowerCase(), value);
  return (events) => new GrpcConnection(template, metadata, events);
}
