/**
 * Envoy's admin `/certs` (envoy.admin.v3.Certificates): the certificates of the
 * proxy's TLS contexts (listener filter chains and clusters), inline, static
 * secrets or SDS. Per context, `cert_chain` describes its certificate chain (the
 * leaf's serial, SANs and validity; days until the first certificate of the
 * chain expires) and `ca_cert` each root of its trust bundle. Contexts whose
 * secrets have not arrived are left out, as Envoy lists loaded contexts only;
 * contexts with the same certificates appear once (Envoy repeats them per
 * context). Only certificates are read here: never a private key.
 */
import { X509Certificate } from 'node:crypto';
import type { CommonTlsContextConfig, ListenerConfig, ClusterConfig, SecretSource } from '../config/types.js';
import { parseSubjectAltName } from '../listener/peer-identity.js';
import type { SecretStore } from '../tls/secret-store.js';

type SubjectAltName = { uri: string } | { dns: string } | { ip_address: string };

/** envoy.admin.v3.CertificateDetails in proto3 JSON (uint64 as a string, Timestamps as RFC 3339). */
export interface CertificateDetails {
  path: string;
  serial_number: string;
  subject_alt_names: SubjectAltName[];
  days_until_expiration: string;
  valid_from: string;
  expiration_time: string;
}

export interface CertificatesDump {
  certificates: Array<{ ca_cert: CertificateDetails[]; cert_chain: CertificateDetails[] }>;
}

/** What Envoy prints as the path of certificates that came inline (or over SDS) rather than from a file. */
const INLINE = '<inline>';
const DAY_MS = 86_400_000;
const PEM_CERTIFICATE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g;

/** Every TLS context of the running config: listener filter chains, then clusters. */
export function tlsContextsOf(config: { listeners: readonly ListenerConfig[]; clusters: readonly ClusterConfig[] }): CommonTlsContextConfig[] {
  const contexts: CommonTlsContextConfig[] = [];
  for (const listener of config.listeners) for (const chain of listener.filterChains) if (chain.tls !== undefined) contexts.push(chain.tls);
  for (const cluster of config.clusters) if (cluster.tls !== undefined) contexts.push(cluster.tls);
  return contexts;
}

export function certificatesDump(contexts: readonly CommonTlsContextConfig[], secrets: SecretStore, now = Date.now()): CertificatesDump {
  const seen = new Set<string>();
  const certificates: CertificatesDump['certificates'] = [];
  for (const context of contexts) {
    const chain = resolve(context.certificate, (name) => secrets.get(name)?.tlsCertificate);
    const validation = resolve(context.validation, (name) => secrets.get(name)?.validationContext);
    if (chain === null || validation === null) continue;
    const entry = {
      ca_cert: validation?.trustedCa === undefined ? [] : parsePem(validation.trustedCa).map((cert) => details([cert], validation.trustedCaPath, now)),
      cert_chain: chain === undefined ? [] : [details(parsePem(chain.certificateChain), chain.certificateChainPath, now)],
    };
    const key = JSON.stringify(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    certificates.push(entry);
  }
  return { certificates };
}

/** The source's value; undefined when the context has none; null when its secret is not there (yet). */
function resolve<T>(source: SecretSource<T> | undefined, lookup: (name: string) => T | undefined): T | undefined | null {
  if (source === undefined) return undefined;
  if (source.kind === 'inline') return source.value;
  return lookup(source.name) ?? null;
}

function parsePem(pem: string): X509Certificate[] {
  return [...pem.matchAll(PEM_CERTIFICATE)].map((block) => new X509Certificate(block[0]));
}

/** The first certificate's details; days until the earliest expiry among all of them (Envoy: "of certificate and its chain"). */
function details(chain: readonly X509Certificate[], path: string | undefined, now: number): CertificateDetails {
  const leaf = chain[0]!;
  const expiries = chain.map((cert) => Date.parse(cert.validTo));
  const { uris, dns, ips } = parseSubjectAltName(leaf.subjectAltName ?? '');
  return {
    path: path ?? INLINE,
    // Whole bytes in hex, lower case, as Envoy prints it (BN_bn2hex): `0a2d…`, not `a2d…`.
    serial_number: leaf.serialNumber.toLowerCase(),
    subject_alt_names: [...uris.map((uri) => ({ uri })), ...dns.map((name) => ({ dns: name })), ...ips.map((ip) => ({ ip_address: ip }))],
    days_until_expiration: String(Math.max(0, Math.floor((Math.min(...expiries) - now) / DAY_MS))),
    valid_from: timestamp(Date.parse(leaf.validFrom)),
    expiration_time: timestamp(expiries[0]!),
  };
}

/** A protobuf Timestamp in JSON: RFC 3339, UTC, fractional seconds only when there are any. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
