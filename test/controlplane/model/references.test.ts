import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMissingReferences, findReferences } from '../../../src/controlplane/model/references.js';
import type { ResourceKey } from '../../../src/controlplane/model/resource.js';
import { assertValid, documentOf } from './documents.js';

const keyString = (key: ResourceKey) => `${key.kind} ${key.namespace}/${key.name}`;
const existing = (...keys: string[]) => (key: ResourceKey) => keys.includes(keyString(key));

describe('references', () => {
  it('reports each TrafficSplit backend, root and route group that does not exist', () => {
    const split = assertValid(
      documentOf(
        'TrafficSplit',
        { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 1 }, { service: 'reviews-v4', weight: 1 }], matches: [{ kind: 'HTTPRouteGroup', name: 'ab' }] },
        { name: 'rollout', namespace: 'bookinfo' },
      ),
    );
    assert.deepEqual(findMissingReferences(split, existing('Service bookinfo/reviews', 'Service bookinfo/reviews-v2')), [
      'spec.backends[1].service: Service bookinfo/reviews-v4 does not exist',
      'spec.matches[0].name: HTTPRouteGroup bookinfo/ab does not exist',
    ]);
    assert.deepEqual(
      findMissingReferences(split, existing('Service bookinfo/reviews', 'Service bookinfo/reviews-v2', 'Service bookinfo/reviews-v4', 'HTTPRouteGroup bookinfo/ab')),
      [],
    );
  });

  it('resolves a root given as an FQDN into its own namespace', () => {
    const split = assertValid(documentOf('TrafficSplit', { service: 'reviews.shop.svc.cluster.local', backends: [{ service: 'reviews-v2', weight: 1 }] }));
    assert.deepEqual(findMissingReferences(split, existing('Service default/reviews-v2')), ['spec.service: Service shop/reviews does not exist']);
  });

  it("finds a Workload's Service, a TrafficPolicy's target and mirror, a Gateway's backends", () => {
    const workload = assertValid(documentOf('Workload', { address: '10.0.0.1', service: 'ratings' }));
    assert.deepEqual(findReferences(workload), [{ path: 'spec.service', key: { kind: 'Service', namespace: 'default', name: 'ratings' } }]);
    const policy = assertValid(documentOf('TrafficPolicy', { targetRef: { kind: 'Service', name: 'reviews' }, mirror: { service: 'reviews-shadow' } }));
    assert.deepEqual(findMissingReferences(policy, existing('Service default/reviews')), ['spec.mirror.service: Service default/reviews-shadow does not exist']);
    const gateway = assertValid(
      documentOf('Gateway', { listeners: [{ name: 'web', port: 80 }], routes: [{ backend: { service: 'productpage', port: 9080 } }, { backend: { service: 'reviews', port: 9080 } }] }),
    );
    assert.deepEqual(findMissingReferences(gateway, existing('Service default/productpage')), ['spec.routes[1].backend.service: Service default/reviews does not exist']);
  });

  it('finds nothing for kinds without references', () => {
    const service = assertValid(documentOf('Service', { ports: [{ name: 'http', port: 80 }] }));
    assert.deepEqual(findMissingReferences(service, () => false), []);
    const mesh = assertValid(documentOf('Mesh', {}, { name: 'default' }));
    assert.deepEqual(findMissingReferences(mesh, () => false), []);
  });
});
