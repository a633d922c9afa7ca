import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertErrors, assertValid, documentOf } from './documents.js';

describe('HTTPRouteGroup (SMI v1alpha4)', () => {
  it('accepts the SMI examples: path and methods, header filters, both', () => {
    const spec = {
      matches: [
        { name: 'metrics', pathRegex: '/metrics', methods: ['GET'] },
        { name: 'health', pathRegex: '/ping', methods: ['*'] },
        { name: 'android-insiders', headers: { 'user-agent': '.*Android.*', cookie: '^(.*?;)?(type=insider)(;.*)?$' } },
        { name: 'iphone-users', pathRegex: '/api/.*', methods: ['GET', 'HEAD'], headers: { 'user-agent': '.*iPhone.*' } },
      ],
    };
    assert.deepEqual(assertValid(documentOf('HTTPRouteGroup', spec)).spec, spec);
  });

  it('rejects unknown methods, bad regexes and unnamed matches', () => {
    assertErrors(
      documentOf('HTTPRouteGroup', {
        matches: [{ name: 'a', methods: ['get'], pathRegex: '/api/(' }, { headers: { 'user-agent': '[' } }],
      }),
      [
        ['spec.matches[0].methods[0]', 'unsupported value "get"; supported: *, GET, HEAD'],
        ['spec.matches[0].pathRegex', 'invalid regular expression "/api/("'],
        ['spec.matches[1].headers["user-agent"]', 'invalid regular expression "["'],
        ['spec.matches[1].name', 'required field is missing'],
      ],
    );
  });

  it('requires matches, each name used once', () => {
    assertErrors(documentOf('HTTPRouteGroup', {}), [['spec.matches', 'required field is missing']]);
    assertErrors(documentOf('HTTPRouteGroup', { matches: [{ name: 'a' }, { name: 'a', methods: ['POST'] }] }), [['spec.matches[1].name', 'duplicate match name "a"']]);
  });
});
