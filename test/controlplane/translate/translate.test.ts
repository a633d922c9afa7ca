import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateForProxy } from '../../../src/controlplane/translate/translate.js';
import { parseBootstrap } from '../../../src/proxy/config/bootstrap.js';
import {
  gateway, httpRouteGroup, httpService, named, PROXYLESS, service, SIDECAR, trafficPolicy, trafficSplit, workload,
} from './fixtures.js';
import { assertEncodes } from './sidecar.test.js';
import { toStaticBootstrap } from './static-bootstrap.js';

function mesh() {
  return [
    ...httpService('productpage', ['10.0.0.1']),
    ...httpService('reviews', ['10.0.0.2', '10.0.0.3', '10.0.0.4']),
    service('reviews-v2', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v2' } }),
    service('reviews-v3', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v3' } }),
    workload('reviews-x', { address: '10.0.1.1', service: 'reviews', zone: 'b', labels: { version: 'v3' } }),
    httpRouteGroup('api', { matches: [{ name: 'get', methods: ['GET'], pathRegex: '/api' }] }),
    trafficSplit('reviews', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 50 }, { service: 'reviews-v3', weight: 50 }], matches: [{ kind: 'HTTPRouteGroup', name: 'api' }] }),
    trafficPolicy('reviews', { targetRef: { kind: 'Service', name: 'reviews' }, timeouts: { request: '2s' }, retries: { attempts: 1 } }),
    service('db', { ports: [{ name: 'db', port: 5432, protocol: 'tcp' }] }, 'data'),
    gateway('ingress', {
      listeners: [{ name: 'web', port: 8080, hostnames: ['shop.example.com'] }, { name: 'pg', port: 15432, protocol: 'TCP' }],
      routes: [
        { match: { pathPrefix: '/reviews' }, backend: { service: 'reviews', port: 9080 } },
        { backend: { service: 'productpage', port: 9080 } },
        { listener: 'pg', backend: { service: 'productpage', port: 9080 } },
      ],
    }),
  ];
}

/** A fixed permutation that reverses and interleaves: deterministic, unlike a random shuffle. */
function shuffled<T>(items: readonly T[]): T[] {
  const reversed = [...items].reverse();
  return [...reversed.filter((_, i) => i % 2 === 1), ...reversed.filter((_, i) => i % 2 === 0)];
}

describe('translate: determinism and gateways', () => {
  for (const proxy of [{ ...SIDECAR, workload: 'reviews-1' }, PROXYLESS, { nodeId: 'gw', namespace: 'default', kind: 'gateway' as const, workload: 'ingress' }]) {
    it(`gives a ${proxy.kind} byte-identical output for the same resources in another order`, () => {
      const resources = mesh();
      const reordered = shuffled(resources);
      assert.notDeepEqual(reordered.map((r) => r.metadata.name), resources.map((r) => r.metadata.name));
      assert.equal(JSON.stringify(translateForProxy(proxy, reordered)), JSON.stringify(translateForProxy(proxy, resources)));
    });
  }

  it('sorts every resource list by name', () => {
    const xds = translateForProxy({ ...SIDECAR, workload: 'reviews-1' }, mesh());
    for (const [list, field] of [[xds.listeners, 'name'], [xds.routes, 'name'], [xds.clusters, 'name'], [xds.endpoints, 'cluster_name']] as const) {
      const names = list.map((item) => (item as Record<string, string>)[field]!);
      assert.deepEqual(names, [...names].sort());
    }
  });

  it('gives a gateway a listener per port, routes in spec order, and a TCP proxy for the route naming a TCP listener', () => {
    const xds = translateForProxy({ nodeId: 'gw', namespace: 'default', kind: 'gateway', workload: 'ingress' }, mesh());
    assert.deepEqual(xds.listeners.map((l) => (l as { name: string }).name), ['gateway_0.0.0.0_15432', 'gateway_0.0.0.0_8080']);
    assert.deepEqual(named(xds.routes, 'gateway_0.0.0.0_8080'), {
      name: 'gateway_0.0.0.0_8080',
      virtual_hosts: [{
        name: 'gateway_0.0.0.0_8080',
        domains: ['shop.example.com', 'shop.example.com:8080'],
        routes: [
          // reviews' split has matches, so the gateway route goes to the root; the policy applies.
          { match: { prefix: '/reviews' }, route: { cluster: 'outbound|9080||reviews.default.svc', timeout: '2s', retry_policy: { retry_on: '5xx,connect-failure,reset', num_retries: 1 } } },
          { match: { prefix: '/' }, route: { cluster: 'outbound|9080||productpage.default.svc' } },
        ],
      }],
    });
    const tcp = (named(xds.listeners, 'gateway_0.0.0.0_15432')['filter_chains'] as Array<{ filters: Array<{ typed_config: unknown }> }>)[0]!.filters[0]!.typed_config;
    assert.deepEqual(tcp, {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
      stat_prefix: 'gateway_0.0.0.0_15432',
      cluster: 'outbound|9080||productpage.default.svc',
    });
    assertEncodes(xds);
    assert.deepEqual(parseBootstrap(toStaticBootstrap(xds)).listeners.map((l) => l.name), ['gateway_0.0.0.0_15432', 'gateway_0.0.0.0_8080']);
  });

  it('skips references to missing services instead of failing', () => {
    const xds = translateForProxy({ ...SIDECAR, workload: 'ghost-1' }, [
      workload('ghost-1', { address: '10.0.0.9', service: 'ghost' }),
      trafficPolicy('ghost', { targetRef: { kind: 'Service', name: 'ghost' }, mirror: { service: 'nowhere' } }),
      trafficSplit('ghost', { service: 'ghost', backends: [{ service: 'nowhere', weight: 1 }] }),
      gateway('ghost', { listeners: [{ name: 'web', port: 8080 }], routes: [{ backend: { service: 'nowhere', port: 80 } }] }),
    ]);
    assert.deepEqual(xds.clusters, []);
    assert.deepEqual(xds.endpoints, []);
    assert.deepEqual(named(xds.routes, 'outbound')['virtual_hosts'], []);
  });
});
