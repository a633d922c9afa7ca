/**
 * Mutual TLS between sidecars, per `Mesh.spec.mtls.mode`, and the SDS secrets
 * that carry the certificates.
 *
 * - No Mesh resource, or DISABLED: plaintext (nothing here applies).
 * - STRICT: the sidecar's inbound listener has one filter chain with a
 *   DownstreamTlsContext that requires a client certificate of this trust domain.
 * - PERMISSIVE: the TLS inspector tells TLS from plaintext; a TLS chain (as
 *   STRICT) and a raw_buffer chain serve the same filter.
 * - Outbound clusters of a service whose every workload has a sidecar
 *   (`Workload.spec.inboundPort`) get an UpstreamTlsContext that presents the
 *   proxy's certificate and accepts only the SPIFFE IDs of that service's
 *   workloads (STRICT and PERMISSIVE alike: the server side accepts mTLS in both).
 *
 * Certificates come over SDS: `default` (the proxy's chain; its key never
 * leaves the proxy) and `ROOTCA` (the trust bundle, two roots during rotation).
 */
import { spiffeId } from '../ca/identity.js';
import { trustBundleOf, type CaRecordSpec, type IssuedCertificateSpec } from '../ca/records.js';
import type { MtlsMode } from '../model/mesh.js';
import type { ServiceSpec } from '../model/service.js';
import type { WorkloadSpec } from '../model/workload.js';
import {
  DOWNSTREAM_TLS_CONTEXT_TYPE_URL, TLS_INSPECTOR_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL,
} from '../../proxy/config/type-urls.js';
import { adsConfigSource, type JsonObject } from './envoy-values.js';
import type { Named, ServicePort } from './mesh-view.js';
import { serviceFqdn } from './names.js';

/** The SDS secret names Istio uses, so Envoy-side tooling recognises them. */
export const SDS_CERTIFICATE = 'default';
export const SDS_TRUST_BUNDLE = 'ROOTCA';

const TLS_TRANSPORT_SOCKET = 'envoy.transport_sockets.tls';
const TLS_INSPECTOR = 'envoy.filters.listener.tls_inspector';
/** Weft's upstream and inbound connection manager speak HTTP/1.1. */
const HTTP_ALPN = ['http/1.1'];

export interface MtlsSettings {
  mode: MtlsMode;
  trustDomain: string;
}

/** Whether proxies use mTLS at all (no Mesh resource: plaintext, as before the Mesh existed). */
export function mtlsEnabled(settings: MtlsSettings | undefined): settings is MtlsSettings {
  return settings !== undefined && settings.mode !== 'DISABLED';
}

function sdsSecret(name: string): JsonObject {
  return { name, sds_config: adsConfigSource() };
}

/** The SPIFFE ID of a workload in a trust domain. */
export function workloadSpiffeId(workload: Named<WorkloadSpec>, trustDomain: string): string {
  return spiffeId({ trustDomain, namespace: workload.namespace, serviceAccount: workload.spec.serviceAccount ?? 'default' });
}

/** A service is reached over mTLS when each of its workloads (at least one) runs a sidecar. */
export function reachedThroughSidecars(workloads: ReadonlyArray<Named<WorkloadSpec>>): boolean {
  return workloads.length > 0 && workloads.every((w) => w.spec.inboundPort !== undefined);
}

/** The transport socket of an outbound cluster: present `default`, verify ROOTCA and the service's identities. */
export function upstreamTlsSocket(service: Named<ServiceSpec>, port: ServicePort, workloads: ReadonlyArray<Named<WorkloadSpec>>, trustDomain: string): JsonObject {
  const identities = [...new Set(workloads.map((w) => workloadSpiffeId(w, trustDomain)))].sort();
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': UPSTREAM_TLS_CONTEXT_TYPE_URL,
      // Istio's SNI for a service port, so an inspecting peer can tell services apart.
      sni: `outbound_.${port.port}_._.${serviceFqdn(service.name, service.namespace)}`,
      common_tls_context: {
        tls_certificate_sds_secret_configs: [sdsSecret(SDS_CERTIFICATE)],
        combined_validation_context: {
          default_validation_context: { match_typed_subject_alt_names: identities.map((id) => ({ san_type: 'URI', matcher: { exact: id } })) },
          validation_context_sds_secret_config: sdsSecret(SDS_TRUST_BUNDLE),
        },
        alpn_protocols: port.protocol === 'http' ? HTTP_ALPN : undefined,
      },
    },
  };
}

/** The inbound transport socket: present `default`, require a client certificate from this trust domain. */
function downstreamTlsSocket(trustDomain: string, http: boolean): JsonObject {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typed_config: {
      '@type': DOWNSTREAM_TLS_CONTEXT_TYPE_URL,
      require_client_certificate: true,
      common_tls_context: {
        tls_certificate_sds_secret_configs: [sdsSecret(SDS_CERTIFICATE)],
        combined_validation_context: {
          default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: `spiffe://${trustDomain}/` } }] },
          validation_context_sds_secret_config: sdsSecret(SDS_TRUST_BUNDLE),
        },
        alpn_protocols: http ? HTTP_ALPN : undefined,
      },
    },
  };
}

/** The sidecar's inbound listener with TLS per the mode (its one plaintext filter chain becomes one or two chains). */
export function secureInboundListener(listener: JsonObject, settings: MtlsSettings): JsonObject {
  if (!mtlsEnabled(settings)) return listener;
  const [chain] = listener['filter_chains'] as JsonObject[];
  const filters = chain!['filters'] as JsonObject[];
  const http = filters.some((f) => f['name'] === 'envoy.filters.network.http_connection_manager');
  const tls: JsonObject = { name: 'inbound-mtls', filters, transport_socket: downstreamTlsSocket(settings.trustDomain, http) };
  if (settings.mode === 'STRICT') return { ...listener, filter_chains: [tls] };
  return {
    ...listener,
    listener_filters: [{ name: TLS_INSPECTOR, typed_config: { '@type': TLS_INSPECTOR_TYPE_URL } }],
    filter_chains: [
      { ...tls, filter_chain_match: { transport_protocol: 'tls' } },
      { name: 'inbound-plaintext', filter_chain_match: { transport_protocol: 'raw_buffer' }, filters },
    ],
  };
}

/** A proxy's SDS secrets: the trust bundle, and its certificate chain once the CA issued one (never a key). */
export function proxySecrets(ca: CaRecordSpec | undefined, issued: IssuedCertificateSpec | undefined): JsonObject[] {
  if (ca === undefined) return [];
  const secrets: JsonObject[] = [{ name: SDS_TRUST_BUNDLE, validation_context: { trusted_ca: { inline_string: trustBundleOf(ca) } } }];
  if (issued !== undefined) secrets.push({ name: SDS_CERTIFICATE, tls_certificate: { certificate_chain: { inline_string: issued.certificateChainPem } } });
  return secrets;
}
