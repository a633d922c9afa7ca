import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/lib/errors.js';
import type { WeightedCluster } from '../../../src/proxy/config/types.js';
import { compileRouteTable } from '../../../src/proxy/router/route-table.js';
import { forward, noMutations, redirect, request, retryPolicy, route, routeConfig, routeMatch, seededRandom, virtualHost } from './fixtures.js';

function weighted(name: string, weight: number): WeightedCluster {
  return { name, weight, ...noMutations() };
}

function configErrorAt(path: string) {
  return (err: unknown) => err instanceof ConfigError && err.path === path;
}

describe('route table matching', () => {
  const table = compileRouteTable(
    routeConfig([
      virtualHost('shop', ['shop.example'], [
        route({ name: 'exact-cart', match: routeMatch({ kind: 'path', value: '/cart' }), action: forward({ cluster: 'cart' }) }),
        route({ name: 'api', match: routeMatch({ kind: 'prefix', value: '/api' }), action: forward({ cluster: 'api' }) }),
        route({ name: 'api-v2-shadowed', match: routeMatch({ kind: 'prefix', value: '/api/v2' }), action: forward({ cluster: 'never' }) }),
        route({ match: routeMatch({ kind: 'prefix', value: '/' }), action: forward({ cluster: 'web' }) }),
      ]),
      virtualHost('admin', ['admin.example'], [route({ match: routeMatch({ kind: 'prefix', value: '/admin' }) })]),
    ]),
  );

  const cases: Array<[authority: string, path: string, expected: string | undefined]> = [
    ['shop.example', '/cart', 'exact-cart'],
    ['shop.example', '/cart/items', ''],
    ['shop.example', '/api/v2/x', 'api'],
    ['SHOP.example', '/anything', ''],
    ['admin.example', '/admin/x', ''],
    ['admin.example', '/other', undefined],
    ['unknown.example', '/', undefined],
  ];
  for (const [authority, path, expected] of cases) {
    it(`${authority}${path} -> ${expected === undefined ? 'no route' : JSON.stringify(expected)}`, () => {
      assert.equal(table.match(request({ authority, path }))?.name, expected);
    });
  }

  it('first matching route wins and carries its virtual host and config', () => {
    const matched = table.match(request({ authority: 'shop.example', path: '/api/v2/x' }))!;
    assert.equal(matched.virtualHost.name, 'shop');
    assert.equal(matched.pickCluster(request(), 0)?.cluster, 'api');
    assert.equal(matched.route, table.config.virtualHosts[0]!.routes[1]);
    assert.equal(matched.action, matched.route.action);
  });

  it('returns the same compiled route object for every request', () => {
    const a = table.match(request({ authority: 'shop.example', path: '/cart' }));
    const b = table.match(request({ authority: 'shop.example', path: '/cart?x=1' }));
    assert.equal(a, b);
  });
});

describe('retry policy selection', () => {
  const vhostPolicy = retryPolicy({ retryOn: ['5xx'] });
  const routePolicy = retryPolicy({ retryOn: ['reset'] });
  const table = compileRouteTable(
    routeConfig([
      virtualHost('h', ['*'], [
        route({ match: routeMatch({ kind: 'path', value: '/own' }), action: forward({ retryPolicy: routePolicy }) }),
        route({ match: routeMatch({ kind: 'path', value: '/redirect' }), action: redirect({ hostRedirect: 'x' }) }),
        route(),
      ], { retryPolicy: vhostPolicy }),
    ]),
  );

  it("uses the route's policy when set", () => {
    assert.equal(table.match(request({ path: '/own' }))!.retryPolicy, routePolicy);
  });
  it("falls back to the virtual host's policy", () => {
    assert.equal(table.match(request({ path: '/other' }))!.retryPolicy, vhostPolicy);
  });
  it('has none for a redirect route', () => {
    const matched = table.match(request({ path: '/redirect' }))!;
    assert.equal(matched.retryPolicy, undefined);
    assert.equal(matched.pickCluster(request(), 0.5), undefined);
    assert.equal(matched.computeHash(request()), undefined);
  });
});

