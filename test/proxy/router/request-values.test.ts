import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import { cookieValue, joinedHeaderValue, pathEnd, queryParameterValue } from '../../../src/proxy/router/request-values.js';

describe('pathEnd', () => {
  const cases: Array<[string, number]> = [['/a/b', 4], ['/a?b#c', 2], ['/a#b?c', 2], ['/', 1], ['', 0]];
  for (const [path, expected] of cases) it(`${JSON.stringify(path)} -> ${expected}`, () => assert.equal(pathEnd(path), expected));
});

describe('queryParameterValue', () => {
  const cases: Array<[path: string, name: string, expected: string | undefined]> = [
    ['/p?a=1&b=2', 'b', '2'],
    ['/p?a=1&&b=2&', 'b', '2'],
    ['/p?=v&a=1', 'a', '1'],
    ['/p?a', 'a', ''],
    ['/p?a=', 'a', ''],
    ['/p?a=x=y', 'a', 'x=y'],
    ['/p?a=1+2', 'a', '1+2'],
    ['/p?a=%E2%9C%93', 'a', '\u2713'],
    ['/p?a=%ZZ', 'a', '%ZZ'],
    ['/p?b=1#a=2', 'a', undefined],
    ['/p?', 'a', undefined],
    ['/p', 'a', undefined],
    ['/p?ab=1', 'a', undefined],
  ];
  for (const [path, name, expected] of cases) {
    it(`${path} [${name}] -> ${JSON.stringify(expected)}`, () => assert.equal(queryParameterValue(path, name), expected));
  }
});

describe('joinedHeaderValue', () => {
  it('returns a single value unchanged and joins several with ","', () => {
    const headers = HeaderMap.fromRaw(['X-One', 'a, b', 'x-many', '1', 'Other', 'z', 'X-Many', '2']);
    assert.equal(joinedHeaderValue(headers, 'x-one'), 'a, b');
    assert.equal(joinedHeaderValue(headers, 'x-many'), '1,2');
    assert.equal(joinedHeaderValue(headers, 'x-none'), undefined);
  });
});

describe('cookieValue', () => {
  const cases: Array<[cookies: string[], name: string, expected: string | undefined]> = [
    [['a=1; b=2'], 'b', '2'],
    [['a=1;b=2'], 'b', '2'],
    [['a=1;   b=2'], 'b', '2'],
    [['b="quoted"'], 'b', 'quoted'],
    [['b="'], 'b', '"'],
    [['flag; b=2'], 'b', '2'],
    [['b=1; b=2'], 'b', '1'],
    [['ab=1'], 'b', undefined],
    [['a=1', 'b=2'], 'b', '2'],
    [[], 'b', undefined],
  ];
  for (const [cookies, name, expected] of cases) {
    it(`${JSON.stringify(cookies)} [${name}] -> ${JSON.stringify(expected)}`, () => {
      const headers = HeaderMap.fromRaw(cookies.flatMap((c) => ['Cookie', c]));
      assert.equal(cookieValue(headers, name), expected);
    });
  }
});
