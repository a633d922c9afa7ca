import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../../src/lib/errors.js';
import { compileVirtualHostSelector } from '../../../src/proxy/router/virtual-host-selector.js';

function selector(hosts: Record<string, string[]>) {
  return compileVirtualHostSelector(
    Object.entries(hosts).map(([value, domains]) => ({ domains, value })),
    'route_config',
  );
}

describe('virtual host selection', () => {
  const hosts = selector({
    exact: ['api.example.com', 'API.other.com', 'ported.example.com:8080'],
    suffixShort: ['*.example.com'],
    suffixLong: ['*.v1.example.com'],
    suffixDash: ['*-beta.example.com'],
    prefixShort: ['api.*'],
    prefixLong: ['api.example.*'],
    prefixDash: ['web-*'],
    fallback: ['*'],
  });

  const cases: Array<[authority: string, expected: string, why: string]> = [
    ['api.example.com', 'exact', 'exact beats every wildcard'],
    ['API.Example.COM', 'exact', 'authority is case-insensitive'],
    ['api.other.com', 'exact', 'configured domain is case-insensitive'],
    ['ported.example.com:8080', 'exact', 'exact domain with its port'],
    ['ported.example.com', 'suffixShort', 'domain written with a port does not match without one'],
    ['api.example.com:443', 'prefixLong', 'a port in Host defeats the exact domain; a prefix wildcard still matches'],
    ['db.example.com:5432', 'fallback', 'a port in Host defeats a suffix wildcard'],
    ['x.v1.example.com', 'suffixLong', 'longest suffix wins'],
    ['x.example.com', 'suffixShort', 'shorter suffix when the longer does not match'],
    ['v1.example.com', 'suffixShort', '"*.v1.example.com" needs at least one char before ".v1"'],
    ['svc-beta.example.com', 'suffixDash', 'dash suffix wildcard is more specific than *.example.com'],
    ['-beta.example.com', 'suffixShort', 'the * of a suffix wildcard must match at least one char'],
    ['api.example.org', 'prefixLong', 'longest prefix wins'],
    ['api.foo', 'prefixShort', 'shorter prefix'],
    ['api.', 'fallback', 'the * of a prefix wildcard must match at least one char'],
    ['web-frontend', 'prefixDash', 'dash prefix wildcard'],
    ['web-frontend:9000', 'prefixDash', 'prefix wildcard covers a port'],
    ['unknown.net', 'fallback', 'default virtual host'],
    ['', 'fallback', 'missing authority only reaches *'],
  ];
  for (const [authority, expected, why] of cases) {
    it(`${JSON.stringify(authority)} -> ${expected} (${why})`, () => {
      assert.equal(hosts.select(authority), expected);
    });
  }

  it('suffix wildcards take precedence over prefix wildcards', () => {
    const s = selector({ prefix: ['shop.*'], suffix: ['*.com'] });
    assert.equal(s.select('shop.com'), 'suffix');
    assert.equal(s.select('shop.net'), 'prefix');
  });

  it('without a * host, unknown authorities match nothing', () => {
    assert.equal(selector({ a: ['a.com'] }).select('b.com'), undefined);
  });

  it('rejects a domain used twice (case-insensitively) with its path', () => {
    assert.throws(
      () => selector({ a: ['a.com'], b: ['x.com', 'A.com'] }),
      (err: unknown) => err instanceof ConfigError && err.path === 'route_config.virtual_hosts[1].domains[1]',
    );
  });
});
