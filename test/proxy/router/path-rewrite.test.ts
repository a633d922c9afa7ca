import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/lib/errors.js';
import type { RouteMatch } from '../../../src/proxy/config/types.js';
import { compileRouteTable, type CompiledRoute } from '../../../src/proxy/router/route-table.js';
import { forward, redirect, request, route, routeConfig, routeMatch, virtualHost } from './fixtures.js';

function compiledRoute(r: ReturnType<typeof route>, path: string): CompiledRoute {
  return compileRouteTable(routeConfig([virtualHost('h', ['*'], [r])])).match(request({ path }))!;
}

describe('prefix_rewrite', () => {
  const cases: Array<[RouteMatch['path'], caseSensitive: boolean, rewrite: string, path: string, expected: string]> = [
    [{ kind: 'prefix', value: '/api' }, true, '/v2', '/api/users?x=1', '/v2/users?x=1'],
    [{ kind: 'prefix', value: '/api/' }, true, '/', '/api/users', '/users'],
    [{ kind: 'prefix', value: '/api' }, true, '', '/api/users', '/users'],
    [{ kind: 'prefix', value: '/API' }, false, '/x', '/api/y?Q=1', '/x/y?Q=1'],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/svc', '/api/v1?q', '/svc/v1?q'],
    [{ kind: 'path', value: '/old' }, true, '/new', '/old?q=1', '/new?q=1'],
    [{ kind: 'path', value: '/old' }, false, '/new', '/OLD', '/new'],
    [{ kind: 'regex', regex: '/v[0-9]+/.*' }, true, '/x', '/v1/a?b=/v1/', '/x?b=/v1/'],
  ];
  for (const [spec, caseSensitive, rewrite, path, expected] of cases) {
    it(`${spec.kind} ${'value' in spec ? spec.value : spec.regex} -> ${JSON.stringify(rewrite)}: ${path} -> ${expected}`, () => {
      const compiled = compiledRoute(route({ match: routeMatch(spec, { caseSensitive }), action: forward({ prefixRewrite: rewrite }) }), path);
      assert.equal(compiled.rewritePath(path), expected);
    });
  }

  it('without a rewrite the path is returned as is', () => {
    const compiled = compiledRoute(route(), '/a?b');
    assert.equal(compiled.rewritePath('/a?b'), '/a?b');
  });

  it('a redirect route rewrites with its own prefix_rewrite', () => {
    const compiled = compiledRoute(
      route({ match: routeMatch({ kind: 'prefix', value: '/old' }), action: redirect({ prefixRewrite: '/new' }) }),
      '/old/a?b=1',
    );
    assert.equal(compiled.rewritePath('/old/a?b=1'), '/new/a?b=1');
  });
});

describe('regex_rewrite', () => {
  const cases: Array<[regex: string, substitution: string, path: string, expected: string]> = [
    // The two examples from Envoy's RouteAction.regex_rewrite docs.
    ['^/service/([^/]+)(/.*)$', '\\2/instance/\\1', '/service/foo/v1/api?x=1', '/v1/api/instance/foo?x=1'],
    ['one', 'two', '/xxx/one/yyy/one/zzz', '/xxx/two/yyy/two/zzz'],
    ['x', 'y', '/x/x?x=x#x', '/y/y?x=x#x'],
    ['/(a)', '\\0\\0', '/a', '/a/a'],
    ['a', '$1$&', '/a', '/$1$&'],
    ['a', '\\\\', '/a', '/\\'],
    ['(z)?a', '[\\1]', '/a', '/[]'],
    ['^/(?P<id>[0-9]+)$', '/item/\\1', '/42', '/item/42'],
  ];
  for (const [regex, substitution, path, expected] of cases) {
    it(`${regex} => ${substitution}: ${path} -> ${expected}`, () => {
      const compiled = compiledRoute(route({ action: forward({ regexRewrite: { regex, substitution } }) }), path);
      assert.equal(compiled.rewritePath(path), expected);
      assert.equal(compiled.rewritePath(path), expected, 'global regex state does not leak between calls');
    });
  }

  const invalid: Array<[regex: string, substitution: string, path: string]> = [
    ['(a)', '\\2', 'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution'],
    ['a', '\\q', 'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution'],
    ['a', 'trailing\\', 'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution'],
    ['(', 'x', 'route_config.virtual_hosts[0].routes[0].route.regex_rewrite.pattern.regex'],
  ];
  for (const [regex, substitution, path] of invalid) {
    it(`rejects ${regex} => ${substitution}`, () => {
      assert.throws(
        () => compiledRoute(route({ action: forward({ regexRewrite: { regex, substitution } }) }), '/'),
        (err: unknown) => err instanceof ConfigError && err.path === path,
      );
    });
  }
});
