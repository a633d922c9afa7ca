import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/lib/errors.js';
import type { HeaderMutations, HeaderValueOption, WeightedCluster } from '../../../src/proxy/config/types.js';
import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import { compileRouteTable, type CompiledRoute } from '../../../src/proxy/router/route-table.js';
import { forward, headerList, noMutations, request, route, routeConfig, virtualHost } from './fixtures.js';

type Level = 'weighted' | 'route' | 'virtualHost' | 'routeConfiguration';
const LEVELS: readonly Level[] = ['weighted', 'route', 'virtualHost', 'routeConfiguration'];

/** One route with a weighted cluster; `mutations[level]` is that level's config. */
function compileWithLevels(mutations: Partial<Record<Level, Partial<HeaderMutations>>>): { route: CompiledRoute; weighted: WeightedCluster } {
  const level = (l: Level): HeaderMutations => ({ ...noMutations(), ...mutations[l] });
  const weighted: WeightedCluster = { name: 'w', weight: 1, ...level('weighted') };
  const table = compileRouteTable(
    routeConfig(
      [virtualHost('h', ['*'], [route({ action: forward({ weightedClusters: [weighted] }), ...level('route') })], level('virtualHost'))],
      level('routeConfiguration'),
    ),
  );
  return { route: table.match(request())!, weighted };
}

function add(key: string, value: string, appendAction: HeaderValueOption['appendAction'] = 'APPEND_IF_EXISTS_OR_ADD'): HeaderValueOption {
  return { key, value, appendAction };
}

describe('append actions, at every level and in both directions', () => {
  const cases: Array<[HeaderValueOption['appendAction'], existing: string[], expected: string[]]> = [
    ['APPEND_IF_EXISTS_OR_ADD', [], ['new']],
    ['APPEND_IF_EXISTS_OR_ADD', ['old'], ['old', 'new']],
    ['ADD_IF_ABSENT', [], ['new']],
    ['ADD_IF_ABSENT', ['old'], ['old']],
    ['OVERWRITE_IF_EXISTS_OR_ADD', [], ['new']],
    ['OVERWRITE_IF_EXISTS_OR_ADD', ['old', 'older'], ['new']],
    ['OVERWRITE_IF_EXISTS', [], []],
    ['OVERWRITE_IF_EXISTS', ['old', 'older'], ['new']],
  ];
  for (const level of LEVELS) {
    for (const direction of ['request', 'response'] as const) {
      for (const [action, existing, expected] of cases) {
        it(`${level} ${direction}: ${action} with ${existing.length} existing -> [${expected.join(', ')}]`, () => {
          const field = direction === 'request' ? 'requestHeadersToAdd' : 'responseHeadersToAdd';
          const { route: compiled, weighted } = compileWithLevels({ [level]: { [field]: [add('X-H', 'new', action)] } });
          const headers = HeaderMap.fromRaw(existing.flatMap((v) => ['x-h', v]));
          if (direction === 'request') compiled.mutateRequestHeaders(headers, weighted);
          else compiled.mutateResponseHeaders(headers, weighted);
          assert.deepEqual(headerList(headers).map(([, v]) => v), expected);
        });
      }
    }
  }

  it('the weighted level applies only when its entry is passed', () => {
    const { route: compiled } = compileWithLevels({ weighted: { requestHeadersToAdd: [add('x-w', '1')] } });
    const headers = new HeaderMap();
    compiled.mutateRequestHeaders(headers);
    assert.equal(headers.size, 0);
  });
});

describe('mutation order', () => {
  it('levels apply weighted cluster, route, virtual host, route configuration', () => {
    const mutations = Object.fromEntries(
      LEVELS.map((level) => [level, { requestHeadersToAdd: [add('x-trail', level), add('x-last', level, 'OVERWRITE_IF_EXISTS_OR_ADD'), add('x-first', level, 'ADD_IF_ABSENT')] }]),
    );
    const { route: compiled, weighted } = compileWithLevels(mutations);
    const headers = new HeaderMap();
    compiled.mutateRequestHeaders(headers, weighted);
    assert.deepEqual(headers.getJoined('x-trail'), 'weighted, route, virtualHost, routeConfiguration');
    assert.equal(headers.get('x-last'), 'routeConfiguration');
    assert.equal(headers.get('x-first'), 'weighted');
  });

  it('removes run before adds within a level, and a later level can remove an earlier add', () => {
    const { route: compiled, weighted } = compileWithLevels({
      route: { requestHeadersToRemove: ['x-replaced'], requestHeadersToAdd: [add('x-replaced', 'by-route'), add('x-dropped', 'by-route')] },
      virtualHost: { requestHeadersToRemove: ['x-dropped'] },
    });
    const headers = HeaderMap.fromRaw(['x-replaced', 'from-client', 'x-dropped', 'from-client', 'x-kept', 'yes']);
    compiled.mutateRequestHeaders(headers, weighted);
    assert.deepEqual(headerList(headers), [['x-kept', 'yes'], ['x-replaced', 'by-route']]);
  });

  it('request and response lists are independent', () => {
    const { route: compiled } = compileWithLevels({
      route: { requestHeadersToAdd: [add('x-req', '1')], responseHeadersToAdd: [add('x-res', '1')], responseHeadersToRemove: ['server'] },
    });
    const req = new HeaderMap();
    compiled.mutateRequestHeaders(req);
    const res = HeaderMap.fromRaw(['Server', 'upstream']);
    compiled.mutateResponseHeaders(res);
    assert.deepEqual(headerList(req), [['x-req', '1']]);
    assert.deepEqual(headerList(res), [['x-res', '1']]);
  });

  it('options with an empty value are dropped, as with keep_empty_value false', () => {
    const { route: compiled } = compileWithLevels({ route: { requestHeadersToAdd: [add('x-empty', '', 'OVERWRITE_IF_EXISTS_OR_ADD')] } });
    const headers = HeaderMap.fromRaw(['x-empty', 'client']);
    compiled.mutateRequestHeaders(headers);
    assert.deepEqual(headerList(headers), [['x-empty', 'client']]);
  });
});

describe('reserved headers', () => {
  const cases: Array<[Level, Partial<HeaderMutations>, string]> = [
    ['route', { requestHeadersToAdd: [add(':path', '/x')] }, 'route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].header.key'],
    ['virtualHost', { requestHeadersToAdd: [add('x-ok', '1'), add('Host', 'evil')] }, 'route_config.virtual_hosts[0].request_headers_to_add[1].header.key'],
    ['routeConfiguration', { requestHeadersToRemove: ['host'] }, 'route_config.request_headers_to_remove[0]'],
    ['route', { responseHeadersToRemove: [':status'] }, 'route_config.virtual_hosts[0].routes[0].response_headers_to_remove[0]'],
    ['weighted', { requestHeadersToRemove: [':authority'] }, 'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0].request_headers_to_remove[0]'],
  ];
  for (const [level, mutations, path] of cases) {
    it(`rejected at ${path}`, () => {
      assert.throws(
        () => compileWithLevels({ [level]: mutations }),
        (err: unknown) => err instanceof ConfigError && err.path === path,
      );
    });
  }
});
