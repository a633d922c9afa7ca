import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { certificatesDump } from '../../../src/proxy/admin/certs.js';
import type { CommonTlsContextConfig } from '../../../src/proxy/config/types.js';
import { createSecretStore } from '../../../src/proxy/tls/secret-store.js';
import { createTestCa, type KeyAndCert, type TestCa } from '../../support/pki.js';

const DAY_MS = 86_400_000;
const base: Omit<CommonTlsContextConfig, 'certificate' | 'validation'> = { extraSanMatchers: [], alpnProtocols: [], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };

describe('admin /certs', () => {
  let ca: TestCa;
  let leaf: KeyAndCert;
  let expired: KeyAndCert;
  before(async () => {
    ca = await createTestCa('Certs Root');
    leaf = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/web', dnsNames: ['web.default.svc'], notAfter: new Date(Date.now() + 10.5 * DAY_MS) });
    expired = await ca.issue({ dnsNames: ['old'], notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) });
  });

  it('describes inline and SDS contexts, keeps file paths, counts whole days, and shows contexts with equal certificates once', () => {
    const secrets = createSecretStore();
    secrets.update([
      { name: 'cert', tlsCertificate: { certificateChain: leaf.certPem, privateKey: leaf.keyPem } },
      { name: 'ca', validationContext: { trustedCa: ca.certPem, trustedCaPath: '/etc/weft/ca.pem', sanMatchers: [] } },
    ]);
    const sds: CommonTlsContextConfig = { ...base, certificate: { kind: 'sds', name: 'cert', ads: true }, validation: { kind: 'sds', name: 'ca', ads: true } };
    const inline: CommonTlsContextConfig = { ...base, certificate: { kind: 'inline', value: { certificateChain: `${expired.certPem}${ca.certPem}`, certificateChainPath: '/etc/weft/old.pem', privateKey: expired.keyPem } } };
    const { certificates } = certificatesDump([sds, inline, sds], secrets);
    assert.equal(certificates.length, 2, 'the repeated context appears once');
    const [first, second] = certificates as [(typeof certificates)[number], (typeof certificates)[number]];
    assert.deepEqual(first.cert_chain.map((c) => [c.path, c.days_until_expiration, c.subject_alt_names]), [
      ['<inline>', '10', [{ uri: 'spiffe://cluster.local/ns/default/sa/web' }, { dns: 'web.default.svc' }]],
    ]);
    assert.deepEqual(first.ca_cert.map((c) => [c.path, c.days_until_expiration]), [['/etc/weft/ca.pem', '29']]);
    // A chain is one entry: the leaf's validity, and 0 days left once any certificate of it expired.
    assert.deepEqual(second.ca_cert, []);
    assert.equal(second.cert_chain.length, 1);
    assert.deepEqual([second.cert_chain[0]!.path, second.cert_chain[0]!.days_until_expiration], ['/etc/weft/old.pem', '0']);
    assert.ok(Date.parse(second.cert_chain[0]!.expiration_time) < Date.now());
    assert.match(second.cert_chain[0]!.serial_number, /^[0-9a-f]+$/);
    assert.doesNotMatch(JSON.stringify(certificates), /PRIVATE KEY/);
  });

  it('leaves out a context whose secret has not arrived, and an SDS certificate until the local key completes it', () => {
    const secrets = createSecretStore();
    const context: CommonTlsContextConfig = { ...base, certificate: { kind: 'sds', name: 'default', ads: true } };
    assert.deepEqual(certificatesDump([context], secrets), { certificates: [] });
    secrets.update([{ name: 'default', tlsCertificate: { certificateChain: leaf.certPem } }]);
    assert.deepEqual(certificatesDump([context], secrets), { certificates: [] }, 'no key yet: the context cannot be used');
    secrets.setLocalKey(leaf.keyPem);
    assert.equal(certificatesDump([context], secrets).certificates[0]?.cert_chain.length, 1);
  });
});
