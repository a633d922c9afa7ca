import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkloadSpec } from '../../../src/controlplane/model/workload.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

describe('Workload', () => {
  it("defaults serviceAccount to 'default' and ports to none", () => {
    const spec = assertValid(documentOf('Workload', { address: '10.0.0.7', service: 'ratings' })).spec as WorkloadSpec;
    assert.deepEqual(spec, { address: '10.0.0.7', service: 'ratings', ports: [], serviceAccount: 'default' });
  });

  it('accepts IPv4, IPv6 and DNS addresses with every optional field', () => {
    for (const address of ['10.0.1.12', '::1', 'fd00::12', 'reviews-0.reviews.internal']) {
      const doc = documentOf('Workload', {
        address,
        ports: [{ name: 'http', port: 9080 }],
        service: 'reviews',
        labels: { app: 'reviews', version: 'v2' },
        serviceAccount: 'bookinfo-reviews',
        version: 'v2',
        zone: 'eu-west-1a',
      });
      assert.equal((assertValid(doc).spec as WorkloadSpec).address, address);
    }
  });

  it('rejects a bad address, a missing service and duplicate ports', () => {
    assertErrors(documentOf('Workload', { address: '10.0.0.300:80', ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), [
      ['spec.address', 'is neither an IP address nor a DNS name'],
      ['spec.service', 'required field is missing'],
    ]);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews', ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }), [
      ['spec.ports[1].name', 'duplicate port name "http"'],
    ]);
  });

  it('checks the labels that selectors match and the identity name', () => {
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews', labels: { version: 'v 2' } }), [['spec.labels.version', 'invalid label value "v 2"']]);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews', serviceAccount: 'Reviews' }), [['spec.serviceAccount', 'is not a DNS-1123 subdomain']]);
  });

  it('accepts reachableServices as service hosts and rejects external hosts and the same service twice', () => {
    const spec = assertValid(documentOf('Workload', { address: '10.0.0.1', service: 'productpage', reachableServices: ['details', 'reviews.bookinfo.svc.cluster.local', 'ratings.shop'] })).spec as WorkloadSpec;
    assert.deepEqual(spec.reachableServices, ['details', 'reviews.bookinfo.svc.cluster.local', 'ratings.shop']);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'productpage', reachableServices: ['api.example.com', 'details', 'details.default', 'Bad_Name'] }), [
      ['spec.reachableServices[3]', 'is not a DNS-1123 subdomain'],
    ]);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'productpage', reachableServices: ['api.example.com', 'details', 'details.default'] }), [
      ['spec.reachableServices[0]', 'is not a mesh Service host'],
      ['spec.reachableServices[2]', 'duplicate reachable service "default/details"'],
    ]);
  });
});
