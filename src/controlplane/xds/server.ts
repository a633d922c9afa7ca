/**
 * The ADS server: gRPC handlers for envoy.service.discovery.v3.
 * AggregatedDiscoveryService (state of the world and delta), the registry of
 * connected streams by node, and the bridge from the snapshot cache's change
 * notifications to the streams of the node that changed. See README.md.
 */
import { formatHostPort } from '../../lib/address.js';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { xdsProtos } from '../../xds/protos.js';
import { DeltaStream, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse } from './delta-stream.js';
import type { ProxyStatus, ProxyStreamEvent } from './proxy-status.js';
import type { SnapshotCache } from './snapshot-cache.js';
import { SotwStream, type DiscoveryRequest, type DiscoveryResponse } from './sotw-stream.js';
import type { StreamContext, XdsStream } from './stream.js';

export interface XdsServerOptions {
  cache: SnapshotCache;
  log: Logger;
  onStreamEvent?: (event: ProxyStreamEvent) => void;
}

export interface AdsHandlers extends grpc.UntypedServiceImplementation {
  StreamAggregatedResources: grpc.handleBidiStreamingCall<DiscoveryRequest, DiscoveryResponse>;
  DeltaAggregatedResources: grpc.handleBidiStreamingCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
}

export interface XdsServer {
  /** Register with `grpcServer.addService(xdsProtos().aggregatedDiscoveryService, service)`. */
  service: AdsHandlers;
  /** The same service, asking `authorize` before a stream gets its node's config (the mTLS port's). */
  authorizingService(authorize: NonNullable<StreamContext['authorize']>): AdsHandlers;
  /** Every stream that has named its node. */
  proxies(): ProxyStatus[];
  /** Ends every stream and stops listening to the cache. */
  close(): void;
}

interface NodeStreams {
  streams: Set<XdsStream>;
  watch: { close(): void };
}

export function createXdsServer(options: XdsServerOptions): XdsServer {
  const { cache, log, onStreamEvent } = options;
  const nodes = new Map<string, NodeStreams>();
  const openStreams = new Set<XdsStream>();
  let nextStreamId = 0;

  const context: StreamContext = {
    cache,
    log,
    emit(event) {
      if (onStreamEvent === undefined) return;
      try {
        onStreamEvent(event);
      } catch (error) {
        log.error({ err: error, event: event.kind }, 'xds stream event listener threw');
      }
    },
    attach(stream) {
      const nodeId = stream.nodeId!;
      let node = nodes.get(nodeId);
      if (node === undefined) {
        const streams = new Set<XdsStream>();
        const watch = cache.watch(nodeId, () => {
          for (const each of streams) each.pushAll();
        });
        node = { streams, watch };
        nodes.set(nodeId, node);
      }
      node.streams.add(stream);
    },
    detach(stream) {
      openStreams.delete(stream);
      const node = stream.nodeId === undefined ? undefined : nodes.get(stream.nodeId);
      if (node === undefined) return;
      node.streams.delete(stream);
      if (node.streams.size > 0) return;
      node.watch.close();
      nodes.delete(stream.nodeId!);
    },
  };

  const handlers = (streamContext: StreamContext): AdsHandlers => ({
    StreamAggregatedResources(call) {
      openStreams.add(new SotwStream(call, streamContext, 'sotw', ++nextStreamId));
    },
    DeltaAggregatedResources(call) {
      openStreams.add(new DeltaStream(call, streamContext, 'delta', ++nextStreamId));
    },
  });

  return {
    service: handlers(context),
    authorizingService: (authorize) => handlers({ ...context, authorize }),
    proxies() {
      const statuses: ProxyStatus[] = [];
      for (const node of nodes.values()) {
        for (const stream of node.streams) {
          const status = stream.status();
          if (status !== undefined) statuses.push(status);
        }
      }
      return statuses.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : a.streamId - b.streamId));
    },
    close() {
      for (const stream of [...openStreams]) stream.close();
      openStreams.clear();
    },
  };
}

