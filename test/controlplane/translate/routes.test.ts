import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateForProxy } from '../../../src/controlplane/translate/translate.js';
import { httpRouteGroup, httpService, named, service, SIDECAR, trafficPolicy, trafficSplit } from './fixtures.js';

const REVIEWS = 'outbound|9080||reviews.default.svc';

/** reviews with v2 and v3 backend services selecting its workloads by version. */
function reviewsWithVersions() {
  return [
    ...httpService('reviews', ['10.0.0.2', '10.0.0.3']),
    service('reviews-v2', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v2' } }),
    service('reviews-v3', { ports: [{ name: 'http', port: 9080 }], selector: { version: 'v3' } }),
  ];
}

function reviewsRoutes(resources: Parameters<typeof translateForProxy>[1]): unknown {
  const outbound = named(translateForProxy(SIDECAR, resources).routes, 'outbound');
  const hosts = outbound['virtual_hosts'] as Array<{ name: string; routes: unknown }>;
  return named(hosts, 'reviews.default.svc.cluster.local:9080')['routes'];
}

describe('translate: routes', () => {
  it('routes a service without split or policy to its cluster', () => {
    assert.deepEqual(reviewsRoutes(reviewsWithVersions()), [{ name: 'default', match: { prefix: '/' }, route: { cluster: REVIEWS } }]);
  });

  it('turns a 90/10 TrafficSplit into weighted_clusters on the root service', () => {
    const split = trafficSplit('reviews-split', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 90 }, { service: 'reviews-v3', weight: 10 }] });
    assert.deepEqual(reviewsRoutes([...reviewsWithVersions(), split]), [{
      name: 'default',
      match: { prefix: '/' },
      route: {
        weighted_clusters: {
          clusters: [{ name: 'outbound|9080||reviews-v2.default.svc', weight: 90 }, { name: 'outbound|9080||reviews-v3.default.svc', weight: 10 }],
        },
      },
    }]);
  });

  it('accepts the root service by its FQDN and leaves out zero-weight and missing backends', () => {
    const split = trafficSplit('reviews-split', {
      service: 'reviews.default.svc.cluster.local',
      backends: [{ service: 'reviews-v2', weight: 1 }, { service: 'reviews-v3', weight: 0 }, { service: 'reviews-v9', weight: 5 }],
    });
    assert.deepEqual(reviewsRoutes([...reviewsWithVersions(), split]), [{
      name: 'default',
      match: { prefix: '/' },
      route: { weighted_clusters: { clusters: [{ name: 'outbound|9080||reviews-v2.default.svc', weight: 1 }] } },
    }]);
  });

  it('splits only the requests an HTTPRouteGroup matches, the rest go to the root', () => {
    const resources = [
      ...reviewsWithVersions(),
      httpRouteGroup('canary-users', {
        matches: [
          { name: 'firefox', methods: ['GET', 'HEAD'], pathRegex: '/reviews/[0-9]+', headers: { 'user-agent': '.*Firefox.*', 'x-canary': '1' } },
          { name: 'anything', methods: ['*'] },
        ],
      }),
      trafficSplit('reviews-split', {
        service: 'reviews',
        backends: [{ service: 'reviews-v3', weight: 1 }],
        matches: [{ kind: 'HTTPRouteGroup', name: 'canary-users' }],
      }),
    ];
    const toV3 = { weighted_clusters: { clusters: [{ name: 'outbound|9080||reviews-v3.default.svc', weight: 1 }] } };
    assert.deepEqual(reviewsRoutes(resources), [
      {
        name: 'canary-users.firefox',
        match: {
          safe_regex: { regex: '(?:/reviews/[0-9]+).*' },
          headers: [
            { name: ':method', safe_regex_match: { regex: 'GET|HEAD' } },
            { name: 'user-agent', safe_regex_match: { regex: '.*Firefox.*' } },
            { name: 'x-canary', safe_regex_match: { regex: '1' } },
          ],
        },
        route: toV3,
      },
      { name: 'canary-users.anything', match: { prefix: '/' }, route: toV3 },
      { name: 'default', match: { prefix: '/' }, route: { cluster: REVIEWS } },
    ]);
  });

  // One row per TrafficPolicy field that lands on the route.
  const policyCases: Array<{ field: string; spec: Record<string, unknown>; route: Record<string, unknown> }> = [
    { field: 'timeouts.request', spec: { timeouts: { request: '1m30s' } }, route: { timeout: '90s' } },
    {
      field: 'retries',
      spec: { retries: { attempts: 3, perTryTimeout: '100ms', retryOn: ['gateway-error', 'reset'] } },
      route: { retry_policy: { retry_on: 'gateway-error,reset', num_retries: 3, per_try_timeout: '0.100s' } },
    },
    { field: 'retries (defaults)', spec: { retries: { attempts: 1 } }, route: { retry_policy: { retry_on: '5xx,connect-failure,reset', num_retries: 1 } } },
    { field: 'retries.attempts 0', spec: { retries: { attempts: 0 } }, route: {} },
    {
      field: 'mirror',
      spec: { mirror: { service: 'reviews-v3', percent: 12.5 } },
      route: { request_mirror_policies: [{ cluster: 'outbound|9080||reviews-v3.default.svc', runtime_fraction: { default_value: { numerator: 125_000, denominator: 'MILLION' } } }] },
    },
    {
      field: 'mirror (all requests)',
      spec: { mirror: { service: 'reviews-v2' } },
      route: { request_mirror_policies: [{ cluster: 'outbound|9080||reviews-v2.default.svc', runtime_fraction: { default_value: { numerator: 100, denominator: 'HUNDRED' } } }] },
    },
    { field: 'loadBalancer.hashOn.header', spec: { loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x-user' } } }, route: { hash_policy: [{ header: { header_name: 'x-user' } }] } },
    { field: 'loadBalancer.hashOn.cookie', spec: { loadBalancer: { policy: 'RING_HASH', hashOn: { cookie: 'session' } } }, route: { hash_policy: [{ cookie: { name: 'session' } }] } },
    {
      field: 'loadBalancer.hashOn.sourceIp',
      spec: { loadBalancer: { policy: 'RING_HASH', hashOn: { sourceIp: true } } },
      route: { hash_policy: [{ connection_properties: { source_ip: true } }] },
    },
  ];
  for (const { field, spec, route } of policyCases) {
    it(`maps TrafficPolicy ${field} onto the route`, () => {
      const policy = trafficPolicy('reviews', { targetRef: { kind: 'Service', name: 'reviews' }, ...spec });
      assert.deepEqual(reviewsRoutes([...reviewsWithVersions(), policy]), [{ name: 'default', match: { prefix: '/' }, route: { cluster: REVIEWS, ...route } }]);
    });
  }

  it('applies the root service policy to split routes too', () => {
    const resources = [
      ...reviewsWithVersions(),
      trafficPolicy('reviews', { targetRef: { kind: 'Service', name: 'reviews' }, timeouts: { request: '2s' } }),
      trafficSplit('reviews-split', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 1 }] }),
    ];
    assert.deepEqual(reviewsRoutes(resources), [{
      name: 'default',
      match: { prefix: '/' },
      route: { weighted_clusters: { clusters: [{ name: 'outbound|9080||reviews-v2.default.svc', weight: 1 }] }, timeout: '2s' },
    }]);
  });
});
