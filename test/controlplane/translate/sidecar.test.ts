import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateForProxy, type XdsResources } from '../../../src/controlplane/translate/translate.js';
import { parseBootstrap } from '../../../src/proxy/config/bootstrap.js';
import { encodeResource } from '../../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL,
} from '../../../src/xds/type-urls.js';
import { httpService, named, service, SIDECAR, trafficPolicy, trafficSplit, workload } from './fixtures.js';
import { toStaticBootstrap } from './static-bootstrap.js';

const ADS = { ads: {}, resource_api_version: 'V3' };
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** productpage calls reviews (split 50/50 to v2/v3) and a TCP database; its own sidecar serves port 9080. */
function bookinfoSlice() {
  return [
    ...httpService('productpage', ['10.0.0.1']),
    ...httpService('reviews', ['10.0.0.2', '10.0.0.3']),
    service('reviews-v2', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v2' } }),
    service('reviews-v3', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v3' } }),
    workload('reviews-v2', { address: '10.0.0.4', service: 'reviews', labels: { version: 'v2' }, ports: [{ name: 'http', port: 9080 }] }),
    trafficSplit('reviews', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 50 }, { service: 'reviews-v3', weight: 50 }] }),
    service('mysql', { ports: [{ name: 'db', port: 3306, protocol: 'tcp' }] }),
    workload('mysql-1', { address: '10.0.0.5', service: 'mysql', ports: [{ name: 'db', port: 3306 }] }),
    trafficPolicy('productpage', {
      targetRef: { kind: 'Service', name: 'productpage' },
      timeouts: { request: '3s', idle: '1m' },
      retries: { attempts: 2, perTryTimeout: '1s', budget: { percent: 20, minConcurrency: 3 } },
      circuitBreaker: { maxConnections: 100 },
      outlierDetection: { consecutive5xx: 5 },
      healthCheck: { http: { path: '/health' }, interval: '5s', timeout: '1s' },
      rateLimit: { requestsPerUnit: 100, unit: 'second', burst: 200 },
      fault: { delay: { fixed: '100ms', percent: 10 }, abort: { httpStatus: 503, percent: 0.5 } },
      mirror: { service: 'reviews' },
    }),
  ];
}

const PRODUCTPAGE_SIDECAR = { ...SIDECAR, workload: 'productpage-1' };

