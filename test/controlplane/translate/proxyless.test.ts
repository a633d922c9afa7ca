import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { translateForProxy, type XdsResources } from '../../../src/controlplane/translate/translate.js';
import { encodeResource } from '../../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL,
} from '../../../src/xds/type-urls.js';
import { httpService, named, PROXYLESS, service, trafficPolicy, trafficSplit } from './fixtures.js';
import { assertEncodes } from './sidecar.test.js';

/** The part of grpc-js-xds's resource types this test drives: the validation a real client runs on every resource it receives. */
interface GrpcXdsResourceType {
  decode(context: unknown, resource: { type_url: string; value: Buffer }): { name: string; error?: string };
}
const require = createRequire(import.meta.url);
// What every grpc-js-xds client does first: registers the xds resolver, load balancers and HTTP filters.
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const grpcXdsTypes = (module: string, exported: string): GrpcXdsResourceType =>
  (require(`@grpc/grpc-js-xds/build/src/xds-resource-type/${module}.js`) as Record<string, { get(): GrpcXdsResourceType }>)[exported]!.get();
const CLIENT_VALIDATORS = [
  [LISTENER_TYPE_URL, grpcXdsTypes('listener-resource-type', 'ListenerResourceType'), 'listeners'],
  [ROUTE_CONFIGURATION_TYPE_URL, grpcXdsTypes('route-config-resource-type', 'RouteConfigurationResourceType'), 'routes'],
  [CLUSTER_TYPE_URL, grpcXdsTypes('cluster-resource-type', 'ClusterResourceType'), 'clusters'],
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, grpcXdsTypes('endpoint-resource-type', 'EndpointResourceType'), 'endpoints'],
] as const;
/** Decoding only consults the bootstrap for TLS certificate providers, which these resources do not use. */
const DECODE_CONTEXT = { bootstrap: { certificateProviders: {} }, server: {} };

const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

function echoMesh() {
  return [
    ...httpService('echo', ['127.0.0.1', '127.0.0.2']),
    service('echo-v1', { ports: [{ name: 'http', port: 9080, protocol: 'grpc' }], selector: { version: 'v1' } }),
    service('echo-v2', { ports: [{ name: 'http', port: 9080, protocol: 'grpc' }], selector: { version: 'v2' } }),
    trafficSplit('echo', { service: 'echo', backends: [{ service: 'echo-v1', weight: 90 }, { service: 'echo-v2', weight: 10 }] }),
  ];
}

/** Every resource passes grpc-js-xds's own validation (a failure there is a NACK). */
function assertGrpcClientAccepts(xds: XdsResources): void {
  for (const [typeUrl, validator, field] of CLIENT_VALIDATORS) {
    for (const resource of xds[field]) {
      const any = encodeResource(typeUrl, resource as Record<string, unknown>);
      const decoded = validator.decode(DECODE_CONTEXT, { type_url: any.type_url, value: Buffer.from(any.value) });
      assert.equal(decoded.error, undefined, `grpc-js-xds rejects ${field} ${decoded.name}`);
    }
  }
}

describe('translate: proxyless gRPC', () => {
  it('answers xds:///echo with an api_listener naming a RouteConfiguration of the same name, router last', () => {
    const xds = translateForProxy(PROXYLESS, echoMesh());
    assert.deepEqual(named(xds.listeners, 'echo'), {
      name: 'echo',
      api_listener: {
        api_listener: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
          stat_prefix: 'echo',
          rds: { route_config_name: 'echo', config_source: { ads: {}, resource_api_version: 'V3' } },
          http_filters: [ROUTER],
        },
      },
    });
    assert.deepEqual(named(xds.routes, 'echo'), {
      name: 'echo',
      virtual_hosts: [{
        name: 'echo',
        domains: ['echo'],
        routes: [{
          name: 'default',
          match: { prefix: '/' },
          route: { weighted_clusters: { clusters: [{ name: 'outbound|9080||echo-v1.default.svc', weight: 90 }, { name: 'outbound|9080||echo-v2.default.svc', weight: 10 }] } },
        }],
      }],
    });
  });

  it('offers every name a client may dial, with and without the port', () => {
    const xds = translateForProxy(PROXYLESS, httpService('echo', ['127.0.0.1']));
    assert.deepEqual(xds.listeners.map((l) => (l as { name: string }).name), [
      'echo', 'echo.default', 'echo.default.svc', 'echo.default.svc.cluster.local',
      'echo.default.svc.cluster.local:9080', 'echo.default.svc:9080', 'echo.default:9080', 'echo:9080',
    ]);
    assert.deepEqual(xds.routes.map((r) => (r as { name: string }).name), xds.listeners.map((l) => (l as { name: string }).name));
  });

  it('puts the fault filter (which grpc-js-xds runs) in the per-service api_listener, and no rate limit (which it does not)', () => {
    const xds = translateForProxy(PROXYLESS, [
      ...httpService('echo', ['127.0.0.1']),
      trafficPolicy('echo', {
        targetRef: { kind: 'Service', name: 'echo' },
        fault: { abort: { httpStatus: 503, percent: 50 } },
        rateLimit: { requestsPerUnit: 10, unit: 'second' },
      }),
    ]);
    const manager = (named(xds.listeners, 'echo')['api_listener'] as { api_listener: { http_filters: unknown[] } }).api_listener;
    assert.deepEqual(manager.http_filters, [
      {
        name: 'envoy.filters.http.fault',
        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', abort: { http_status: 503, percentage: { numerator: 50, denominator: 'HUNDRED' } } },
      },
      ROUTER,
    ]);
  });

  it('produces resources grpc-js-xds accepts, policies included', () => {
    const xds = translateForProxy(PROXYLESS, [
      ...echoMesh(),
      trafficPolicy('echo', {
        targetRef: { kind: 'Service', name: 'echo' },
        loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x-user' } },
        timeouts: { connect: '1s', request: '5s' },
        retries: { attempts: 2, perTryTimeout: '1s' },
        circuitBreaker: { maxRequests: 100 },
        outlierDetection: { consecutive5xx: 3, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 20 },
        fault: { delay: { fixed: '10ms', percent: 1 } },
      }),
      trafficPolicy('echo-v1', { targetRef: { kind: 'Service', name: 'echo-v1' }, loadBalancer: { policy: 'LEAST_REQUEST' } }),
    ]);
    assertGrpcClientAccepts(xds);
    assertEncodes(xds);
  });

  it('gives TCP ports no proxyless listener', () => {
    const xds = translateForProxy(PROXYLESS, [service('db', { ports: [{ name: 'db', port: 5432, protocol: 'tcp' }] })]);
    assert.deepEqual(xds.listeners, []);
    assert.equal(xds.clusters.length, 1);
  });
});
