/**
 * The ADS cluster's TLS, in the xDS agent: its UpstreamTlsContext's trusted CA
 * and SAN matchers verify the control plane (its SPIFFE ID on the mTLS port),
 * and the client certificate is one from the bootstrap or, named by SDS, the
 * proxy's own: the proxy sends it (with its key) after each CSR. The
 * certificate service is called with server authentication only (the
 * registration token authenticates the proxy); ADS with the client certificate.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SecretConfig, UpstreamTlsConfig } from '../config/types.js';
import { createStatsStore } from '../observe/stats-store.js';
import { createSecretStore } from '../tls/secret-store.js';
import { defineTlsStats, watchTlsContext, type TlsContextHandle, type TlsMaterials } from '../tls/tls-context.js';

export interface ControlPlaneTls {
  /** Verifies the control plane, presents no certificate (the certificate request). */
  serverAuthenticated(): grpc.ChannelCredentials | undefined;
  /** Mutual TLS (ADS); undefined until the client certificate is known. */
  mutual(): grpc.ChannelCredentials | undefined;
  /** The proxy's own certificate and key, for an ADS cluster whose certificate is an SDS name. */
  setIdentity(certificateChainPem: string, privateKeyPem: string): void;
}

export function controlPlaneTls(config: UpstreamTlsConfig, staticSecrets: readonly SecretConfig[], log: Logger): ControlPlaneTls {
  const store = createSecretStore();
  store.update(staticSecrets);
  const stats = defineTlsStats(createStatsStore().scope('xds_agent.'));
  const watch = (c: UpstreamTlsConfig): TlsContextHandle =>
    watchTlsContext(c, { store, stats, label: 'the ADS cluster transport_socket', onError: (message) => log.error(message) });
  const full = watch(config);
  const { certificate: _certificate, ...withoutCertificate } = config;
  const serverOnly = watch(withoutCertificate);
  const sdsName = config.certificate?.kind === 'sds' ? config.certificate.name : undefined;
  const cache = new WeakMap<TlsMaterials, grpc.ChannelCredentials>();

  const credentials = (materials: TlsMaterials | undefined): grpc.ChannelCredentials | undefined => {
    if (materials === undefined) return undefined;
    let made = cache.get(materials);
    if (made === undefined) {
      // The materials hold PEM strings (tls-context.ts builds them so).
      const pem = (value: unknown): Buffer | null => (typeof value === 'string' ? Buffer.from(value) : null);
      made = grpc.credentials.createSsl(pem(materials.options.ca), pem(materials.options.key), pem(materials.options.cert), {
        // The SPIFFE ID is the control plane's name; its host name is not checked (as for sidecars).
        checkServerIdentity: (_host, cert) => (materials.checkSan(cert) ? undefined : new Error(`the control plane's certificate (${cert.subjectaltname ?? 'no SANs'}) does not match the ADS cluster's match_typed_subject_alt_names`)),
      });
      cache.set(materials, made);
    }
    return made;
  };

  return {
    serverAuthenticated: () => credentials(serverOnly.current()),
    mutual: () => credentials(full.current()),
    setIdentity(certificateChainPem, privateKeyPem) {
      if (sdsName === undefined) return;
      store.update([...staticSecrets.filter((s) => s.name !== sdsName), { name: sdsName, tlsCertificate: { certificateChain: certificateChainPem, privateKey: privateKeyPem } }]);
    },
  };
}
