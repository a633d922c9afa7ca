/**
 * The control plane's own identity, for its xDS mTLS port (15012, like
 * istiod's): a key made here and kept in memory only, and a certificate from
 * the mesh CA for spiffe://<trust domain>/ns/weft-system/sa/weft-controlplane.
 * It is renewed at half its life and whenever the CA's trust anchors change (a
 * rotation), and reaches gRPC through a CertificateProvider, so new handshakes
 * use the new one without a restart.
 *
 * The handshake asks every client for a certificate but lets one without in:
 * the certificate service authenticates those by their registration token.
 * Calls that need a certificate (ADS) check it with `verifyPeer`, synchronously,
 * against the issuers cached by the last refresh.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createLocalIdentity } from '../../proxy/identity/local-identity.js';
import { summarizeCertificate, verifyClientCertificate } from './authority.js';
import { CONTROL_PLANE_SERVICE_ACCOUNT } from './identity.js';
import type { MeshCa } from './mesh-ca.js';

/** How often the CA is looked at again: a rotation or a new trust domain shows up within this. */
const REFRESH_INTERVAL_MS = 5_000;

type CertificateProvider = grpc.experimental.CertificateProvider;
type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

/**
 * grpc-js's certificate provider interface over values set from here. A new listener gets the
 * current values on the next tick: grpc-js registers its server's watcher only after adding the
 * listener, so a value delivered synchronously would never reach the server.
 */
class MemoryCertificateProvider implements CertificateProvider {
  private ca: grpc.experimental.CaCertificateUpdate | null = null;
  private identity: grpc.experimental.IdentityCertificateUpdate | null = null;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  set(caPem: string, certificatePem: string, privateKeyPem: string): void {
    this.ca = { caCertificate: Buffer.from(caPem) };
    this.identity = { certificate: Buffer.from(certificatePem), privateKey: Buffer.from(privateKeyPem) };
    for (const listener of this.caListeners) listener(this.ca);
    for (const listener of this.identityListeners) listener(this.identity);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    setImmediate(() => this.caListeners.has(listener) && this.ca !== null && listener(this.ca));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    setImmediate(() => this.identityListeners.has(listener) && this.identity !== null && listener(this.identity));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}

export interface ControlPlaneIdentity {
  /** Server credentials for the mTLS port: client certificates requested, not required. */
  readonly credentials: grpc.ServerCredentials;
  /** A client certificate (DER) checked against the mesh CA: its URI SANs, or why it is refused. */
  verifyPeer(der: Uint8Array): { uris: string[] } | { error: string };
  close(): void;
}

export async function startControlPlaneIdentity(ca: MeshCa, log: Logger, now: () => number = Date.now): Promise<ControlPlaneIdentity> {
  const provider = new MemoryCertificateProvider();
  let issuers: string[] = [];
  /** `anchors`: the trust domain and the issuers the certificate was made under. */
  let current: { renewAt: number; anchors: string } | undefined;
  let refreshing = false;

  const refresh = async (): Promise<void> => {
    issuers = await ca.clientIssuers();
    // The trust domain is the Mesh's: applying one (or changing it) renames the control plane.
    const anchors = `${(await ca.status()).trustDomain}\n${issuers.join('')}`;
    if (current !== undefined && current.anchors === anchors && now() < current.renewAt) return;
    const key = await createLocalIdentity({ commonName: CONTROL_PLANE_SERVICE_ACCOUNT });
    const issued = await ca.issueControlPlane(key.csrPem, CONTROL_PLANE_SERVICE_ACCOUNT);
    const { notBefore, notAfter } = summarizeCertificate(issued.certificateChainPem);
    const from = Date.parse(notBefore);
    current = { renewAt: from + (Date.parse(notAfter) - from) / 2, anchors };
    provider.set(issued.trustBundlePem, issued.certificateChainPem, key.privateKeyPem);
    log.info({ spiffeId: issued.spiffeId, notAfter }, 'control plane certificate issued for the xDS mTLS port');
  };
  await refresh();
  const timer = setInterval(() => {
    if (refreshing) return; // a slow store: one refresh at a time
    refreshing = true;
    void refresh()
      .catch((err: unknown) => log.error({ err }, 'control plane certificate refresh failed'))
      .finally(() => (refreshing = false));
  }, REFRESH_INTERVAL_MS);
  timer.unref();

  return {
    credentials: grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false),
    verifyPeer(der) {
      try {
        return { uris: verifyClientCertificate(der, issuers, now()) };
      } catch (err) {
        return { error: (err as Error).message };
      }
    },
    close: () => clearInterval(timer),
  };
}