describe('cluster selection', () => {
  function onlyRoute(action: ReturnType<typeof forward>) {
    return compileRouteTable(routeConfig([virtualHost('h', ['*'], [route({ action })])])).match(request())!;
  }

  it('a fixed cluster returns the same pick object every time', () => {
    const matched = onlyRoute(forward({ cluster: 'backend' }));
    const first = matched.pickCluster(request(), 0.1);
    assert.deepEqual(first, { cluster: 'backend' });
    assert.equal(matched.pickCluster(request(), 0.9), first);
  });

  it('cluster_header reads the named header', () => {
    const matched = onlyRoute(forward({ clusterHeader: 'x-cluster' }));
    assert.deepEqual(matched.pickCluster(request({ headers: [['X-Cluster', 'blue']] }), 0), { cluster: 'blue' });
    assert.equal(matched.pickCluster(request(), 0), undefined);
    assert.equal(matched.pickCluster(request({ headers: [['x-cluster', '']] }), 0), undefined);
  });

  it('cluster_header may name a pseudo-header', () => {
    const matched = onlyRoute(forward({ clusterHeader: ':authority' }));
    assert.deepEqual(matched.pickCluster(request({ authority: 'svc-a' }), 0), { cluster: 'svc-a' });
  });

  it('weighted clusters: 10,000 seeded picks land within 2 points of each weight', () => {
    const clusters = [weighted('a', 10), weighted('b', 30), weighted('zero', 0), weighted('c', 60)];
    const matched = onlyRoute(forward({ weightedClusters: clusters }));
    const random = seededRandom(42);
    const counts = new Map<string, number>();
    const picks = 10_000;
    for (let i = 0; i < picks; i++) {
      const pick = matched.pickCluster(request(), random())!;
      counts.set(pick.cluster, (counts.get(pick.cluster) ?? 0) + 1);
      assert.equal(pick.weighted?.name, pick.cluster);
    }
    assert.equal(counts.get('zero'), undefined, 'a zero-weight cluster is never picked');
    for (const [name, share] of [['a', 0.1], ['b', 0.3], ['c', 0.6]] as const) {
      const observed = (counts.get(name) ?? 0) / picks;
      assert.ok(Math.abs(observed - share) <= 0.02, `${name}: observed ${observed}, expected ${share} ± 0.02`);
    }
  });

  it('weighted clusters: cumulative boundaries', () => {
    const clusters = [weighted('a', 1), weighted('b', 1), weighted('c', 2)];
    const matched = onlyRoute(forward({ weightedClusters: clusters }));
    const cases: Array<[number, string]> = [[0, 'a'], [0.2499, 'a'], [0.25, 'b'], [0.4999, 'b'], [0.5, 'c'], [0.99999, 'c']];
    for (const [random, expected] of cases) assert.equal(matched.pickCluster(request(), random)?.cluster, expected, `random ${random}`);
    assert.equal(matched.pickCluster(request(), 0)?.weighted, clusters[0], 'returns the config entry for its mutations');
  });

  it('rejects weighted clusters whose weights sum to 0', () => {
    assert.throws(
      () => onlyRoute(forward({ weightedClusters: [weighted('a', 0)] })),
      configErrorAt('route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters'),
    );
  });
});

describe('route configuration errors', () => {
  function compileRoute(r: ReturnType<typeof route>) {
    return () => compileRouteTable(routeConfig([virtualHost('h', ['*'], [route(), r])]));
  }

  it('a forward action needs a cluster specifier', () => {
    const action = forward();
    delete action.cluster;
    assert.throws(compileRoute(route({ action })), configErrorAt('route_config.virtual_hosts[0].routes[1].route'));
  });

  it('prefix_rewrite and regex_rewrite are exclusive', () => {
    const action = forward({ prefixRewrite: '/', regexRewrite: { regex: 'a', substitution: 'b' } });
    assert.throws(compileRoute(route({ action })), configErrorAt('route_config.virtual_hosts[0].routes[1].route'));
  });

  it('path_redirect and prefix_rewrite are exclusive', () => {
    const action = redirect({ pathRedirect: '/a', prefixRewrite: '/b' });
    assert.throws(compileRoute(route({ action })), configErrorAt('route_config.virtual_hosts[0].routes[1].redirect'));
  });

  it('uses the caller-supplied config path', () => {
    const config = routeConfig([virtualHost('h', ['*'], [route({ match: routeMatch({ kind: 'regex', regex: '(' }) })])]);
    assert.throws(
      () => compileRouteTable(config, 'listeners[0].route_config'),
      configErrorAt('listeners[0].route_config.virtual_hosts[0].routes[0].match.safe_regex.regex'),
    );
  });
});