describe('translate: sidecar', () => {
  it('gives the sidecar one outbound HTTP listener with RDS, a TCP listener per TCP port and an inbound listener', () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, bookinfoSlice());
    assert.deepEqual(xds.listeners.map((l) => (l as { name: string }).name), ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001', 'outbound_0.0.0.0_3306']);
    assert.deepEqual(named(xds.listeners, 'outbound_0.0.0.0_15001'), {
      name: 'outbound_0.0.0.0_15001',
      address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
      traffic_direction: 'OUTBOUND',
      filter_chains: [{
        filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM_TYPE,
            stat_prefix: 'outbound_0.0.0.0_15001',
            rds: { route_config_name: 'outbound', config_source: ADS },
            http_filters: [ROUTER],
          },
        }],
      }],
    });
    assert.deepEqual(named(xds.listeners, 'outbound_0.0.0.0_3306'), {
      name: 'outbound_0.0.0.0_3306',
      address: { socket_address: { address: '0.0.0.0', port_value: 3306 } },
      traffic_direction: 'OUTBOUND',
      filter_chains: [{
        filters: [{
          name: 'envoy.filters.network.tcp_proxy',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
            stat_prefix: 'outbound|3306||mysql.default.svc',
            cluster: 'outbound|3306||mysql.default.svc',
          },
        }],
      }],
    });
  });

  it('names every host form of a service in its virtual host, bare names on the first HTTP port only', () => {
    const xds = translateForProxy(SIDECAR, [
      service('details', { ports: [{ name: 'http', port: 9080 }, { name: 'admin', port: 9901 }] }),
      service('ratings', { ports: [{ name: 'http', port: 9080 }] }, 'other'),
    ]);
    const hosts = named(xds.routes, 'outbound')['virtual_hosts'] as Array<{ name: string; domains: string[] }>;
    assert.deepEqual(hosts.map(({ name, domains }) => ({ name, domains })), [
      {
        name: 'details.default.svc.cluster.local:9080',
        domains: [
          'details', 'details.default', 'details.default.svc', 'details.default.svc.cluster.local',
          'details:9080', 'details.default:9080', 'details.default.svc:9080', 'details.default.svc.cluster.local:9080',
        ],
      },
      {
        name: 'details.default.svc.cluster.local:9901',
        domains: ['details:9901', 'details.default:9901', 'details.default.svc:9901', 'details.default.svc.cluster.local:9901'],
      },
      {
        // Another namespace: no bare name, it could clash with a local service.
        name: 'ratings.other.svc.cluster.local:9080',
        domains: [
          'ratings.other', 'ratings.other.svc', 'ratings.other.svc.cluster.local',
          'ratings.other:9080', 'ratings.other.svc:9080', 'ratings.other.svc.cluster.local:9080',
        ],
      },
    ]);
  });

  it('serves the workload inbound on 127.0.0.1 with its service policy rate limit and fault filters, router last', () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, bookinfoSlice());
    assert.deepEqual(named(xds.clusters, 'inbound|9080||'), {
      name: 'inbound|9080||',
      type: 'STATIC',
      load_assignment: { cluster_name: 'inbound|9080||', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 9080 } } } }] }] },
    });
    assert.deepEqual(named(xds.listeners, 'inbound_0.0.0.0_15006'), {
      name: 'inbound_0.0.0.0_15006',
      address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
      traffic_direction: 'INBOUND',
      filter_chains: [{
        filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': HCM_TYPE,
            stat_prefix: 'inbound_0.0.0.0_15006',
            route_config: {
              name: 'inbound',
              virtual_hosts: [{
                name: 'inbound|9080||',
                domains: ['*'],
                routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|9080||', timeout: '0s' } }],
              }],
            },
            http_filters: [
              {
                name: 'envoy.filters.http.local_ratelimit',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
                  stat_prefix: 'http_local_rate_limiter',
                  token_bucket: { max_tokens: 200, tokens_per_fill: 100, fill_interval: '1s' },
                  filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
                  filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
                },
              },
              {
                name: 'envoy.filters.http.fault',
                typed_config: {
                  '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
                  delay: { fixed_delay: '0.100s', percentage: { numerator: 10, denominator: 'HUNDRED' } },
                  abort: { http_status: 503, percentage: { numerator: 5000, denominator: 'MILLION' } },
                },
              },
              ROUTER,
            ],
          },
        }],
      }],
    });
  });

  it('routes inbound HTTP ports by the service port in Host, the first port taking any host', () => {
    const xds = translateForProxy({ ...SIDECAR, workload: 'details-1' }, [
      service('details', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'admin', port: 9901 }, { name: 'raw', port: 7000, protocol: 'tcp' }] }),
      workload('details-1', { address: '10.0.0.7', service: 'details', ports: [{ name: 'admin', port: 19901 }] }),
    ]);
    const manager = (named(xds.listeners, 'inbound_0.0.0.0_15006')['filter_chains'] as Array<{ filters: Array<{ typed_config: { route_config: { virtual_hosts: unknown[] } } }> }>)[0]!.filters[0]!.typed_config;
    assert.deepEqual(manager.route_config.virtual_hosts.map((vh) => {
      const { name, domains } = vh as { name: string; domains: string[] };
      return { name, domains };
    }), [{ name: 'inbound|8080||', domains: ['*'] }, { name: 'inbound|19901||', domains: ['*:9901'] }]);
    assert.deepEqual(xds.clusters.map((c) => (c as { name: string }).name).filter((n) => n.startsWith('inbound')), ['inbound|19901||', 'inbound|7000||', 'inbound|8080||']);
  });

  it('gives a sidecar without a registered workload outbound config only', () => {
    const xds = translateForProxy({ ...SIDECAR, workload: 'not-registered' }, bookinfoSlice());
    assert.deepEqual(xds.listeners.map((l) => (l as { name: string }).name), ['outbound_0.0.0.0_15001', 'outbound_0.0.0.0_3306']);
    assert.ok(xds.clusters.every((c) => !(c as { name: string }).name.startsWith('inbound')));
  });

  it('moves the capture listeners to the ports the proxy asks for', () => {
    const xds = translateForProxy({ ...PRODUCTPAGE_SIDECAR, capturePorts: { outbound: 25001, inbound: 25006 } }, bookinfoSlice());
    assert.deepEqual(xds.listeners.map((l) => (l as { name: string }).name), ['inbound_0.0.0.0_25006', 'outbound_0.0.0.0_25001', 'outbound_0.0.0.0_3306']);
  });

  it('produces resources that encode with Envoy\'s own protos, field for field', () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, bookinfoSlice());
    assertEncodes(xds);
  });

  it('produces a config the Weft proxy loads once RDS and EDS are resolved', () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, bookinfoSlice());
    const bootstrap = parseBootstrap(toStaticBootstrap(xds));
    assert.deepEqual(bootstrap.listeners.map((l) => l.name), ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001', 'outbound_0.0.0.0_3306']);
    const productpage = bootstrap.clusters.find((c) => c.name === 'outbound|9080||productpage.default.svc');
    assert.equal(productpage?.circuitBreakers.maxConnections, 100);
    assert.equal(productpage?.idleTimeoutMs, 60_000);
    assert.deepEqual(productpage?.endpoints.map((e) => `${e.address}:${e.port}`), ['10.0.0.1:9080']);
    const inbound = bootstrap.listeners.find((l) => l.name === 'inbound_0.0.0.0_15006');
    assert.deepEqual(inbound?.filterChains[0]!.filter.kind === 'http' && inbound.filterChains[0]!.filter.httpFilters.map((f) => f.name), [
      'envoy.filters.http.local_ratelimit', 'envoy.filters.http.fault', 'envoy.filters.http.router',
    ]);
  });
});

export function assertEncodes(xds: XdsResources): void {
  const kinds = [
    [LISTENER_TYPE_URL, xds.listeners],
    [ROUTE_CONFIGURATION_TYPE_URL, xds.routes],
    [CLUSTER_TYPE_URL, xds.clusters],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, xds.endpoints],
  ] as const;
  for (const [typeUrl, resources] of kinds) {
    for (const resource of resources) {
      assert.doesNotThrow(() => encodeResource(typeUrl, resource as Record<string, unknown>), `${typeUrl} ${JSON.stringify(resource).slice(0, 120)}`);
    }
  }
}
