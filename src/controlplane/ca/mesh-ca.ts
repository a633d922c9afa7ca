/**
 * The mesh CA as the control plane runs it: its state in the store
 * (records.ts), the identity check before signing, renewal and rotation.
 *
 * Signing: a proxy sends a CSR (it keeps the key) with a credential — its
 * workload's registration token, or its current certificate — and gets a
 * certificate for exactly its workload's SPIFFE ID. The result is also kept as
 * an IssuedCertificate, which SDS serves and the CA can re-issue for the same
 * public key.
 *
 * Background work (leader only, every `sweepIntervalMs`): activate a pending
 * root, drop retired anchors whose overlap window ended, re-issue certificates
 * past half their lifetime or signed by an older root.
 *
 * Rotation (`weft ca rotate`) is two-phase so no peer ever sees a certificate
 * it cannot verify: the new root first joins the trust bundle (pending), and
 * only after `activationDelayMs` (time for every proxy to get the bundle over
 * SDS) does it sign; the old root stays trusted for `overlapMs` more.
 */
import type { Logger } from 'pino';
import type { MeshSpec } from '../model/mesh.js';
import { durationMs } from '../model/duration.js';
import type { Resource } from '../model/resource.js';
import type { Store } from '../store/store.js';
import { ConflictError } from '../store/store.js';
import {
  checkCsr, checkSigningMaterial, createSigner, generateRoot, summarizeCertificate, trustAnchorPem, verifyClientCertificate,
  type CertificateSummary, type Signer, type SigningMaterial,
} from './authority.js';
import { CONTROL_PLANE_NAMESPACE, DEFAULT_TRUST_DOMAIN, spiffeId } from './identity.js';
import {
  CA_RECORD_KEY, caRecord, ISSUED_CERTIFICATE_KIND, issuedCertificateRecord, trustBundleOf,
  type CaRecordSpec, type IssuedCertificateSpec,
} from './records.js';
import { newTokenSecret, tokenClaim, tokenMatches, workloadToken } from './tokens.js';

export const DEFAULT_CERTIFICATE_LIFETIME_MS = 24 * 3_600_000;
export const DEFAULT_OVERLAP_MS = 24 * 3_600_000;
export const DEFAULT_ACTIVATION_DELAY_MS = 10_000;
const DEFAULT_SWEEP_INTERVAL_MS = 30_000;
/** The shortest certificate the CA issues (renewal at half-life must not spin). */
const MIN_LIFETIME_MS = 60_000;

/** Why a request was refused; the gRPC status and the counter label derive from it. */
export type CaRejection = 'invalid_csr' | 'unauthenticated' | 'wrong_identity' | 'unknown_workload' | 'unavailable';

export class CaRequestError extends Error {
  constructor(readonly rejection: CaRejection, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaRequestError';
  }
}

export interface MeshCaOptions {
  store: Store;
  log: Logger;
  /** An operator's CA; when absent the CA generates (or reuses the stored) self-signed root. */
  files?: SigningMaterial;
  /** Lifetime when the Mesh sets none. */
  defaultLifetimeMs?: number;
  isLeader?: () => boolean;
  sweepIntervalMs?: number;
  activationDelayMs?: number;
  now?: () => number;
}

export interface SignRequest {
  csrPem: string;
  /** The workload the proxy fronts; with a token, taken from the token when absent. */
  namespace?: string;
  workload?: string;
  /** The workload's registration token. */
  token?: string;
  /** The proxy's current certificate, DER (mTLS client certificate on renewal). */
  peerCertificateDer?: Uint8Array;
  /** A shorter lifetime than the mesh's, if the proxy wants one. */
  validitySeconds?: number;
}

export interface SignResult {
  spiffeId: string;
  certificateChainPem: string;
  trustBundlePem: string;
  expiresAt: string;
}

export interface CaStatus {
  trustDomain: string;
  source: 'generated' | 'files';
  root: CertificateSummary;
  /** A root waiting to sign (rotation phase one), with when it starts. */
  pending?: CertificateSummary & { activateAt: string };
  /** Older roots still in the trust bundle, with when they leave it. */
  retired: Array<CertificateSummary & { retireAt: string }>;
  certificateLifetime: string;
  stats: CaStats;
  /** Every root in the trust bundle, PEM: what a proxy trusts the control plane's mTLS port with (`weft ca show --bundle`). */
  trustBundlePem: string;
}

export interface IdentityStatus {
  namespace: string;
  workload: string;
  spiffeId: string;
  certificate?: { chainPem: string; notBefore: string; notAfter: string; fingerprintSha256: string };
  /** Only when asked for (admin). */
  token?: string;
}

