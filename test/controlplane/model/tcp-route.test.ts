import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertErrors, assertValid, documentOf } from './documents.js';

describe('TCPRoute (SMI v1alpha4)', () => {
  it('accepts a port list, and no ports meaning every port', () => {
    assert.deepEqual(assertValid(documentOf('TCPRoute', { matches: { ports: [3306, 6446] } })).spec, { matches: { ports: [3306, 6446] } });
    assert.deepEqual(assertValid(documentOf('TCPRoute', { matches: { name: 'all' } })).spec, { matches: { name: 'all', ports: [] } });
  });

  it('rejects bad and duplicate ports and the v1alpha3 list form', () => {
    assertErrors(documentOf('TCPRoute', { matches: { ports: [0, '3306'] } }), [
      ['spec.matches.ports[0]', 'must be >= 1'],
      ['spec.matches.ports[1]', 'expected integer, got "3306"'],
    ]);
    assertErrors(documentOf('TCPRoute', { matches: { ports: [3306, 3306] } }), [['spec.matches.ports[1]', 'duplicate port 3306']]);
    assertErrors(documentOf('TCPRoute', { matches: [{ ports: [3306] }] }), [['spec.matches', 'expected object, got array']]);
  });
});
