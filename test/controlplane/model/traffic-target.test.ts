import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertErrors, assertValid, documentOf } from './documents.js';

const SA = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace === undefined ? {} : { namespace }) });

describe('TrafficTarget (SMI access v1alpha3)', () => {
  it('accepts the SMI example: HTTPRouteGroup matches and a TCPRoute, sources in other namespaces', () => {
    const spec = {
      destination: SA('reviews', 'default'),
      rules: [{ kind: 'HTTPRouteGroup', name: 'reviews-api', matches: ['read-reviews'] }, { kind: 'TCPRoute', name: 'metrics' }],
      sources: [SA('productpage'), SA('prometheus', 'monitoring')],
    };
    const resource = assertValid(documentOf('TrafficTarget', spec, { name: 'reviews-readers', namespace: 'default' }));
    assert.deepEqual(resource.spec, spec);
    assert.equal(resource.apiVersion, 'access.smi-spec.io/v1alpha3');
  });

  it('rejects what SMI does not allow, with paths', () => {
    assertErrors(documentOf('TrafficTarget', {
      destination: { kind: 'Service', name: 'reviews' },
      rules: [{ kind: 'HTTPRouteGroup', name: 'r' }],
      sources: [SA('a')],
    }), [['spec.destination.kind', 'ServiceAccount']]);
    assertErrors(documentOf('TrafficTarget', { destination: SA('reviews'), rules: [], sources: [] }), [
      ['spec.rules', 'at least 1'],
      ['spec.sources', 'at least 1'],
    ]);
    assertErrors(documentOf('TrafficTarget', { destination: SA('reviews'), rules: [{ kind: 'HTTPRouteGroup', name: 'r' }], sources: [SA('a')], port: 9080 }), [
      ['spec.port', 'unknown field'],
    ]);
  });

  it('rejects cross-field mistakes: foreign destination namespace, matches on a TCPRoute, duplicates', () => {
    assertErrors(documentOf('TrafficTarget', {
      destination: SA('reviews', 'other'),
      rules: [{ kind: 'TCPRoute', name: 'db', matches: ['x'] }, { kind: 'TCPRoute', name: 'db' }, { kind: 'HTTPRouteGroup', name: 'api', matches: ['m', 'm'] }],
      sources: [SA('a'), SA('a', 'default')],
    }, { name: 'tt', namespace: 'default' }), [
      ['spec.destination.namespace', "must be the TrafficTarget's own namespace"],
      ['spec.rules[0].matches', 'only an HTTPRouteGroup rule names matches'],
      ['spec.rules[1].name', 'duplicate rule'],
      ['spec.rules[2].matches[1]', 'duplicate match'],
      ['spec.sources[1].name', 'duplicate source'],
    ]);
  });
});