/** Counters, one typed list (STYLE.md 13). */
export const CA_STATS = ['issued', 'reissued', 'rotations', ...(['invalid_csr', 'unauthenticated', 'wrong_identity', 'unknown_workload', 'unavailable'] satisfies CaRejection[]).map((r) => `rejected_${r}` as const)] as const;
export type CaStats = Record<(typeof CA_STATS)[number], number>;

export interface MeshCa {
  /** Loads the stored CA or creates it (one replica wins the race; the others adopt its root). */
  start(): Promise<void>;
  sign(request: SignRequest): Promise<SignResult>;
  status(): Promise<CaStatus>;
  identity(namespace: string, workload: string, withToken: boolean): Promise<IdentityStatus>;
  rotate(overlapMs?: number): Promise<CaStatus>;
  /**
   * The control plane's own serving certificate (its xDS mTLS port): `serviceAccount` in the
   * `weft-system` namespace of the mesh's trust domain, for the key behind `csrPem`, with the
   * current trust bundle. Not a workload: no credential check, no IssuedCertificate record.
   */
  issueControlPlane(csrPem: string, serviceAccount: string): Promise<SignResult>;
  /** The certificates a client certificate may be issued by: every trust anchor, and an operator's intermediate. */
  clientIssuers(): Promise<string[]>;
  /** One background pass (tests call it directly). */
  sweep(): Promise<void>;
  stats(): CaStats;
  close(): void;
}

export function createMeshCa(options: MeshCaOptions): MeshCa {
  return new StoreBackedCa(options);
}

interface Loaded {
  spec: CaRecordSpec;
  resourceVersion: string;
}

