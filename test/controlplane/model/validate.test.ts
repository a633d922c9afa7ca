import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateResource } from '../../../src/controlplane/model/validate.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

const serviceSpec = { ports: [{ name: 'http', port: 9080 }] };

describe('validateResource: the document envelope', () => {
  it('rejects a document that is not an object', () => {
    for (const doc of [null, 'kind: Service', [], 42]) {
      const result = validateResource(doc);
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.errors[0]?.path, '(root)');
    }
  });

  it('names the supported kinds when kind is missing or unknown', () => {
    assertErrors({ apiVersion: 'mesh.weft.dev/v1alpha1', metadata: { name: 'a' }, spec: {} }, [['kind', 'required field is missing; supported kinds: Mesh (mesh.weft.dev/v1alpha1)']]);
    assertErrors({ apiVersion: 'v1', kind: 'Deployment', metadata: { name: 'a' }, spec: {} }, [['kind', 'unknown kind "Deployment"; supported kinds: Mesh']]);
    assertErrors({ apiVersion: 'v1', kind: 'trafficsplit', metadata: { name: 'a' }, spec: {} }, [['kind', 'did you mean TrafficSplit?']]);
  });

  it('requires the apiVersion that serves the kind', () => {
    assertErrors({ kind: 'TrafficSplit', metadata: { name: 'a' }, spec: {} }, [['apiVersion', 'required field is missing (TrafficSplit is split.smi-spec.io/v1alpha4)']]);
    assertErrors({ apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit', metadata: { name: 'a' }, spec: {} }, [
      ['apiVersion', 'TrafficSplit is served as split.smi-spec.io/v1alpha4, not "split.smi-spec.io/v1alpha2"'],
    ]);
  });

  it('rejects unknown top-level and metadata fields, and a missing spec or metadata', () => {
    const doc = { ...documentOf('Service', serviceSpec, { name: 'reviews', generation: 3 }), extra: true };
    assertErrors(doc, [
      ['extra', 'unknown field; known fields: apiVersion, kind, metadata, spec, status'],
      ['metadata.generation', 'unknown field'],
    ]);
    const { spec: _spec, metadata: _metadata, ...bare } = documentOf('Service', serviceSpec);
    assertErrors(bare, [['metadata', 'required field is missing'], ['spec', 'required field is missing']]);
  });

  it('requires metadata.name to be a DNS-1123 subdomain', () => {
    assertValid(documentOf('Workload', { address: '10.0.0.1', service: 'reviews' }, { name: 'reviews-v2.pod-1' }));
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews' }, { name: 'Reviews_V2' }), [['metadata.name', 'is not a DNS-1123 subdomain']]);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews' }, { name: 'a'.repeat(254) }), [['metadata.name', 'at most 253 characters']]);
    assertErrors(documentOf('Workload', { address: '10.0.0.1', service: 'reviews' }, {}), [['metadata.name', 'required field is missing']]);
  });

  it("defaults the namespace of namespaced kinds to 'default' and checks a given one", () => {
    assert.equal(assertValid(documentOf('Service', serviceSpec, { name: 'reviews' })).metadata.namespace, 'default');
    assert.equal(assertValid(documentOf('Service', serviceSpec, { name: 'reviews', namespace: '' })).metadata.namespace, 'default');
    assert.equal(assertValid(documentOf('Service', serviceSpec, { name: 'reviews', namespace: 'bookinfo' })).metadata.namespace, 'bookinfo');
    assertErrors(documentOf('Service', serviceSpec, { name: 'reviews', namespace: 'book.info' }), [['metadata.namespace', 'is not a DNS-1123 label']]);
  });

  it('gives cluster-scoped kinds no namespace', () => {
    assert.equal(assertValid(documentOf('Mesh', {}, { name: 'default' })).metadata.namespace, '');
    assertErrors(documentOf('Mesh', {}, { name: 'default', namespace: 'default' }), [['metadata.namespace', 'Mesh is cluster-scoped: remove metadata.namespace']]);
  });

  it('checks label keys and values with the path of the offending key', () => {
    const labels = { 'app.kubernetes.io/name': 'reviews', version: 'v2', 'bad key': 'x', tier: '-backend' };
    assertErrors(documentOf('Service', serviceSpec, { name: 'reviews', labels }), [
      ['metadata.labels["bad key"]', 'invalid label key "bad key"'],
      ['metadata.labels.tier', 'invalid label value "-backend"'],
    ]);
    assertErrors(documentOf('Service', serviceSpec, { name: 'reviews', labels: { version: 2 } }), [['metadata.labels.version', 'expected string, got number 2']]);
  });

  it('keeps store-set metadata and a well-formed status so an API read can be applied again', () => {
    const status = { conditions: [{ type: 'Accepted', status: 'True', reason: 'Valid', message: '', lastTransitionTime: '2024-05-01T10:00:00Z' }] };
    const metadata = { name: 'reviews', namespace: 'default', resourceVersion: '42', uid: 'a1b2', creationTimestamp: '2024-05-01T10:00:00Z', annotations: { owner: 'team-a' } };
    const resource = assertValid({ ...documentOf('Service', serviceSpec, metadata), status });
    assert.deepEqual(resource.metadata, metadata);
    assert.deepEqual(resource.status, status);
    assertErrors({ ...documentOf('Service', serviceSpec), status: { conditions: [{ ...status.conditions[0], status: 'Yes' }] } }, [
      ['status.conditions[0].status', 'unsupported value "Yes"; supported: True, False, Unknown'],
    ]);
  });

  it('reports every schema error at once, with dotted paths', () => {
    assertErrors(documentOf('Service', { ports: [{ name: 'http', port: 0 }, { name: 'grpc', port: '9090', protocol: 'udp' }], selectr: {} }), [
      ['spec.ports[0].port', 'must be >= 1, got number 0'],
      ['spec.ports[1].port', 'expected integer, got "9090"'],
      ['spec.ports[1].protocol', 'unsupported value "udp"; supported: http, http2, grpc, tcp'],
      ['spec.selectr', 'unknown field; known fields: ports, selector'],
    ]);
  });

  it('applies defaults to a copy and leaves the input untouched', () => {
    const doc = documentOf('Service', serviceSpec, { name: 'reviews' });
    const before = structuredClone(doc);
    const resource = assertValid(doc);
    assert.deepEqual(doc, before);
    assert.equal((resource.spec as { ports: Array<{ protocol: string }> }).ports[0]?.protocol, 'http');
  });
});
