/**
 * Envoy's xDS protos, loaded once and lazily from the copy @grpc/grpc-js-xds
 * ships (deps/{envoy-api,xds,googleapis,protoc-gen-validate}). One protobufjs
 * root serves two users: the gRPC service definition of the aggregated
 * discovery service (through @grpc/proto-loader) and the resource codec
 * (src/xds/codec.ts), which encodes Envoy JSON into `google.protobuf.Any`.
 *
 * protobufjs is taken from @grpc/proto-loader's own dependency so both agree
 * on one copy (it is not a direct dependency of Weft).
 */
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import type * as Protobuf from 'protobufjs';
import * as protoLoader from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

/** The files whose types the control plane and the proxy put into or read from xDS resources. */
const PROTO_FILES = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
];

/** The options the brief for gRPC message objects fixes (Envoy field names, 64-bit ints and enums as strings). */
const GRPC_OBJECT_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  json: true,
};

export interface XdsProtos {
  /** Every loaded type, for the codec. */
  root: Protobuf.Root;
  /** `envoy.service.discovery.v3.AggregatedDiscoveryService`, ready for `grpc.Server.addService` or a client constructor. */
  aggregatedDiscoveryService: ServiceDefinition;
}

let loaded: XdsProtos | undefined;

/** Loads the protos on first use (about a second); later calls return the same objects. */
export function xdsProtos(): XdsProtos {
  loaded ??= loadProtos();
  return loaded;
}

function includeDirs(): string[] {
  const requireHere = createRequire(import.meta.url);
  const depsDir = join(dirname(requireHere.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((dir) => join(depsDir, dir));
}

/** protobufjs, the copy @grpc/proto-loader uses (other gRPC services defined in code share it). */
export function loadProtobufjs(): typeof Protobuf {
  const requireHere = createRequire(import.meta.url);
  const requireFromLoader = createRequire(requireHere.resolve('@grpc/proto-loader'));
  return requireFromLoader('protobufjs') as typeof Protobuf;
}

function loadProtos(): XdsProtos {
  const protobuf = loadProtobufjs();
  const dirs = includeDirs();
  const root = new protobuf.Root();
  // Imports name files relative to an include dir; google/protobuf/* come bundled with protobufjs.
  root.resolvePath = (origin, target) => {
    if (isAbsolute(target)) return target;
    for (const dir of dirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return protobuf.util.path.resolve(origin, target);
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  const definition = protoLoader.fromJSON(root.toJSON(), GRPC_OBJECT_OPTIONS);
  const service = definition['envoy.service.discovery.v3.AggregatedDiscoveryService'];
  if (service === undefined || !isServiceDefinition(service)) {
    throw new Error('xds protos: envoy.service.discovery.v3.AggregatedDiscoveryService is missing from the loaded protos');
  }
  return { root, aggregatedDiscoveryService: service };
}

function isServiceDefinition(value: protoLoader.AnyDefinition): value is protoLoader.ServiceDefinition {
  return !('format' in value);
}
