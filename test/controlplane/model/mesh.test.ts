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

  it('takes a default access log: stdout and files, each with an optional JSON or text format', () => {
    const accessLog = {
      backends: [
        { stdout: {} },
        { file: { path: '/var/log/weft/access.log', format: { json: { code: '%RESPONSE_CODE%', path: '%REQ(:PATH)%' } } } },
        { file: { path: '/var/log/weft/access.txt', format: { text: '%REQ(:METHOD)% %RESPONSE_CODE%' } } },
      ],
    };
    const spec = assertValid(documentOf('Mesh', { accessLog }, { name: 'default' })).spec as MeshSpec;
    assert.deepEqual(spec.accessLog, accessLog);
  });

  it('rejects access logs that are ambiguous, relative or that the proxy could not format', () => {
    assertErrors(documentOf('Mesh', { accessLog: { backends: [] } }, { name: 'default' }), [['spec.accessLog.backends', 'must have at least 1 item(s)']]);
    assertErrors(documentOf('Mesh', {
      accessLog: {
        backends: [
          { stdout: {}, file: { path: '/tmp/a' } },
          { file: { path: 'access.log' } },
          { stdout: { format: { json: {}, text: 'x' } } },
        ],
      },
    }, { name: 'default' }), [
      ['spec.accessLog.backends[0]', 'must set at most 1 field(s)'],
      ['spec.accessLog.backends[1].file.path', 'is not an absolute file path'],
      ['spec.accessLog.backends[2].stdout.format', 'must set at most 1 field(s)'],
      ['spec.accessLog.backends[2].stdout.format.json', 'must set at least 1 field(s)'],
    ]);
  });

  it('checks format strings as the proxy compiles them', () => {
    assertErrors(documentOf('Mesh', {
      accessLog: { backends: [{ file: { path: '/tmp/b', format: { json: { code: '%RESPONSE_COD%' } } } }, { stdout: { format: { text: '100% done' } } }] },
    }, { name: 'default' }), [
      ['spec.accessLog.backends[0].file.format.json.code', 'unknown command operator %RESPONSE_COD%'],
      ['spec.accessLog.backends[1].stdout.format.text', 'malformed command operator'],
    ]);
  });
});
