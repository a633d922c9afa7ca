import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { x509 } from '../../../src/lib/x509.js';
import { certificateLifetime, createLocalIdentity } from '../../../src/proxy/identity/local-identity.js';
import type { CertificateSigner } from '../../../src/proxy/identity/signer.js';
import { createSecretStore } from '../../../src/proxy/tls/secret-store.js';
import { createTestCa } from '../../support/pki.js';

test('the proxy key: a P-256 CSR naming the SPIFFE ID; the signed chain without a key is completed with the local key and serves TLS', async (t) => {
  const identity = await createLocalIdentity({ spiffeId: 'spiffe://cluster.local/ns/default/sa/web' });
  assert.match(identity.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  const csr = new x509.Pkcs10CertificateRequest(identity.csrPem);
  assert.ok(await csr.verify(), 'the CSR is signed with the key');
  assert.equal((csr.publicKey.algorithm as EcKeyAlgorithm).namedCurve, 'P-256');
  assert.match(identity.csrPem, /BEGIN CERTIFICATE REQUEST/);
  assert.doesNotMatch(identity.csrPem, /PRIVATE KEY/);

  const ca = await createTestCa();
  const signer: CertificateSigner = { sign: async (csrPem) => ({ certificateChainPem: await ca.signCsr(csrPem) }) };
  const { certificateChainPem } = await signer.sign(identity.csrPem);
  const { notBefore, notAfter } = await certificateLifetime(certificateChainPem);
  assert.ok(notAfter > notBefore);

  const store = createSecretStore();
  store.update([{ name: 'default', tlsCertificate: { certificateChain: certificateChainPem } }]);
  assert.equal(store.get('default'), undefined, 'unusable until the proxy has its key');
  let notified = 0;
  store.watch('default', () => notified++);
  store.setLocalKey(identity.privateKeyPem);
  assert.equal(notified, 1);
  const secret = store.get('default')!;
  assert.equal(secret.tlsCertificate!.privateKey, identity.privateKeyPem);
  assert.deepEqual(store.dump(), [{ name: 'default', kind: 'tls_certificate', localKey: true }]);

  const server = tls.createServer({ cert: secret.tlsCertificate!.certificateChain, key: secret.tlsCertificate!.privateKey }, (s) => s.end('hi'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const client = tls.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', ca: ca.certPem, checkServerIdentity: () => undefined });
  await once(client, 'secureConnect');
  assert.equal(client.authorized, true);
  assert.match(client.getPeerCertificate().subjectaltname ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/web/);
  client.destroy();
});
