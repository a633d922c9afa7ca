/**
 * The signing half of the mesh CA, on WebCrypto through @peculiar/x509: make a
 * self-signed root, load an operator's root or intermediate, check a CSR, and
 * issue a workload certificate whose only name is its SPIFFE ID (a URI SAN,
 * critical, empty subject, as SPIFFE's X.509-SVID spec asks). Pure crypto: who
 * may get which identity is decided by the caller (certificate-service.ts).
 */
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeCertificate } from 'node:crypto';

type X509 = (typeof import('../../lib/x509.js'))['x509'];

/** @peculiar/x509 is large: loaded on first use, so a control plane restarting with a stored root starts without it. */
async function loadX509(): Promise<X509> {
  return (await import('../../lib/x509.js')).x509;
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const HOUR_MS = 3_600_000;
/** A generated root lives ten years; rotation (`weft ca rotate`) replaces it sooner. */
export const ROOT_LIFETIME_MS = 10 * 365 * 24 * HOUR_MS;
/** Leaves start a little in the past so a peer with a slightly slow clock accepts them. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** What a CA signs with. `chainPem`: the certificates above `certificatePem`, up to and including the trust anchor (empty for a root). */
export interface SigningMaterial {
  certificatePem: string;
  privateKeyPem: string;
  chainPem: string;
}

/** A request the CA refuses: a malformed or badly signed CSR, a wrong key. */
export class CertificateRequestError extends Error {
  constructor(readonly reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'CertificateRequestError';
  }
}

/** A new self-signed ECDSA P-256 root for `trustDomain`. */
export async function generateRoot(trustDomain: string, now: Date = new Date()): Promise<SigningMaterial> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `O=Weft, OU=${trustDomain}, CN=Weft mesh root ${now.toISOString()}`,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certificatePem: certificate.toString('pem'), privateKeyPem: pemEncode('PRIVATE KEY', Buffer.from(pkcs8)), chainPem: '' };
}

/**
 * Checks an operator's CA files: the certificate is a CA, the key is its key,
 * and the chain (when given) links it to a self-signed anchor. Throws with the
 * file's role in the message.
 */
export function checkSigningMaterial(material: SigningMaterial): void {
  const certificate = parseCertificate(material.certificatePem, 'CA certificate');
  if (!certificate.ca) throw new Error('CA certificate: is not a CA certificate (basicConstraints CA:TRUE missing)');
  let key;
  try {
    key = createPrivateKey(material.privateKeyPem);
  } catch (err) {
    throw new Error(`CA key: not a PEM private key: ${(err as Error).message}`, { cause: err });
  }
  if (!certificate.checkPrivateKey(key)) throw new Error('CA key: does not belong to the CA certificate');
  let child = certificate;
  for (const [i, pem] of splitPem(material.chainPem).entries()) {
    const parent = parseCertificate(pem, `CA chain certificate ${i + 1}`);
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) throw new Error(`CA chain: certificate ${i + 1} (${parent.subject}) did not issue ${child.subject}`);
    child = parent;
  }
  if (!child.checkIssued(child)) throw new Error(`CA chain: ends at ${child.subject}, which is not self-signed; give the chain up to the root with --ca-chain`);
}

/** The self-signed certificate at the top of a signing path: what peers must trust. */
export function trustAnchorPem(material: SigningMaterial): string {
  return splitPem(material.chainPem).at(-1) ?? normalizePem(material.certificatePem);
}

/** The certificates a leaf is sent with: the signing certificate and the chain, without the anchor. */
export function intermediatesPem(material: SigningMaterial): string[] {
  const path = [normalizePem(material.certificatePem), ...splitPem(material.chainPem)];
  return path.slice(0, -1);
}

export interface CheckedRequest {
  /** SubjectPublicKeyInfo, DER. */
  publicKeyDer: Uint8Array<ArrayBuffer>;
  /** The URI SANs the CSR asks for. */
  uris: string[];
}

/** Parses a PKCS#10 CSR and checks its self-signature (proof the requester holds the key). */
export async function checkCsr(csrPem: string): Promise<CheckedRequest> {
  const x509 = await loadX509();
  let csr: InstanceType<X509['Pkcs10CertificateRequest']>;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new CertificateRequestError(`csr: not a PEM PKCS#10 certificate request (${(err as Error).message})`, { cause: err });
  }
  let valid = false;
  try {
    valid = await csr.verify();
  } catch (err) {
    throw new CertificateRequestError(`csr: cannot check its signature (${(err as Error).message})`, { cause: err });
  }
  if (!valid) throw new CertificateRequestError('csr: bad signature (the request was not signed by the key it carries)');
  const san = csr.extensions.find((e): e is InstanceType<X509['SubjectAlternativeNameExtension']> => e instanceof x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
  return { publicKeyDer: new Uint8Array(csr.publicKey.rawData), uris };
}

export interface LeafRequest {
  publicKeyDer: Uint8Array<ArrayBuffer>;
  spiffeId: string;
  notBefore: Date;
  notAfter: Date;
}

