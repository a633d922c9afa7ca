import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serviceKeyFromHost } from '../../../src/controlplane/model/service-host.js';

describe('serviceKeyFromHost', () => {
  it('resolves names, name.namespace and Kubernetes-style FQDNs', () => {
    assert.deepEqual(serviceKeyFromHost('reviews', 'bookinfo'), { kind: 'Service', namespace: 'bookinfo', name: 'reviews' });
    assert.deepEqual(serviceKeyFromHost('reviews.shop', 'bookinfo'), { kind: 'Service', namespace: 'shop', name: 'reviews' });
    assert.deepEqual(serviceKeyFromHost('reviews.shop.svc', 'bookinfo'), { kind: 'Service', namespace: 'shop', name: 'reviews' });
    assert.deepEqual(serviceKeyFromHost('reviews.shop.svc.cluster.local', 'bookinfo'), { kind: 'Service', namespace: 'shop', name: 'reviews' });
  });

  it('leaves hosts outside the mesh unresolved', () => {
    assert.equal(serviceKeyFromHost('api.example.com', 'default'), undefined);
    assert.equal(serviceKeyFromHost('', 'default'), undefined);
  });
});
