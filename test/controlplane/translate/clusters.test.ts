import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateForProxy } from '../../../src/controlplane/translate/translate.js';
import { httpService, named, PROXYLESS, service, SIDECAR, trafficPolicy, workload } from './fixtures.js';

const REVIEWS = 'outbound|9080||reviews.default.svc';

describe('translate: clusters and endpoints', () => {
  it('turns a service with two workloads into an EDS cluster and its load assignment, each endpoint named by its workload', () => {
    const xds = translateForProxy(SIDECAR, httpService('reviews', ['10.0.0.1', '10.0.0.2']));
    assert.deepEqual(xds.clusters, [{
      name: REVIEWS,
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    }]);
    assert.deepEqual(xds.endpoints, [{
      cluster_name: REVIEWS,
      endpoints: [{
        locality: {},
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 9080 } }, hostname: 'reviews-1' } },
          { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 9080 } }, hostname: 'reviews-2' } },
        ],
        load_balancing_weight: 2,
      }],
    }]);
  });

  it('groups endpoints by zone, weighted by endpoint count, and sends to targetPort', () => {
    const xds = translateForProxy(SIDECAR, [
      service('ratings', { ports: [{ name: 'http', port: 80, targetPort: 9080 }] }),
      workload('ratings-b', { address: '10.0.1.2', service: 'ratings', zone: 'zone-b' }),
      workload('ratings-a1', { address: '10.0.1.1', service: 'ratings', zone: 'zone-a' }),
      workload('ratings-a2', { address: '10.0.1.3', service: 'ratings', zone: 'zone-a' }),
    ]);
    const endpoint = (address: string, hostname: string) => ({ endpoint: { address: { socket_address: { address, port_value: 9080 } }, hostname } });
    assert.deepEqual(named(xds.endpoints, 'outbound|80||ratings.default.svc', 'cluster_name')['endpoints'], [
      { locality: { zone: 'zone-a' }, lb_endpoints: [endpoint('10.0.1.1', 'ratings-a1'), endpoint('10.0.1.3', 'ratings-a2')], load_balancing_weight: 2 },
      { locality: { zone: 'zone-b' }, lb_endpoints: [endpoint('10.0.1.2', 'ratings-b')], load_balancing_weight: 1 },
    ]);
  });

  it('finds a workload port by the service port name, and members by selector', () => {
    const xds = translateForProxy(SIDECAR, [
      service('reviews', { ports: [{ name: 'http', port: 9080 }] }),
      service('reviews-v2', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v2' } }),
      workload('reviews-v1', { address: '10.0.0.1', service: 'reviews', labels: { version: 'v1' }, ports: [{ name: 'http', port: 8001 }] }),
      workload('reviews-v2', { address: '10.0.0.2', service: 'reviews', labels: { version: 'v2' }, ports: [{ name: 'http', port: 8002 }] }),
    ]);
    const addresses = (cluster: string) => (named(xds.endpoints, cluster, 'cluster_name')['endpoints'] as Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: unknown } } }> }>)
      .flatMap((locality) => locality.lb_endpoints.map((e) => e.endpoint.address.socket_address));
    assert.deepEqual(addresses(REVIEWS), [{ address: '10.0.0.1', port_value: 8001 }, { address: '10.0.0.2', port_value: 8002 }]);
    assert.deepEqual(addresses('outbound|9080||reviews-v2.default.svc'), [{ address: '10.0.0.2', port_value: 8002 }]);
  });

  it('keeps a service without workloads as a cluster with an empty assignment', () => {
    const xds = translateForProxy(SIDECAR, [service('idle', { ports: [{ name: 'http', port: 80 }] })]);
    assert.deepEqual(xds.endpoints, [{ cluster_name: 'outbound|80||idle.default.svc', endpoints: [] }]);
  });

  // One row per TrafficPolicy field that lands on the cluster.
  const policyCases: Array<{ field: string; spec: Record<string, unknown>; cluster: Record<string, unknown> }> = [
    { field: 'timeouts.connect', spec: { timeouts: { connect: '250ms' } }, cluster: { connect_timeout: '0.250s' } },
    { field: 'loadBalancer.policy LEAST_REQUEST', spec: { loadBalancer: { policy: 'LEAST_REQUEST' } }, cluster: { lb_policy: 'LEAST_REQUEST' } },
    {
      field: 'loadBalancer.policy RING_HASH',
      spec: { loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x-user' } } },
      cluster: { lb_policy: 'RING_HASH' },
    },
    {
      field: 'circuitBreaker',
      spec: { circuitBreaker: { maxConnections: 10, maxPendingRequests: 20, maxRequests: 30, maxRetries: 2 } },
      cluster: { circuit_breakers: { thresholds: [{ max_connections: 10, max_pending_requests: 20, max_requests: 30, max_retries: 2 }] } },
    },
    {
      field: 'retries.budget',
      spec: { retries: { attempts: 2, budget: { percent: 25, minConcurrency: 5 } } },
      cluster: { circuit_breakers: { thresholds: [{ retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: 5 } }] } },
    },
    {
      field: 'outlierDetection',
      spec: { outlierDetection: { consecutive5xx: 3, interval: '5s', baseEjectionTime: '30s', maxEjectionPercent: 50 } },
      cluster: { outlier_detection: { consecutive_5xx: 3, interval: '5s', base_ejection_time: '30s', max_ejection_percent: 50 } },
    },
    {
      field: 'healthCheck.http',
      spec: { healthCheck: { http: { path: '/healthz', expectedStatuses: [200, 204, 201] }, interval: '2s', timeout: '500ms', healthyThreshold: 2 } },
      cluster: {
        health_checks: [{
          timeout: '0.500s', interval: '2s', unhealthy_threshold: 3, healthy_threshold: 2,
          // Host: the service's name (the cluster's name is no valid Host header).
          http_health_check: { host: 'reviews.default.svc', path: '/healthz', expected_statuses: [{ start: 200, end: 202 }, { start: 204, end: 205 }] },
        }],
      },
    },
    {
      field: 'healthCheck.tcp',
      spec: { healthCheck: { tcp: {}, interval: '1m', timeout: '1s', unhealthyThreshold: 5 } },
      cluster: { health_checks: [{ timeout: '1s', interval: '60s', unhealthy_threshold: 5, healthy_threshold: 1, tcp_health_check: {} }] },
    },
    {
      field: 'timeouts.idle',
      spec: { timeouts: { idle: '90s' } },
      cluster: {
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            common_http_protocol_options: { idle_timeout: '90s' },
            explicit_http_config: { http_protocol_options: {} },
          },
        },
      },
    },
  ];
  for (const { field, spec, cluster } of policyCases) {
    it(`maps TrafficPolicy ${field} onto the cluster`, () => {
      const xds = translateForProxy(SIDECAR, [...httpService('reviews', []), trafficPolicy('reviews', { targetRef: { kind: 'Service', name: 'reviews' }, ...spec })]);
      assert.deepEqual(named(xds.clusters, REVIEWS), {
        name: REVIEWS,
        type: 'EDS',
        eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
        ...cluster,
      });
    });
  }

  it('gives proxyless clients ROUND_ROBIN for policies grpc-js-xds does not know', () => {
    const resources = [...httpService('reviews', []), trafficPolicy('reviews', { targetRef: { kind: 'Service', name: 'reviews' }, loadBalancer: { policy: 'RANDOM' } })];
    assert.equal(named(translateForProxy(PROXYLESS, resources).clusters, REVIEWS)['lb_policy'], 'ROUND_ROBIN');
    assert.equal(named(translateForProxy(SIDECAR, resources).clusters, REVIEWS)['lb_policy'], 'RANDOM');
  });
});