/** Issues leaves with one signing certificate and key (imported once). */
export interface Signer {
  readonly material: SigningMaterial;
  /** PEM: the leaf, then the intermediates (not the anchor). */
  issue(request: LeafRequest): Promise<string>;
}

export async function createSigner(material: SigningMaterial): Promise<Signer> {
  const x509 = await loadX509();
  const issuer = new x509.X509Certificate(material.certificatePem);
  const { key, algorithm } = await importSigningKey(material.privateKeyPem);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey);
  const tail = intermediatesPem(material);
  return {
    material,
    async issue({ publicKeyDer, spiffeId, notBefore, notAfter }) {
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: '',
        issuer: issuer.subjectName,
        notBefore: new Date(Math.max(notBefore.getTime() - CLOCK_SKEW_MS, issuer.notBefore.getTime())),
        notAfter: new Date(Math.min(notAfter.getTime(), issuer.notAfter.getTime())),
        publicKey: new Uint8Array(publicKeyDer),
        signingKey: key,
        signingAlgorithm: algorithm,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
          authorityKeyId,
          // Critical: the subject is empty, so the SAN is the certificate's only name (RFC 5280 4.2.1.6).
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
        ],
      });
      return [leaf.toString('pem'), ...tail].join('\n') + '\n';
    },
  };
}

async function importSigningKey(pem: string): Promise<{ key: CryptoKey; algorithm: Algorithm | EcdsaParams }> {
  const keyObject = createPrivateKey(pem);
  const der = keyObject.export({ format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[keyObject.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve === undefined) throw new Error(`CA key: EC curve ${keyObject.asymmetricKeyDetails?.namedCurve} is not supported (P-256, P-384, P-521)`);
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { key, algorithm: { name: 'ECDSA', hash: curve === 'P-256' ? 'SHA-256' : 'SHA-384' } as EcdsaParams };
  }
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  }
  throw new Error(`CA key: ${keyObject.asymmetricKeyType} keys are not supported (EC or RSA)`);
}

/** What `weft ca show` prints about a certificate (nothing secret). */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of the DER, colon-separated hex (openssl's `-fingerprint -sha256` form). */
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  uris: string[];
}

export function summarizeCertificate(pem: string): CertificateSummary {
  const certificate = parseCertificate(pem, 'certificate');
  return {
    subject: (certificate.subject ?? '').replaceAll('\n', ', '),
    issuer: certificate.issuer.replaceAll('\n', ', '),
    serialNumber: certificate.serialNumber,
    fingerprintSha256: certificate.fingerprint256,
    notBefore: new Date(certificate.validFrom).toISOString(),
    notAfter: new Date(certificate.validTo).toISOString(),
    uris: (certificate.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4)),
  };
}

/**
 * A client's certificate checked the way the CA trusts it: parseable, valid at `now`, and issued
 * (signature verified) by one of `issuersPem` (trust anchors, an operator's intermediate). Returns
 * its URI SANs; throws with the reason otherwise. Synchronous, for per-call checks.
 */
export function verifyClientCertificate(der: Uint8Array, issuersPem: readonly string[], now: number): string[] {
  let peer: NodeCertificate;
  try {
    peer = new NodeCertificate(der);
  } catch (err) {
    throw new Error('client certificate: cannot be parsed', { cause: err });
  }
  if (now < Date.parse(peer.validFrom) || now > Date.parse(peer.validTo)) throw new Error(`client certificate: not valid now (valid ${peer.validFrom} to ${peer.validTo})`);
  const trusted = issuersPem.some((pem) => {
    const issuer = parseCertificate(pem, 'trust anchor');
    return peer.checkIssued(issuer) && peer.verify(issuer.publicKey);
  });
  if (!trusted) throw new Error('client certificate: not issued by this mesh CA');
  return summarizeCertificate(peer.toString()).uris;
}

/** The public key of a private key, SPKI DER (to check a key pairs with a certificate). */
export function publicKeyDerOf(privateKeyPem: string): Uint8Array {
  return new Uint8Array(createPublicKey(privateKeyPem).export({ format: 'der', type: 'spki' }));
}

export function parseCertificate(pem: string, role: string): NodeCertificate {
  try {
    return new NodeCertificate(pem);
  } catch (err) {
    throw new Error(`${role}: not a PEM X.509 certificate (${(err as Error).message})`, { cause: err });
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each certificate of a PEM bundle, normalized (one per entry). */
export function splitPem(bundle: string): string[] {
  return (bundle.match(PEM_BLOCK) ?? []).map(normalizePem);
}

function normalizePem(pem: string): string {
  const block = pem.match(PEM_BLOCK)?.[0];
  if (block === undefined) throw new Error('expected a PEM certificate');
  return block;
}

function pemEncode(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** 16 random bytes, top bit clear so the DER integer stays positive (RFC 5280: at most 20 octets). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return bytes.toString('hex');
}
