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

  const service: AdsHandlers = {
    StreamAggregatedResources(call) {
      openStreams.add(new SotwStream(call, context, 'sotw', ++nextStreamId));
    },
    DeltaAggregatedResources(call) {
      openStreams.add(new DeltaStream(call, context, 'delta', ++nextStreamId));
    },
  };

  return {
    service,
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
  port: number;
  /** Defaults to 127.0.0.1: the plaintext port is for loopback (mTLS comes on 15012). */
  host?: string;
  /** More gRPC services on the same port (the CA's certificate service). */
  services?: ReadonlyArray<{ definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation }>;
}

export interface RunningXdsServer {
  port: number;
  proxies(): ProxyStatus[];
  close(): Promise<void>;
}

/** How long close() lets in-flight calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 2000;

/** Binds a gRPC server with the ADS service (insecure credentials) and starts serving. */
export async function startXdsServer(options: StartXdsServerOptions): Promise<RunningXdsServer> {
  const host = options.host ?? '127.0.0.1';
  const xds = createXdsServer(options);
  const server = new grpc.Server();
  server.addService(xdsProtos().aggregatedDiscoveryService, xds.service);
  for (const { definition, handlers } of options.services ?? []) server.addService(definition, handlers);
  const address = formatHostPort(host, options.port);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error !== null) reject(new Error(`xds server: cannot listen on ${address}: ${error.message}`, { cause: error }));
      else resolve(boundPort);
    });
  });
  options.log.info({ address: `${host}:${port}` }, 'xds server listening');
  return {
    port,
    proxies: () => xds.proxies(),
    async close() {
      xds.close();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
