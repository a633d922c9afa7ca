/**
 * Test PKI made at test time (no key is ever committed): CAs and leaf
 * certificates with SPIFFE URI SANs, expired ones, and ones from other CAs.
 * ECDSA P-256 keys, signed with @peculiar/x509 on node's WebCrypto.
 */
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x509 } from '../../src/lib/x509.js';

const EC: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;

export interface KeyAndCert {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  /** URI SAN, e.g. spiffe://cluster.local/ns/default/sa/web. */
  spiffeId?: string;
  dnsNames?: string[];
  cn?: string;
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa extends KeyAndCert {
  issue(options: LeafOptions): Promise<KeyAndCert>;
  /** Signs a PEM CSR as a workload certificate (the CSR's SANs are copied). */
  signCsr(csrPem: string, options?: Omit<LeafOptions, 'cn'>): Promise<string>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function createTestCa(name = 'Weft Test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 30 * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const sign = async (publicKey: CryptoKey | InstanceType<typeof x509.PublicKey>, subject: string, options: LeafOptions): Promise<string> => {
    const names: Array<{ type: 'url' | 'dns'; value: string }> = [];
    if (options.spiffeId !== undefined) names.push({ type: 'url', value: options.spiffeId });
    for (const dns of options.dnsNames ?? []) names.push({ type: 'dns', value: dns });
    const cert = await x509.X509CertificateGenerator.create({
      subject,
      issuer: ca.subject,
      publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: SIGN,
      notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
      notAfter: options.notAfter ?? new Date(Date.now() + DAY_MS),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names, options.spiffeId !== undefined && options.cn === undefined)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
      ],
    });
    return cert.toString('pem');
  };
  return {
    certPem: ca.toString('pem'),
    keyPem: await keyPem(keys.privateKey),
    async issue(options) {
      const leafKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
      const subject = options.cn !== undefined ? `CN=${options.cn}` : '';
      return { certPem: await sign(leafKeys.publicKey, subject, options), keyPem: await keyPem(leafKeys.privateKey) };
    },
    async signCsr(csrPem, options = {}) {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) throw new Error('CSR signature does not verify');
      const san = csr.getExtension('2.5.29.17');
      const names = san === null ? [] : new x509.SubjectAlternativeNameExtension(san.rawData).names.items;
      const spiffeId = options.spiffeId ?? names.find((n) => n.type === 'url')?.value;
      return sign(csr.publicKey, csr.subject, { ...options, ...(spiffeId !== undefined ? { spiffeId } : {}) });
    },
  };
}

/** A temporary directory for PEM files; `cleanup()` removes it. */
export function pemDir(): { dir: string; write(name: string, pem: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'weft-pki-'));
  return {
    dir,
    write(name, pem) {
      const path = join(dir, name);
      writeFileSync(path, pem, { mode: 0o600 });
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
