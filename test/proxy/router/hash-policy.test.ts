import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { HashPolicy } from '../../../src/proxy/config/types.js';
import { combineHashes, hashString } from '../../../src/proxy/router/hash.js';
import { compileRouteTable, type RouteRequest } from '../../../src/proxy/router/route-table.js';
import { forward, request, route, routeConfig, virtualHost } from './fixtures.js';

function computeHash(hashPolicy: HashPolicy[], req: RouteRequest): number | undefined {
  return compileRouteTable(routeConfig([virtualHost('h', ['*'], [route({ action: forward({ hashPolicy }) })])])).match(req)!.computeHash(req);
}

const header = (headerName: string, terminal = false): HashPolicy => ({ kind: 'header', headerName, terminal });

describe('hash policies', () => {
  const single: Array<[string, HashPolicy, RouteRequest, string | undefined]> = [
    ['header', header('x-user'), request({ headers: [['X-User', 'alice']] }), 'alice'],
    ['header missing', header('x-user'), request(), undefined],
    ['header with several values', header('x-user'), request({ headers: [['x-user', 'a'], ['x-user', 'b']] }), 'a,b'],
    ['pseudo-header :authority', header(':authority'), request({ authority: 'svc:8080' }), 'svc:8080'],
    ['cookie', { kind: 'cookie', name: 'session', terminal: false }, request({ headers: [['cookie', 'a=1; session=xyz; b=2']] }), 'xyz'],
    ['quoted cookie', { kind: 'cookie', name: 'session', terminal: false }, request({ headers: [['cookie', 'session="xyz"']] }), 'xyz'],
    ['cookie in a second Cookie header', { kind: 'cookie', name: 'session', terminal: false }, request({ headers: [['cookie', 'a=1'], ['cookie', 'session=2nd']] }), '2nd'],
    ['cookie name is not a prefix match', { kind: 'cookie', name: 'session', terminal: false }, request({ headers: [['cookie', 'sessionid=1']] }), undefined],
    ['cookie missing', { kind: 'cookie', name: 'session', terminal: false }, request(), undefined],
    ['source_ip', { kind: 'source_ip', terminal: false }, request({ remoteAddress: '192.0.2.7' }), '192.0.2.7'],
    ['query_parameter', { kind: 'query_parameter', name: 'user', terminal: false }, request({ path: '/p?x=1&user=u1' }), 'u1'],
    ['query_parameter missing', { kind: 'query_parameter', name: 'user', terminal: false }, request({ path: '/p?x=1' }), undefined],
  ];
  for (const [name, policy, req, hashedValue] of single) {
    it(`${name} -> ${hashedValue === undefined ? 'no hash' : `hash of ${JSON.stringify(hashedValue)}`}`, () => {
      assert.equal(computeHash([policy], req), hashedValue === undefined ? undefined : hashString(hashedValue));
    });
  }

  it('no policies means no hash', () => {
    assert.equal(computeHash([], request()), undefined);
  });

  it('is the same for the same request, across calls and compilations', () => {
    const req = request({ headers: [['x-user', 'alice']] });
    const first = computeHash([header('x-user')], req);
    assert.equal(computeHash([header('x-user')], req), first);
    assert.notEqual(computeHash([header('x-user')], request({ headers: [['x-user', 'bob']] })), first);
  });

  const headers: Array<[string, string]> = [['x-a', 'A'], ['x-c', 'C']];
  const a = hashString('A');
  const c = hashString('C');
  const combined: Array<[string, HashPolicy[], number]> = [
    ['all producing policies are combined (rotl 1, xor)', [header('x-a'), header('x-b'), header('x-c')], combineHashes(a, c)],
    ['a terminal policy that produced a value stops the walk', [header('x-a', true), header('x-c')], a],
    ['a terminal policy that produced nothing does not stop it', [header('x-b', true), header('x-c')], c],
    ['a terminal policy stops once any earlier policy produced a value', [header('x-a'), header('x-b', true), header('x-c')], a],
    ['two identical policies do not cancel out', [header('x-a'), header('x-a')], combineHashes(a, a)],
  ];
  for (const [name, policies, expected] of combined) {
    it(name, () => {
      assert.equal(computeHash(policies, request({ headers })), expected);
    });
  }
});
