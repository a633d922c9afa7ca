import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { RedirectAction } from '../../../src/proxy/config/types.js';
import { redirectLocation } from '../../../src/proxy/router/redirect.js';
import { compileRouteTable } from '../../../src/proxy/router/route-table.js';
import { redirect, request, route, routeConfig, routeMatch, virtualHost } from './fixtures.js';

describe('redirect Location', () => {
  const cases: Array<[string, Partial<RedirectAction>, { scheme?: 'http' | 'https'; authority: string; path: string }, string]> = [
    ['https_redirect keeps path and query', { schemeRedirect: 'https' }, { authority: 'example.com', path: '/a?b=1' }, 'https://example.com/a?b=1'],
    ['https_redirect drops http default port', { schemeRedirect: 'https' }, { authority: 'example.com:80', path: '/a' }, 'https://example.com/a'],
    ['https_redirect keeps a non-default port', { schemeRedirect: 'https' }, { authority: 'example.com:8080', path: '/a' }, 'https://example.com:8080/a'],
    ['https_redirect keeps :443 on an http request', { schemeRedirect: 'https' }, { authority: 'example.com:443', path: '/' }, 'https://example.com:443/'],
    ['http redirect drops https default port', { schemeRedirect: 'http' }, { scheme: 'https', authority: 'example.com:443', path: '/' }, 'http://example.com/'],
    ['no scheme change keeps :80', {}, { authority: 'example.com:80', path: '/' }, 'http://example.com:80/'],
    ['same scheme named explicitly keeps :80', { schemeRedirect: 'http' }, { authority: 'example.com:80', path: '/' }, 'http://example.com:80/'],
    ['https_redirect with port_redirect', { schemeRedirect: 'https', portRedirect: 8443 }, { authority: 'example.com:80', path: '/x' }, 'https://example.com:8443/x'],
    ['port_redirect replaces the port', { portRedirect: 9090 }, { authority: 'example.com:8080', path: '/' }, 'http://example.com:9090/'],
    ['port_redirect adds a port', { portRedirect: 9090 }, { authority: 'example.com', path: '/' }, 'http://example.com:9090/'],
    ['host_redirect replaces host and port', { hostRedirect: 'new.example' }, { authority: 'old.example:8080', path: '/p' }, 'http://new.example/p'],
    ['host_redirect with port_redirect', { hostRedirect: 'new.example', portRedirect: 9000 }, { authority: 'old.example', path: '/p' }, 'http://new.example:9000/p'],
    ['IPv6 authority, default port dropped', { schemeRedirect: 'https' }, { authority: '[::1]:80', path: '/' }, 'https://[::1]/'],
    ['IPv6 authority without port', { schemeRedirect: 'https' }, { authority: '[::1]', path: '/' }, 'https://[::1]/'],
    ['IPv6 authority with port_redirect', { portRedirect: 8080 }, { authority: '[::1]:80', path: '/' }, 'http://[::1]:8080/'],
    ['keeps the request scheme', { hostRedirect: 'b' }, { scheme: 'https', authority: 'a', path: '/' }, 'https://b/'],
    ['path_redirect keeps the query', { pathRedirect: '/new' }, { authority: 'h', path: '/old?x=1' }, 'http://h/new?x=1'],
    ['path_redirect with strip_query', { pathRedirect: '/new', stripQuery: true }, { authority: 'h', path: '/old?x=1' }, 'http://h/new'],
    ['path_redirect query wins over the request query', { pathRedirect: '/new?y=2' }, { authority: 'h', path: '/old?x=1' }, 'http://h/new?y=2'],
    ['path_redirect query survives strip_query', { pathRedirect: '/new?y=2', stripQuery: true }, { authority: 'h', path: '/old?x=1' }, 'http://h/new?y=2'],
    ['path_redirect gains a leading slash', { pathRedirect: 'new' }, { authority: 'h', path: '/old' }, 'http://h/new'],
    ['strip_query alone', { stripQuery: true }, { authority: 'h', path: '/a?b=1&c' }, 'http://h/a'],
    ['empty strings and port 0 mean unset', { schemeRedirect: '', hostRedirect: '', pathRedirect: '', portRedirect: 0 }, { authority: 'h:1', path: '/p' }, 'http://h:1/p'],
  ];
  for (const [name, action, req, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      assert.equal(redirectLocation(redirect(action), request({ scheme: req.scheme ?? 'http', authority: req.authority, path: req.path })), expected);
    });
  }

  it('applies a prefix_rewrite through the compiled route, with and without strip_query', () => {
    for (const [stripQuery, expected] of [[false, 'https://shop.example/v2/items?page=2'], [true, 'https://shop.example/v2/items']] as const) {
      const action = redirect({ schemeRedirect: 'https', prefixRewrite: '/v2/', stripQuery, responseCode: 308 });
      const table = compileRouteTable(routeConfig([virtualHost('h', ['*'], [route({ match: routeMatch({ kind: 'prefix', value: '/v1/' }), action })])]));
      const req = request({ authority: 'shop.example:80', path: '/v1/items?page=2' });
      const matched = table.match(req)!;
      assert.equal(matched.action.kind, 'redirect');
      assert.equal(redirectLocation(action, req, matched.rewritePath(req.path)), expected);
    }
  });
});
