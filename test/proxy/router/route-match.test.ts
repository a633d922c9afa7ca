import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/lib/errors.js';
import type { HeaderMatcher, QueryParameterMatcher, RouteMatch } from '../../../src/proxy/config/types.js';
import { pathEnd } from '../../../src/proxy/router/request-values.js';
import { compileRouteMatch } from '../../../src/proxy/router/route-match.js';
import type { RouteRequest } from '../../../src/proxy/router/route-table.js';
import { request, routeMatch } from './fixtures.js';

function matches(match: RouteMatch, req: RouteRequest): boolean {
  return compileRouteMatch(match, 'route_config.virtual_hosts[0].routes[0]')(req, pathEnd(req.path));
}

describe('path specifiers', () => {
  const cases: Array<[RouteMatch['path'], boolean, string, boolean]> = [
    // [specifier, caseSensitive, request path, expected]
    [{ kind: 'prefix', value: '/api' }, true, '/api', true],
    [{ kind: 'prefix', value: '/api' }, true, '/api/users?x=1', true],
    [{ kind: 'prefix', value: '/api' }, true, '/apix', true],
    [{ kind: 'prefix', value: '/api' }, true, '/ap', false],
    [{ kind: 'prefix', value: '/api' }, true, '/ap?i=1', false],
    [{ kind: 'prefix', value: '/api' }, true, '/API', false],
    [{ kind: 'prefix', value: '/api' }, false, '/API/x', true],
    [{ kind: 'prefix', value: '/a?b' }, true, '/a?b', false],
    [{ kind: 'prefix', value: '/' }, true, '/', true],
    [{ kind: 'path', value: '/exact' }, true, '/exact', true],
    [{ kind: 'path', value: '/exact' }, true, '/exact?x=1', true],
    [{ kind: 'path', value: '/exact' }, true, '/exact#frag', true],
    [{ kind: 'path', value: '/exact' }, true, '/exact/', false],
    [{ kind: 'path', value: '/exact' }, true, '/exac', false],
    [{ kind: 'path', value: '/exact' }, true, '/EXACT', false],
    [{ kind: 'path', value: '/exact' }, false, '/EXACT?Q=1', true],
    [{ kind: 'regex', regex: '/v[0-9]+/.*' }, true, '/v12/users', true],
    [{ kind: 'regex', regex: '/v[0-9]+/.*' }, true, '/v12/users?x=/v1/', true],
    [{ kind: 'regex', regex: '/v[0-9]+/.*' }, true, '/x/v1/users', false],
    [{ kind: 'regex', regex: '/v[0-9]+' }, true, '/v1/users', false],
    [{ kind: 'regex', regex: '/a|/b' }, true, '/b', true],
    [{ kind: 'regex', regex: '/a|/b' }, true, '/ab', false],
    [{ kind: 'regex', regex: '/abc' }, false, '/ABC', false],
    [{ kind: 'regex', regex: '/a\\?b' }, true, '/a?b', false],
    [{ kind: 'regex', regex: '/(?P<id>[0-9]+)' }, true, '/42', true],
    [{ kind: 'regex', regex: '(?i)/abc' }, true, '/ABC', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/api', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/api/', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/api/v1', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/api?x=1', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/api#top', true],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/apix', false],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/ap', false],
    [{ kind: 'path_separated_prefix', value: '/api' }, true, '/API/v1', false],
    [{ kind: 'path_separated_prefix', value: '/api' }, false, '/API/v1', true],
  ];
  for (const [spec, caseSensitive, path, expected] of cases) {
    it(`${spec.kind} ${JSON.stringify('value' in spec ? spec.value : spec.regex)}${caseSensitive ? '' : ' (case-insensitive)'} on ${path} -> ${expected}`, () => {
      assert.equal(matches(routeMatch(spec, { caseSensitive }), request({ path })), expected);
    });
  }

  it('rejects an invalid regex with the field path', () => {
    assert.throws(
      () => matches(routeMatch({ kind: 'regex', regex: '/(unclosed' }), request()),
      (err: unknown) => err instanceof ConfigError && err.path === 'route_config.virtual_hosts[0].routes[0].match.safe_regex.regex',
    );
  });
});

function header(name: string, extra: Partial<HeaderMatcher> = {}): HeaderMatcher {
  return { name, invert: false, treatMissingAsEmpty: false, ...extra };
}

describe('header matchers', () => {
  const cases: Array<[string, HeaderMatcher, Array<[string, string]>, boolean]> = [
    ['exact hit', header('x-a', { match: { kind: 'exact', value: 'v', ignoreCase: false } }), [['X-A', 'v']], true],
    ['exact is case-sensitive', header('x-a', { match: { kind: 'exact', value: 'v', ignoreCase: false } }), [['x-a', 'V']], false],
    ['exact ignore_case', header('x-a', { match: { kind: 'exact', value: 'Value', ignoreCase: true } }), [['x-a', 'vALUE']], true],
    ['exact on missing header', header('x-a', { match: { kind: 'exact', value: 'v', ignoreCase: false } }), [], false],
    ['prefix', header('x-a', { match: { kind: 'prefix', value: 'ab', ignoreCase: false } }), [['x-a', 'abc']], true],
    ['prefix miss', header('x-a', { match: { kind: 'prefix', value: 'ab', ignoreCase: false } }), [['x-a', 'xabc']], false],
    ['prefix ignore_case', header('x-a', { match: { kind: 'prefix', value: 'AB', ignoreCase: true } }), [['x-a', 'abc']], true],
    ['suffix', header('x-a', { match: { kind: 'suffix', value: 'bc', ignoreCase: false } }), [['x-a', 'abc']], true],
    ['suffix longer than value', header('x-a', { match: { kind: 'suffix', value: 'zabc', ignoreCase: true } }), [['x-a', 'abc']], false],
    ['suffix ignore_case', header('x-a', { match: { kind: 'suffix', value: 'BC', ignoreCase: true } }), [['x-a', 'abc']], true],
    ['contains', header('x-a', { match: { kind: 'contains', value: 'b', ignoreCase: false } }), [['x-a', 'abc']], true],
    ['contains ignore_case', header('x-a', { match: { kind: 'contains', value: 'BC', ignoreCase: true } }), [['x-a', 'aabcc']], true],
    ['contains miss', header('x-a', { match: { kind: 'contains', value: 'BC', ignoreCase: false } }), [['x-a', 'abc']], false],
    ['regex is a full match', header('x-a', { match: { kind: 'regex', regex: 'a.c' } }), [['x-a', 'abcd']], false],
    ['regex hit', header('x-a', { match: { kind: 'regex', regex: 'a.c' } }), [['x-a', 'abc']], true],
    ['no specifier = present', header('x-a'), [['x-a', '']], true],
    ['no specifier, missing', header('x-a'), [], false],
    ['present_match true, present', header('x-a', { present: true }), [['x-a', '1']], true],
    ['present_match true, missing', header('x-a', { present: true }), [], false],
    ['present_match false, present', header('x-a', { present: false }), [['x-a', '1']], false],
    ['present_match false, missing', header('x-a', { present: false }), [], true],
    ['invert exact, other value', header('x-a', { invert: true, match: { kind: 'exact', value: 'v', ignoreCase: false } }), [['x-a', 'w']], true],
    ['invert exact, same value', header('x-a', { invert: true, match: { kind: 'exact', value: 'v', ignoreCase: false } }), [['x-a', 'v']], false],
    ['invert exact, missing (Envoy: no match)', header('x-a', { invert: true, match: { kind: 'exact', value: 'v', ignoreCase: false } }), [], false],
    ['invert present true, missing', header('x-a', { invert: true, present: true }), [], true],
    ['invert present true, present', header('x-a', { invert: true, present: true }), [['x-a', '1']], false],
    ['invert present false, missing', header('x-a', { invert: true, present: false }), [], false],
    ['invert present false, present', header('x-a', { invert: true, present: false }), [['x-a', '1']], true],
    ['treat missing as empty: exact ""', header('x-a', { treatMissingAsEmpty: true, match: { kind: 'exact', value: '', ignoreCase: false } }), [], true],
    ['treat missing as empty + invert', header('x-a', { treatMissingAsEmpty: true, invert: true, match: { kind: 'exact', value: 'v', ignoreCase: false } }), [], true],
    ['range start inclusive', header('x-n', { range: { start: 10, end: 20 } }), [['x-n', '10']], true],
    ['range inside', header('x-n', { range: { start: 10, end: 20 } }), [['x-n', '19']], true],
    ['range end exclusive', header('x-n', { range: { start: 10, end: 20 } }), [['x-n', '20']], false],
    ['range below', header('x-n', { range: { start: 10, end: 20 } }), [['x-n', '9']], false],
    ['range negative', header('x-n', { range: { start: -10, end: 0 } }), [['x-n', '-5']], true],
    ['range with surrounding spaces', header('x-n', { range: { start: 10, end: 20 } }), [['x-n', ' 15 ']], true],
    ['range not an integer', header('x-n', { range: { start: 0, end: 20 } }), [['x-n', '1.5']], false],
    ['range garbage', header('x-n', { range: { start: 0, end: 20 } }), [['x-n', 'abc']], false],
    ['range missing', header('x-n', { range: { start: 0, end: 20 } }), [], false],
    ['range inverted', header('x-n', { invert: true, range: { start: 0, end: 20 } }), [['x-n', '25']], true],
    ['multi-value joined with ","', header('x-a', { match: { kind: 'exact', value: 'a,b', ignoreCase: false } }), [['x-a', 'a'], ['X-A', 'b']], true],
    ['multi-value: first value alone does not match exact', header('x-a', { match: { kind: 'exact', value: 'a', ignoreCase: false } }), [['x-a', 'a'], ['x-a', 'b']], false],
    ['multi-value contains the later value', header('x-a', { match: { kind: 'suffix', value: ',b', ignoreCase: false } }), [['x-a', 'a'], ['x-other', 'z'], ['x-a', 'b']], true],
  ];
  for (const [name, matcher, headers, expected] of cases) {
    it(`${name} -> ${expected}`, () => {
      assert.equal(matches(routeMatch({ kind: 'prefix', value: '/' }, { headers: [matcher] }), request({ headers })), expected);
    });
  }

  const pseudo: Array<[string, string, boolean]> = [
    [':method', 'POST', true],
    [':method', 'GET', false],
    [':authority', 'Shop.Example:8080', true],
    [':scheme', 'https', true],
    [':path', '/cart?id=7', true],
    [':path', '/cart', false],
  ];
  for (const [name, value, expected] of pseudo) {
    it(`pseudo-header ${name} exact ${value} -> ${expected}`, () => {
      const req = request({ method: 'POST', authority: 'Shop.Example:8080', scheme: 'https', path: '/cart?id=7' });
      const match = routeMatch({ kind: 'prefix', value: '/' }, { headers: [header(name, { match: { kind: 'exact', value, ignoreCase: false } })] });
      assert.equal(matches(match, req), expected);
    });
  }

  it('all header matchers must match', () => {
    const match = routeMatch(
      { kind: 'prefix', value: '/' },
      { headers: [header('x-a', { present: true }), header('x-b', { match: { kind: 'exact', value: '2', ignoreCase: false } })] },
    );
    assert.equal(matches(match, request({ headers: [['x-a', '1'], ['x-b', '2']] })), true);
    assert.equal(matches(match, request({ headers: [['x-a', '1'], ['x-b', '3']] })), false);
    assert.equal(matches(match, request({ headers: [['x-b', '2']] })), false);
  });
});

function query(name: string, extra: Partial<QueryParameterMatcher> = {}): QueryParameterMatcher {
  return { name, ...extra };
}

describe('query parameter matchers', () => {
  const exactV = query('q', { match: { kind: 'exact', value: 'v', ignoreCase: false } });
  const cases: Array<[string, QueryParameterMatcher, string, boolean]> = [
    ['exact hit', exactV, '/p?q=v', true],
    ['exact among others', exactV, '/p?a=1&q=v&b=2', true],
    ['exact miss', exactV, '/p?q=w', false],
    ['first value wins (hit)', exactV, '/p?q=v&q=w', true],
    ['first value wins (miss)', exactV, '/p?q=w&q=v', false],
    ['no query string', exactV, '/p', false],
    ['different key sharing a prefix', exactV, '/p?qq=v', false],
    ['value percent-decoded', query('q', { match: { kind: 'exact', value: 'a b/c', ignoreCase: false } }), '/p?q=a%20b%2Fc', true],
    ['key percent-decoded', exactV, '/p?%71=v', true],
    ['fragment excluded', exactV, '/p?q=v#frag', true],
    ['key without "=" is an empty value', query('q', { match: { kind: 'exact', value: '', ignoreCase: false } }), '/p?q', true],
    ['prefix ignore_case', query('q', { match: { kind: 'prefix', value: 'AB', ignoreCase: true } }), '/p?q=abc', true],
    ['regex full match', query('id', { match: { kind: 'regex', regex: '[0-9]+' } }), '/p?id=123', true],
    ['regex full match miss', query('id', { match: { kind: 'regex', regex: '[0-9]+' } }), '/p?id=123x', false],
    ['present hit (no value)', query('debug', { present: true }), '/p?x=1&debug', true],
    ['present hit (empty value)', query('debug', { present: true }), '/p?debug=', true],
    ['present miss', query('debug', { present: true }), '/p?debugger=1', false],
    ['present false, absent', query('debug', { present: false }), '/p?x=1', true],
    ['present false, present', query('debug', { present: false }), '/p?debug=1', false],
  ];
  for (const [name, matcher, path, expected] of cases) {
    it(`${name}: ${path} -> ${expected}`, () => {
      assert.equal(matches(routeMatch({ kind: 'prefix', value: '/' }, { queryParameters: [matcher] }), request({ path })), expected);
    });
  }

  it('path, headers and query parameters must all match', () => {
    const match = routeMatch(
      { kind: 'path', value: '/p' },
      { headers: [header('x-a', { present: true })], queryParameters: [exactV] },
    );
    assert.equal(matches(match, request({ path: '/p?q=v', headers: [['x-a', '1']] })), true);
    assert.equal(matches(match, request({ path: '/p?q=v' })), false);
    assert.equal(matches(match, request({ path: '/p?q=w', headers: [['x-a', '1']] })), false);
    assert.equal(matches(match, request({ path: '/px?q=v', headers: [['x-a', '1']] })), false);
  });
});