export interface StartXdsServerOptions extends XdsServerOptions {
  /** The plaintext port (0 picks a free one). */
  port: number;
  /** Defaults to 127.0.0.1: the plaintext port is for loopback; remote proxies use the mTLS port. */
  host?: string;
  /**
   * The mTLS port (15012) with the control plane's credentials: the same services as the plaintext
   * port, on a server of its own, whose ADS streams are authorized by `authorize`.
   */
  tls?: { port: number; host: string; credentials: grpc.ServerCredentials; authorize: NonNullable<StreamContext['authorize']> };
  /** More gRPC services on the same ports (the CA's certificate service). */
  services?: ReadonlyArray<{ definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation }>;
  /** HTTP/2 pings to each connection: a peer that answers none within `timeoutMs` is dropped with its streams. */
  keepalive?: { timeMs: number; timeoutMs: number };
}

export interface RunningXdsServer {
  port: number;
  /** The mTLS port, when served. */
  tlsPort: number | undefined;
  proxies(): ProxyStatus[];
  close(): Promise<void>;
}

/** How long close() lets in-flight calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * grpc-js servers never ping by default, so a proxy that vanished without a FIN (host down, NAT
 * entry dropped) would keep its stream, its watch and its `weft proxies` row for good.
 */
const DEFAULT_KEEPALIVE = { timeMs: 30_000, timeoutMs: 10_000 };

/** Serves the ADS service (and `services`) on the plaintext port and, with `tls`, on the mTLS port, from one registry of streams. */
export async function startXdsServer(options: StartXdsServerOptions): Promise<RunningXdsServer> {
  const xds = createXdsServer(options);
  const servers: grpc.Server[] = [];
  const keepalive = options.keepalive ?? DEFAULT_KEEPALIVE;
  const serverOptions: grpc.ServerOptions = { 'grpc.keepalive_time_ms': keepalive.timeMs, 'grpc.keepalive_timeout_ms': keepalive.timeoutMs };
  const serve = async (host: string, port: number, credentials: grpc.ServerCredentials, ads: AdsHandlers, kind: string): Promise<number> => {
    const server = new grpc.Server(serverOptions);
    servers.push(server);
    server.addService(xdsProtos().aggregatedDiscoveryService, ads);
    for (const { definition, handlers } of options.services ?? []) server.addService(definition, handlers);
    const address = formatHostPort(host, port);
    const bound = await new Promise<number>((resolve, reject) => {
      server.bindAsync(address, credentials, (error, boundPort) => {
        if (error !== null) reject(new Error(`xds server: cannot listen on ${address} (${kind}): ${error.message}`, { cause: error }));
        else resolve(boundPort);
      });
    });
    options.log.info({ address: formatHostPort(host, bound), transport: kind }, 'xds server listening');
    return bound;
  };
  let port: number;
  let tlsPort: number | undefined;
  try {
    port = await serve(options.host ?? '127.0.0.1', options.port, grpc.ServerCredentials.createInsecure(), xds.service, 'plaintext');
    const { tls } = options;
    if (tls !== undefined) tlsPort = await serve(tls.host, tls.port, tls.credentials, xds.authorizingService(tls.authorize), 'mtls');
  } catch (err) {
    for (const server of servers) server.forceShutdown();
    throw err;
  }
  return {
    port,
    tlsPort,
    proxies: () => xds.proxies(),
    async close() {
      xds.close();
      await Promise.all(servers.map((server) => shutDown(server)));
    },
  };
}

/** Lets in-flight calls finish for SHUTDOWN_GRACE_MS, then cuts them. */
function shutDown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    // Not unref'd: a session tryShutdown waits on forever (a peer gone silent) must not leave close()
    // pending once nothing else holds the event loop open; the grace period bounds the wait.
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
