import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertErrors, assertValid, documentOf } from './documents.js';

const backends = [
  { service: 'reviews-v2', weight: 50 },
  { service: 'reviews-v3', weight: 50 },
];

describe('TrafficSplit (SMI v1alpha4)', () => {
  it('accepts the SMI canary and A/B examples, root by name or FQDN', () => {
    const canary = { service: 'reviews', backends: [{ service: 'reviews-v1', weight: 90 }, { service: 'reviews-v2', weight: 10 }] };
    assert.deepEqual(assertValid(documentOf('TrafficSplit', canary)).spec, canary);
    const abTest = {
      service: 'reviews.default.svc.cluster.local',
      matches: [{ kind: 'HTTPRouteGroup', name: 'ab-test' }],
      backends: [{ service: 'reviews-v1', weight: 0 }, { service: 'reviews-v2', weight: 100 }],
    };
    assert.deepEqual(assertValid(documentOf('TrafficSplit', abTest)).spec, abTest);
  });

  it('requires whole, non-negative weights and at least one backend', () => {
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 1.5 }, { service: 'reviews-v3', weight: -1 }] }), [
      ['spec.backends[0].weight', 'expected integer, got number 1.5'],
      ['spec.backends[1].weight', 'must be >= 0, got number -1'],
    ]);
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends: [] }), [['spec.backends', 'must have at least 1 item(s)']]);
    assertErrors(documentOf('TrafficSplit', { backends: [{ service: 'reviews-v2' }] }), [
      ['spec.backends[0].weight', 'required field is missing'],
      ['spec.service', 'required field is missing'],
    ]);
  });

  it('rejects all-zero weights, duplicate backends and a self-referential backend', () => {
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 0 }, { service: 'reviews-v3', weight: 0 }] }), [
      ['spec.backends', 'all weights are 0'],
    ]);
    assertErrors(documentOf('TrafficSplit', { service: 'reviews.default', backends: [...backends, { service: 'reviews-v2', weight: 1 }, { service: 'reviews', weight: 1 }] }), [
      ['spec.backends[2].service', 'duplicate backend service "reviews-v2"'],
      ['spec.backends[3].service', 'must not be the root service "reviews.default" itself'],
    ]);
  });

  it('accepts only HTTPRouteGroup matches, each named once', () => {
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends, matches: [{ kind: 'TCPRoute', name: 'db' }, { kind: 'HTTPRouteGroup' }] }), [
      ['spec.matches[0].kind', 'unsupported value "TCPRoute"; supported: HTTPRouteGroup'],
      ['spec.matches[1].name', 'required field is missing'],
    ]);
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends, matches: [{ kind: 'HTTPRouteGroup', name: 'a' }, { kind: 'HTTPRouteGroup', name: 'a' }] }), [
      ['spec.matches[1].name', 'duplicate match "a"'],
    ]);
  });

  it('rejects fields that are not in the SMI spec', () => {
    assertErrors(documentOf('TrafficSplit', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 1, port: 9080 }], rootService: 'x' }), [
      ['spec.backends[0].port', 'unknown field; known fields: service, weight'],
      ['spec.rootService', 'unknown field; known fields: service, backends, matches'],
    ]);
  });
});