class StoreBackedCa implements MeshCa {
  private readonly counters: CaStats = Object.fromEntries(CA_STATS.map((s) => [s, 0])) as CaStats;
  private signer: Signer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: MeshCaOptions) {
    this.now = options.now ?? Date.now;
    if (options.files !== undefined) checkSigningMaterial(options.files);
  }

  async start(): Promise<void> {
    const record = await this.ensureRecord();
    const root = summarizeCertificate(record.spec.anchors[0]!.certificatePem);
    this.options.log.info({ root: root.subject, fingerprint: root.fingerprintSha256, notAfter: root.notAfter, source: this.source() }, 'mesh CA ready');
    const interval = this.options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => {
        if (this.options.isLeader?.() === false || this.sweeping !== undefined) return;
        this.sweeping = this.sweep()
          .catch((err: unknown) => this.options.log.error({ err }, 'CA background pass failed'))
          .finally(() => (this.sweeping = undefined));
      }, interval);
      this.timer.unref();
    }
  }

  close(): void {
    clearInterval(this.timer);
  }

  stats(): CaStats {
    return { ...this.counters };
  }

  async sign(request: SignRequest): Promise<SignResult> {
    try {
      const result = await this.signChecked(request);
      this.counters.issued++;
      return result;
    } catch (err) {
      const rejection = err instanceof CaRequestError ? err.rejection : 'unavailable';
      this.counters[`rejected_${rejection}`]++;
      // The reason only: never the CSR, the token or a key.
      this.options.log.warn({ rejection, namespace: request.namespace, workload: request.workload, reason: (err as Error).message }, 'certificate request refused');
      throw err instanceof CaRequestError ? err : new CaRequestError('unavailable', `CA cannot sign now: ${(err as Error).message}`, { cause: err });
    }
  }

  private async signChecked(request: SignRequest): Promise<SignResult> {
    const claim = request.token === undefined ? undefined : tokenClaim(request.token);
    if (request.token !== undefined && claim === undefined) throw new CaRequestError('unauthenticated', 'token: not a workload registration token');
    const namespace = request.namespace ?? claim?.namespace;
    const name = request.workload ?? claim?.name;
    if (namespace === undefined || name === undefined) throw new CaRequestError('unauthenticated', 'no credential: send the workload registration token (or the current certificate with the workload name)');
    if (claim !== undefined && (claim.namespace !== namespace || claim.name !== name)) {
      throw new CaRequestError('wrong_identity', `token: is for workload ${claim.namespace}/${claim.name}, not ${namespace}/${name}`);
    }
    const workload = await this.identityHolder(namespace, name);
    const record = await this.load();
    const mesh = await this.mesh();
    const expected = spiffeId({ trustDomain: trustDomainOf(mesh), namespace, serviceAccount: workload.serviceAccount });

    if (request.token !== undefined) {
      if (!tokenMatches(request.token, record.spec.tokenSecret, namespace, name, workload.uid)) {
        throw new CaRequestError('unauthenticated', `token: not the registration token of workload ${namespace}/${name} (re-registered? fetch it again with weft identity ${name} --token)`);
      }
    } else if (request.peerCertificateDer !== undefined) {
      this.checkPeerCertificate(request.peerCertificateDer, record.spec, expected);
    } else {
      throw new CaRequestError('unauthenticated', 'no credential: send the workload registration token or present the current certificate');
    }

    let csr;
    try {
      csr = await checkCsr(request.csrPem);
    } catch (err) {
      throw new CaRequestError('invalid_csr', (err as Error).message, { cause: err });
    }
    const other = csr.uris.find((uri) => uri !== expected);
    if (other !== undefined) throw new CaRequestError('wrong_identity', `csr: asks for ${other}, but workload ${namespace}/${name} is ${expected}`);

    const lifetime = Math.max(MIN_LIFETIME_MS, Math.min(this.lifetimeMs(mesh), (request.validitySeconds ?? Infinity) * 1000));
    const spec = await this.issue(record.spec, expected, csr.publicKeyDer, lifetime);
    await this.options.store.put(issuedCertificateRecord(namespace, name, spec));
    return { spiffeId: expected, certificateChainPem: spec.certificateChainPem, trustBundlePem: trustBundleOf(record.spec), expiresAt: spec.notAfter };
  }

  async clientIssuers(): Promise<string[]> {
    return this.issuersOf((await this.load()).spec);
  }

  async issueControlPlane(csrPem: string, serviceAccount: string): Promise<SignResult> {
    const record = await this.load();
    const mesh = await this.mesh();
    const id = spiffeId({ trustDomain: trustDomainOf(mesh), namespace: CONTROL_PLANE_NAMESPACE, serviceAccount });
    const csr = await checkCsr(csrPem);
    const spec = await this.issue(record.spec, id, csr.publicKeyDer, this.lifetimeMs(mesh));
    return { spiffeId: id, certificateChainPem: spec.certificateChainPem, trustBundlePem: trustBundleOf(record.spec), expiresAt: spec.notAfter };
  }

  /**
   * Who may hold an identity: a Workload (its sidecar) or a Gateway (its edge proxy); they share one
   * name space per namespace, a Workload winning a clash. The token binds the holder's uid.
   */
  private async identityHolder(namespace: string, name: string): Promise<{ uid: string; serviceAccount: string }> {
    for (const kind of ['Workload', 'Gateway'] as const) {
      const holder = (await this.options.store.get({ kind, namespace, name })) as Resource<{ serviceAccount?: string }> | undefined;
      if (holder !== undefined) return { uid: holder.metadata.uid ?? '', serviceAccount: holder.spec.serviceAccount ?? 'default' };
    }
    throw new CaRequestError('unknown_workload', `workload ${namespace}/${name} is not registered (no Workload or Gateway of that name)`);
  }

  /** A renewal credential: a current certificate for exactly this identity, issued under a trusted anchor. */
  private checkPeerCertificate(der: Uint8Array, spec: CaRecordSpec, expected: string): void {
    let uris: string[];
    try {
      uris = verifyClientCertificate(der, this.issuersOf(spec), this.now());
    } catch (err) {
      throw new CaRequestError('unauthenticated', (err as Error).message, { cause: err });
    }
    if (!uris.includes(expected)) throw new CaRequestError('wrong_identity', `client certificate: is ${uris.join(', ') || 'no SPIFFE ID'}, not ${expected}`);
  }

  private issuersOf(spec: CaRecordSpec): string[] {
    return [...spec.anchors.map((a) => a.certificatePem), ...(this.options.files === undefined ? [] : [this.options.files.certificatePem])];
  }

  private async issue(spec: CaRecordSpec, id: string, publicKeyDer: Uint8Array<ArrayBuffer>, lifetimeMs: number): Promise<IssuedCertificateSpec> {
    const signer = await this.currentSigner(spec);
    const now = this.now();
    const chain = await signer.issue({ publicKeyDer, spiffeId: id, notBefore: new Date(now), notAfter: new Date(now + lifetimeMs) });
    const leaf = summarizeCertificate(chain);
    return {
      spiffeId: id,
      publicKey: Buffer.from(publicKeyDer).toString('base64'),
      certificateChainPem: chain,
      notBefore: new Date(now).toISOString(),
      notAfter: leaf.notAfter,
      anchorFingerprint: summarizeCertificate(spec.anchors[0]!.certificatePem).fingerprintSha256,
    };
  }

  private async currentSigner(spec: CaRecordSpec): Promise<Signer> {
    const material = this.options.files ?? spec.signing;
    if (material === undefined) throw new Error('the CA record has no signing key and no CA files were given');
    if (this.signer?.material.certificatePem !== material.certificatePem) this.signer = await createSigner(material);
    return this.signer;
  }

  async status(): Promise<CaStatus> {
    const { spec } = await this.load();
    const mesh = await this.mesh();
    const [current, ...older] = spec.anchors;
    return {
      trustDomain: trustDomainOf(mesh),
      source: this.source(),
      root: summarizeCertificate(current!.certificatePem),
      ...(spec.pending === undefined ? {} : { pending: { ...summarizeCertificate(spec.pending.signing.certificatePem), activateAt: spec.pending.activateAt } }),
      retired: older.map((a) => ({ ...summarizeCertificate(a.certificatePem), retireAt: a.retireAt ?? '' })),
      certificateLifetime: `${Math.round(this.lifetimeMs(mesh) / 1000)}s`,
      trustBundlePem: trustBundleOf(spec),
      stats: this.stats(),
    };
  }

  async identity(namespace: string, name: string, withToken: boolean): Promise<IdentityStatus> {
    const workload = await this.identityHolder(namespace, name);
    const mesh = await this.mesh();
    const issued = (await this.options.store.get({ kind: ISSUED_CERTIFICATE_KIND, namespace, name })) as Resource<IssuedCertificateSpec> | undefined;
    const status: IdentityStatus = { namespace, workload: name, spiffeId: spiffeId({ trustDomain: trustDomainOf(mesh), namespace, serviceAccount: workload.serviceAccount }) };
    if (issued !== undefined) {
      const leaf = summarizeCertificate(issued.spec.certificateChainPem);
      status.certificate = { chainPem: issued.spec.certificateChainPem, notBefore: leaf.notBefore, notAfter: leaf.notAfter, fingerprintSha256: leaf.fingerprintSha256 };
    }
    if (withToken) {
      const { spec } = await this.load();
      status.token = workloadToken(spec.tokenSecret, namespace, name, workload.uid);
    }
    return status;
  }

  async rotate(overlapMs: number = DEFAULT_OVERLAP_MS): Promise<CaStatus> {
    if (this.options.files !== undefined) throw new Error('the CA comes from files (--ca-cert/--ca-key): replace the files and restart the control plane to rotate');
    const { spec, resourceVersion } = await this.load();
    if (spec.pending !== undefined) throw new Error(`a rotation is already under way: the new root signs from ${spec.pending.activateAt}`);
    const mesh = await this.mesh();
    const signing = await generateRoot(trustDomainOf(mesh), new Date(this.now()));
    const activateAt = new Date(this.now() + (this.options.activationDelayMs ?? DEFAULT_ACTIVATION_DELAY_MS)).toISOString();
    await this.options.store.put(caRecord({ ...spec, pending: { signing, activateAt, overlapMs } }), resourceVersion);
    this.counters.rotations++;
    this.options.log.info({ fingerprint: summarizeCertificate(signing.certificatePem).fingerprintSha256, activateAt }, 'CA rotation started: new root added to the trust bundle');
    return this.status();
  }

  async sweep(): Promise<void> {
    let { spec, resourceVersion } = await this.load();
    const now = this.now();
    const next = advanceRecord(spec, now);
    if (next !== spec) {
      try {
        const stored = await this.options.store.put(caRecord(next), resourceVersion);
        ({ spec, resourceVersion } = { spec: next, resourceVersion: stored.metadata.resourceVersion ?? '' });
        this.options.log.info({ anchors: next.anchors.length }, 'CA trust bundle updated');
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        return; // another replica moved it; the next pass sees its state
      }
    }
    const anchor = summarizeCertificate(spec.anchors[0]!.certificatePem).fingerprintSha256;
    for (const issued of (await this.options.store.list({ kind: ISSUED_CERTIFICATE_KIND })) as Array<Resource<IssuedCertificateSpec>>) {
      const start = Date.parse(issued.spec.notBefore);
      const end = Date.parse(issued.spec.notAfter);
      const halfLife = start + (end - start) / 2;
      if (issued.spec.anchorFingerprint === anchor && now < halfLife) continue;
      const lifetime = this.lifetimeMs(await this.mesh());
      const renewed = await this.issue(spec, issued.spec.spiffeId, new Uint8Array(Buffer.from(issued.spec.publicKey, 'base64')), lifetime);
      await this.options.store.put(issuedCertificateRecord(issued.metadata.namespace, issued.metadata.name, renewed));
      this.counters.reissued++;
    }
  }

  private source(): CaStatus['source'] {
    return this.options.files === undefined ? 'generated' : 'files';
  }

  private lifetimeMs(mesh: MeshSpec | undefined): number {
    const configured = mesh?.mtls?.certificateLifetime;
    return configured === undefined ? (this.options.defaultLifetimeMs ?? DEFAULT_CERTIFICATE_LIFETIME_MS) : durationMs(configured);
  }

  private async mesh(): Promise<MeshSpec | undefined> {
    const meshes = await this.options.store.list({ kind: 'Mesh' });
    meshes.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    return meshes[0]?.spec as MeshSpec | undefined;
  }

  private async load(): Promise<Loaded> {
    const stored = await this.options.store.get(CA_RECORD_KEY);
    if (stored === undefined) throw new Error('the CA record is missing from the store (was the store wiped while running?)');
    return { spec: stored.spec as CaRecordSpec, resourceVersion: stored.metadata.resourceVersion ?? '' };
  }

  /** The stored record, created on first start; with CA files, their anchor becomes the current one. */
  private async ensureRecord(): Promise<Loaded> {
    const { store, files } = this.options;
    for (let attempt = 0; ; attempt++) {
      const stored = await store.get(CA_RECORD_KEY);
      try {
        if (stored === undefined) {
          const signing = files === undefined ? await generateRoot(trustDomainOf(await this.mesh()), new Date(this.now())) : undefined;
          const anchor = trustAnchorPem(files ?? signing!);
          const spec: CaRecordSpec = { anchors: [{ certificatePem: anchor }], tokenSecret: newTokenSecret(), ...(signing === undefined ? {} : { signing }) };
          const written = await store.put(caRecord(spec), '');
          return { spec, resourceVersion: written.metadata.resourceVersion ?? '' };
        }
        const spec = stored.spec as CaRecordSpec;
        const version = stored.metadata.resourceVersion ?? '';
        if (files === undefined || summarizeCertificate(spec.anchors[0]!.certificatePem).fingerprintSha256 === summarizeCertificate(trustAnchorPem(files)).fingerprintSha256) {
          if (files === undefined && spec.signing === undefined) throw new Error('the stored CA came from files (--ca-cert/--ca-key); start with the same files');
          return { spec, resourceVersion: version };
        }
        // New operator CA: it signs from now; the previous anchors stay trusted for the overlap window.
        const retireAt = new Date(this.now() + DEFAULT_OVERLAP_MS).toISOString();
        const next: CaRecordSpec = {
          anchors: [{ certificatePem: trustAnchorPem(files) }, ...spec.anchors.map((a) => ({ ...a, retireAt: a.retireAt ?? retireAt }))],
          tokenSecret: spec.tokenSecret,
        };
        const written = await store.put(caRecord(next), version);
        return { spec: next, resourceVersion: written.metadata.resourceVersion ?? '' };
      } catch (err) {
        // Another replica wrote first: read its record.
        if (!(err instanceof ConflictError) || attempt >= 3) throw err;
      }
    }
  }
}

/**
 * The record after the time-driven steps due at `now`: a pending root that is
 * due signs (the old anchors retire after the overlap), and retired anchors
 * past their time leave. Returns `spec` itself when nothing is due.
 */
export function advanceRecord(spec: CaRecordSpec, now: number): CaRecordSpec {
  let next = spec;
  const pending = spec.pending;
  if (pending !== undefined && now >= Date.parse(pending.activateAt)) {
    const retireAt = new Date(now + pending.overlapMs).toISOString();
    next = {
      anchors: [{ certificatePem: trustAnchorPem(pending.signing) }, ...spec.anchors.map((a) => ({ ...a, retireAt: a.retireAt ?? retireAt }))],
      signing: pending.signing,
      tokenSecret: spec.tokenSecret,
    };
  }
  const kept = next.anchors.filter((a, i) => i === 0 || a.retireAt === undefined || Date.parse(a.retireAt) > now);
  if (kept.length !== next.anchors.length) next = { ...next, anchors: kept };
  return next;
}

function trustDomainOf(mesh: MeshSpec | undefined): string {
  return mesh?.trustDomain ?? DEFAULT_TRUST_DOMAIN;
}
