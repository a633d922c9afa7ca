import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeshSpec } from '../../../src/controlplane/model/mesh.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

describe('Mesh', () => {
  it("defaults mtls.mode to PERMISSIVE and trustDomain to 'cluster.local'", () => {
    const spec = assertValid(documentOf('Mesh', {}, { name: 'default' })).spec as MeshSpec;
    assert.deepEqual(spec, { mtls: { mode: 'PERMISSIVE' }, trustDomain: 'cluster.local' });
    const partial = assertValid(documentOf('Mesh', { mtls: {} }, { name: 'default' })).spec as MeshSpec;
    assert.equal(partial.mtls.mode, 'PERMISSIVE');
  });

  it('keeps explicit settings', () => {
    const spec = assertValid(documentOf('Mesh', { mtls: { mode: 'STRICT' }, trustDomain: 'weft.example.org' }, { name: 'default' })).spec;
    assert.deepEqual(spec, { mtls: { mode: 'STRICT' }, trustDomain: 'weft.example.org' });
  });

  it('rejects an unknown mode, a bad trust domain and unknown fields', () => {
    assertErrors(documentOf('Mesh', { mtls: { mode: 'strict', ca: 'x' }, trustDomain: 'Cluster Local' }, { name: 'default' }), [
      ['spec.mtls.ca', 'unknown field; known fields: mode, certificateLifetime'],
      ['spec.mtls.mode', 'unsupported value "strict"; supported: STRICT, PERMISSIVE, DISABLED'],
      ['spec.trustDomain', 'is not a DNS-1123 subdomain'],
    ]);
  });
});
