/**
 * The proxy's own key: an ECDSA P-256 key generated in the proxy process at
 * start, kept in memory only, and a PKCS#10 CSR for it naming the proxy's
 * SPIFFE ID (URI SAN). SDS `tls_certificate` secrets that come without a
 * private key are completed with this key (tls/secret-store.ts), so a
 * control plane only ever sees the CSR and the certificate.
 *
 * @peculiar/x509 is loaded on first use, so proxies that never need a key do
 * not carry it.
 */
import { webcrypto } from 'node:crypto';

export interface LocalIdentity {
  /** PKCS#8 PEM; never logged, dumped or sent. */
  readonly privateKeyPem: string;
  /** PEM CSR for the key, signed with it. */
  readonly csrPem: string;
}

export interface LocalIdentityOptions {
  /** The URI SAN to ask for, e.g. spiffe://cluster.local/ns/default/sa/web. */
  spiffeId?: string;
  /** Subject CN, default the SPIFFE ID's last segment or "weft-proxy". */
  commonName?: string;
}

const EC_P256: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export async function createLocalIdentity(options: LocalIdentityOptions = {}): Promise<LocalIdentity> {
  const { x509 } = await import('../../lib/x509.js');
  const keys = (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  const commonName = options.commonName ?? options.spiffeId?.split('/').pop() ?? 'weft-proxy';
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName.replace(/[,+="\\<>;]/g, '_')}`,
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: options.spiffeId === undefined ? [] : [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: options.spiffeId }])],
  });
  return { privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

/** Seconds until a PEM certificate's notAfter (the leaf, first in the chain); for renewal at half life. */
export async function certificateLifetime(chainPem: string): Promise<{ notBefore: Date; notAfter: Date }> {
  const { x509 } = await import('../../lib/x509.js');
  const leaf = new x509.X509Certificate(chainPem.slice(0, chainPem.indexOf('-----END CERTIFICATE-----') + 25));
  return { notBefore: leaf.notBefore, notAfter: leaf.notAfter };
}
