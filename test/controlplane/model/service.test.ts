import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceSpec } from '../../../src/controlplane/model/service.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

describe('Service', () => {
  it('accepts ports and a selector, defaulting protocol to http', () => {
    const spec = assertValid(
      documentOf(
        'Service',
        { ports: [{ name: 'http', port: 9080 }, { name: 'grpc', port: 9090, protocol: 'grpc', targetPort: 19090 }], selector: { app: 'reviews', version: 'v2' } },
        { name: 'reviews-v2' },
      ),
    ).spec as ServiceSpec;
    assert.deepEqual(spec.ports, [
      { name: 'http', port: 9080, protocol: 'http' },
      { name: 'grpc', port: 9090, protocol: 'grpc', targetPort: 19090 },
    ]);
    assert.deepEqual(spec.selector, { app: 'reviews', version: 'v2' });
  });

  it('requires at least one port, each with a DNS-label name and a port in 1-65535', () => {
    assertErrors(documentOf('Service', { ports: [] }), [['spec.ports', 'must have at least 1 item(s)']]);
    assertErrors(documentOf('Service', { ports: [{ name: 'HTTP', port: 70000 }, { port: 80, targetPort: 0 }] }), [
      ['spec.ports[0].name', 'is not a DNS-1123 label'],
      ['spec.ports[0].port', 'must be <= 65535, got number 70000'],
      ['spec.ports[1].name', 'required field is missing'],
      ['spec.ports[1].targetPort', 'must be >= 1'],
    ]);
  });

  it('rejects duplicate port names and numbers, pointing at the second use', () => {
    assertErrors(documentOf('Service', { ports: [{ name: 'http', port: 80 }, { name: 'http', port: 8080 }, { name: 'admin', port: 80 }] }), [
      ['spec.ports[1].name', 'duplicate port name "http" (first used at spec.ports[0].name)'],
      ['spec.ports[2].port', 'duplicate port 80 (first used at spec.ports[0].port)'],
    ]);
  });

  it('requires the name to be a DNS label, since it becomes a host name', () => {
    assertErrors(documentOf('Service', { ports: [{ name: 'http', port: 80 }] }, { name: 'reviews.v2' }), [['metadata.name', 'a Service name must be a DNS label']]);
  });

  it('checks selector labels', () => {
    assertErrors(documentOf('Service', { ports: [{ name: 'http', port: 80 }], selector: { 'example.com/app': 'reviews', version: 'v2!' } }), [
      ['spec.selector.version', 'invalid label value "v2!"'],
    ]);
  });
});
