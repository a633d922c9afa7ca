import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBootstrapText } from '../../../src/proxy/config/bootstrap.js';
import { createTestCa } from '../../support/pki.js';

describe('TLS config', () => {
  it('regression: a CA bundle concatenated without a newline keeps every root (rotation overlap)', async () => {
    const [a, b] = [await createTestCa('A'), await createTestCa('B')];
    const glued = a.certPem.trimEnd() + b.certPem.trimStart();
    assert.match(glued, /-----END CERTIFICATE----------BEGIN CERTIFICATE-----/);
    const bootstrap = parseBootstrapText(JSON.stringify({ static_resources: { secrets: [{ name: 'ca', validation_context: { trusted_ca: { inline_string: glued } } }] } }), 'test.json');
    const bundle = bootstrap.secrets[0]!.validationContext!.trustedCa!;
    assert.equal(bundle.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
    assert.match(bundle, /-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----/);
  });

  it('a private key given as the certificate is refused at load with its path', async () => {
    const leaf = await (await createTestCa()).issue({ spiffeId: 'spiffe://td/ns/a/sa/b' });
    assert.throws(
      () => parseBootstrapText(JSON.stringify({ static_resources: { secrets: [{ name: 'c', tls_certificate: { certificate_chain: { inline_string: leaf.keyPem } } }] } }), 'test.json'),
      /static_resources\.secrets\[0\]\.tls_certificate\.certificate_chain: expected certificates in PEM format/,
    );
  });
});
