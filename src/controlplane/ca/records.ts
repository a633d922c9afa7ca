/**
 * How the CA keeps its state in the resource store, so every replica on etcd
 * signs with the same root and serves the same trust bundle: two internal kinds
 * that the API never serves (they are not in model/kinds.ts, and the API's
 * watch-all stream filters them out).
 *
 * - `CertificateAuthority` (cluster scope, name `mesh`): the trust bundle (the
 *   current anchor first, then retired ones with the time they leave it), the
 *   generated root's key when the CA is not from files, and the secret that
 *   derives workload registration tokens.
 * - `IssuedCertificate` (per Workload, same namespace and name): the latest
 *   certificate issued to that workload's proxy and its public key, so SDS can
 *   serve it and the CA can re-issue it (renewal, rotation) without a new CSR.
 */
import type { Resource } from '../model/resource.js';
import type { SigningMaterial } from './authority.js';

export const CA_API_VERSION = 'internal.weft.dev/v1';
export const CA_KIND = 'CertificateAuthority';
export const ISSUED_CERTIFICATE_KIND = 'IssuedCertificate';
export const CA_RECORD_NAME = 'mesh';
export const CA_RECORD_KEY = { kind: CA_KIND, namespace: '', name: CA_RECORD_NAME } as const;

/** Kinds only the control plane reads and writes; never served by the API. */
export const INTERNAL_KINDS: ReadonlySet<string> = new Set([CA_KIND, ISSUED_CERTIFICATE_KIND]);

export interface TrustAnchor {
  certificatePem: string;
  /** Set on retired anchors: when the leader drops it from the bundle (RFC 3339). */
  retireAt?: string;
}

export interface CaRecordSpec {
  /** anchors[0] is the anchor the current signer chains to. */
  anchors: TrustAnchor[];
  /** The generated root (absent when the CA comes from files: the operator's key never enters the store). */
  signing?: SigningMaterial;
  /** Rotation phase one: a new generated root in the trust bundle that signs from `activateAt`. */
  pending?: { signing: SigningMaterial; activateAt: string; overlapMs: number };
  /** base64url; HMAC key of the registration tokens. */
  tokenSecret: string;
}

export interface IssuedCertificateSpec {
  spiffeId: string;
  /** SubjectPublicKeyInfo of the proxy's key, base64 DER. */
  publicKey: string;
  /** Leaf first, then intermediates. */
  certificateChainPem: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 fingerprint of the anchor the chain leads to. */
  anchorFingerprint: string;
}

export function caRecord(spec: CaRecordSpec, resourceVersion?: string): Resource<CaRecordSpec> {
  return { apiVersion: CA_API_VERSION, kind: CA_KIND, metadata: { name: CA_RECORD_NAME, namespace: '', ...(resourceVersion === undefined ? {} : { resourceVersion }) }, spec };
}

export function issuedCertificateRecord(namespace: string, workload: string, spec: IssuedCertificateSpec): Resource<IssuedCertificateSpec> {
  return { apiVersion: CA_API_VERSION, kind: ISSUED_CERTIFICATE_KIND, metadata: { name: workload, namespace }, spec };
}

/** The trust bundle of a CA record: every anchor (current first, then a pending root, then retired ones), one PEM bundle. */
export function trustBundleOf(spec: CaRecordSpec): string {
  const [current, ...retired] = spec.anchors.map((a) => a.certificatePem.trim());
  const pending = spec.pending === undefined ? [] : [spec.pending.signing.certificatePem.trim()];
  return [current!, ...pending, ...retired].join('\n') + '\n';
}
