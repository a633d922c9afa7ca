import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GatewaySpec } from '../../../src/controlplane/model/gateway.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

const backend = { service: 'productpage', port: 9080 };

describe('Gateway', () => {
  it('accepts HTTP routes on every HTTP listener and a TCP listener with its own route', () => {
    const spec = assertValid(
      documentOf('Gateway', {
        listeners: [
          { name: 'web', port: 8080, hostnames: ['bookinfo.example.com', '*.example.com'] },
          { name: 'db', port: 3306, protocol: 'TCP' },
        ],
        routes: [
          { match: { pathPrefix: '/api' }, backend: { service: 'reviews', port: 9080 } },
          { backend },
          { listener: 'db', backend: { service: 'mysql', port: 3306 } },
        ],
      }),
    ).spec as GatewaySpec;
    assert.equal(spec.listeners[0]?.protocol, 'HTTP');
    assert.equal(spec.listeners[1]?.protocol, 'TCP');
  });

  it('requires listeners and routes, and checks their fields', () => {
    assertErrors(documentOf('Gateway', { listeners: [] }), [
      ['spec.listeners', 'must have at least 1 item(s)'],
      ['spec.routes', 'required field is missing'],
    ]);
    assertErrors(
      documentOf('Gateway', {
        listeners: [{ name: 'web', port: 8080, protocol: 'HTTPS', hostnames: ['Example.com'] }],
        routes: [{ match: { pathPrefix: 'api' }, backend: { service: 'productpage' } }],
      }),
      [
        ['spec.listeners[0].hostnames[0]', 'is not a hostname'],
        ['spec.listeners[0].protocol', 'unsupported value "HTTPS"; supported: HTTP, TCP'],
        ['spec.routes[0].backend.port', 'required field is missing'],
        ['spec.routes[0].match.pathPrefix', 'must start with "/"'],
      ],
    );
  });

  it('rejects duplicate listener names and ports', () => {
    assertErrors(documentOf('Gateway', { listeners: [{ name: 'web', port: 80 }, { name: 'web', port: 80 }], routes: [{ backend }] }), [
      ['spec.listeners[1].name', 'duplicate listener name "web"'],
      ['spec.listeners[1].port', 'duplicate listener port 80'],
    ]);
  });

  it('checks that routes attach to listeners that can carry them', () => {
    assertErrors(documentOf('Gateway', { listeners: [{ name: 'web', port: 80 }], routes: [{ listener: 'webb', backend }] }), [
      ['spec.routes[0].listener', 'no listener named "webb"; listeners: web'],
    ]);
    assertErrors(
      documentOf('Gateway', {
        listeners: [{ name: 'db', port: 3306, protocol: 'TCP', hostnames: ['db.example.com'] }],
        routes: [{ listener: 'db', match: { pathPrefix: '/' }, backend }, { listener: 'db', backend }, { backend }],
      }),
      [
        ['spec.listeners[0]', 'a TCP listener needs exactly one route naming it in routes[].listener, found 2'],
        ['spec.listeners[0].hostnames', 'hostnames apply only to HTTP listeners'],
        ['spec.routes[0].match', 'a TCP route cannot match on HTTP paths'],
        ['spec.routes[2]', 'the Gateway has no HTTP listener'],
      ],
    );
  });
});
