/**
 * TLS transport sockets and SDS secrets -> the internal TLS config. DataSources
 * are read once here (files at load), PEM text is checked to look like PEM (so
 * a typo fails with its path, not at the first handshake), and every secret
 * reference is resolved to inline, static secret or ADS.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../lib/errors.js';
import { normalizeStringMatch, oneOf } from './normalize-common.js';
import { fieldPath, indexPath } from './path.js';
import type {
  RawCertificateValidationContext, RawCommonTlsContext, RawDataSource, RawDownstreamTransportSocket, RawSdsSecretConfig, RawSecret,
  RawTlsCertificate, RawUpstreamTransportSocket,
} from './schema-tls.js';
import { RAW_BUFFER_TYPE_URL } from './type-urls.js';
import type {
  CommonTlsContextConfig, DownstreamTlsConfig, SanMatcher, SecretConfig, SecretSource, TlsCertificateConfig, TlsVersion, UpstreamTlsConfig,
  ValidationContextConfig,
} from './types.js';

/** What TLS normalization needs from the document around it. */
export interface TlsContext {
  /** The bootstrap has dynamic_resources: `sds_config: { ads: {} }` is allowed. */
  ads: boolean;
  /** Names in static_resources.secrets; undefined = not checked (dynamic resources: the agent checks). */
  staticSecrets?: ReadonlySet<string>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

export function readDataSource(raw: RawDataSource, path: string): string {
  const source = oneOf(raw, ['inline_string', 'inline_bytes', 'filename'] as const, path)!;
  if (source === 'inline_string') return raw.inline_string!;
  if (source === 'inline_bytes') {
    if (!BASE64.test(raw.inline_bytes!)) throw new ConfigError(fieldPath(path, source), 'must be base64');
    return Buffer.from(raw.inline_bytes!, 'base64').toString('utf8');
  }
  try {
    return readFileSync(raw.filename!, 'utf8');
  } catch (err) {
    throw new ConfigError(fieldPath(path, source), `cannot read ${JSON.stringify(raw.filename)}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The PEM blocks of a DataSource, checked by label (a key given as a certificate, or no PEM at
 * all, is caught at load) and re-joined one per line: bundles concatenated without a newline
 * between `-----END-----` and `-----BEGIN-----` would otherwise lose every root after the first.
 */
function readPem(raw: RawDataSource, path: string, accept: (label: string) => boolean, what: string): string {
  const blocks = [...readDataSource(raw, path).matchAll(PEM_BLOCK)];
  if (blocks.length === 0 || !blocks.every((m) => accept(m[1]!))) throw new ConfigError(path, `expected ${what} in PEM format`);
  return `${blocks.map((m) => m[0]).join('\n')}\n`;
}

const isCertificate = (label: string): boolean => label === 'CERTIFICATE' || label === 'TRUSTED CERTIFICATE';
const isPrivateKey = (label: string): boolean => label.endsWith('PRIVATE KEY');

export function normalizeTlsCertificate(raw: RawTlsCertificate, path: string): TlsCertificateConfig {
  const certificate: TlsCertificateConfig = {
    certificateChain: readPem(raw.certificate_chain, fieldPath(path, 'certificate_chain'), isCertificate, 'certificates'),
  };
  if (raw.certificate_chain.filename !== undefined) certificate.certificateChainPath = raw.certificate_chain.filename;
  if (raw.private_key !== undefined) certificate.privateKey = readPem(raw.private_key, fieldPath(path, 'private_key'), isPrivateKey, 'a private key');
  return certificate;
}

export function normalizeValidationContext(raw: RawCertificateValidationContext, path: string): ValidationContextConfig {
  const context: ValidationContextConfig = { sanMatchers: normalizeSanMatchers(raw, path) };
  if (raw.trusted_ca !== undefined) context.trustedCa = readPem(raw.trusted_ca, fieldPath(path, 'trusted_ca'), isCertificate, 'CA certificates');
  if (raw.trusted_ca?.filename !== undefined) context.trustedCaPath = raw.trusted_ca.filename;
  return context;
}

function normalizeSanMatchers(raw: RawCertificateValidationContext, path: string): SanMatcher[] {
  const matchersPath = fieldPath(path, 'match_typed_subject_alt_names');
  return (raw.match_typed_subject_alt_names ?? []).map((m, i) => ({
    sanType: m.san_type,
    match: normalizeStringMatch(m.matcher, fieldPath(indexPath(matchersPath, i), 'matcher')),
  }));
}

export function normalizeSecret(raw: RawSecret, path: string): SecretConfig {
  const kind = oneOf(raw, ['tls_certificate', 'validation_context'] as const, path)!;
  const secret: SecretConfig = { name: raw.name };
  if (kind === 'tls_certificate') secret.tlsCertificate = normalizeTlsCertificate(raw.tls_certificate!, fieldPath(path, kind));
  else secret.validationContext = normalizeValidationContext(raw.validation_context!, fieldPath(path, kind));
  return secret;
}

function sdsSource<T>(raw: RawSdsSecretConfig, path: string, context: TlsContext): SecretSource<T> {
  const ads = raw.sds_config !== undefined;
  if (ads && !context.ads) throw new ConfigError(fieldPath(path, 'sds_config'), 'needs dynamic_resources.ads_config: the secret comes from the ADS server');
  if (!ads && context.staticSecrets !== undefined && !context.staticSecrets.has(raw.name)) {
    throw new ConfigError(fieldPath(path, 'name'), `unknown secret ${JSON.stringify(raw.name)}: not in static_resources.secrets (set sds_config: { ads: {} } to fetch it over ADS)`);
  }
  return { kind: 'sds', name: raw.name, ads };
}

const VERSIONS: Record<string, TlsVersion | undefined> = { TLS_AUTO: undefined, TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

function normalizeCommonTlsContext(raw: RawCommonTlsContext | undefined, path: string, context: TlsContext): CommonTlsContextConfig {
  const common: CommonTlsContextConfig = { extraSanMatchers: [], alpnProtocols: raw?.alpn_protocols ?? [], minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  if (raw === undefined) return common;
  const certificatesPath = fieldPath(path, 'tls_certificates');
  const sdsCertificatesPath = fieldPath(path, 'tls_certificate_sds_secret_configs');
  const certificates = raw.tls_certificates ?? [];
  const sdsCertificates = raw.tls_certificate_sds_secret_configs ?? [];
  if (certificates.length + sdsCertificates.length > 1) {
    const extra = certificates.length > 1 ? indexPath(certificatesPath, 1) : sdsCertificates.length > 0 && certificates.length > 0 ? sdsCertificatesPath : indexPath(sdsCertificatesPath, 1);
    throw new ConfigError(extra, 'exactly one certificate is supported (one of tls_certificates, tls_certificate_sds_secret_configs)');
  }
  if (certificates[0] !== undefined) common.certificate = { kind: 'inline', value: normalizeTlsCertificate(certificates[0], indexPath(certificatesPath, 0)) };
  if (sdsCertificates[0] !== undefined) common.certificate = sdsSource(sdsCertificates[0], indexPath(sdsCertificatesPath, 0), context);

  const validation = oneOf(raw, ['validation_context', 'validation_context_sds_secret_config', 'combined_validation_context'] as const, path, false);
  if (validation === 'validation_context') {
    common.validation = { kind: 'inline', value: normalizeValidationContext(raw.validation_context!, fieldPath(path, validation)) };
  } else if (validation === 'validation_context_sds_secret_config') {
    common.validation = sdsSource(raw.validation_context_sds_secret_config!, fieldPath(path, validation), context);
  } else if (validation === 'combined_validation_context') {
    const combinedPath = fieldPath(path, validation);
    const combined = raw.combined_validation_context!;
    const defaults = normalizeValidationContext(combined.default_validation_context, fieldPath(combinedPath, 'default_validation_context'));
    if (defaults.trustedCa !== undefined) {
      throw new ConfigError(fieldPath(fieldPath(combinedPath, 'default_validation_context'), 'trusted_ca'), 'not supported yet with combined_validation_context: the trusted CA comes from the SDS secret');
    }
    common.extraSanMatchers = defaults.sanMatchers;
    common.validation = sdsSource(combined.validation_context_sds_secret_config, fieldPath(combinedPath, 'validation_context_sds_secret_config'), context);
  }

  const params = raw.tls_params;
  const paramsPath = fieldPath(path, 'tls_params');
  common.minVersion = VERSIONS[params?.tls_minimum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.2';
  common.maxVersion = VERSIONS[params?.tls_maximum_protocol_version ?? 'TLS_AUTO'] ?? 'TLSv1.3';
  if (common.minVersion > common.maxVersion) throw new ConfigError(fieldPath(paramsPath, 'tls_maximum_protocol_version'), 'is lower than tls_minimum_protocol_version');
  return common;
}

/** A listener filter chain's transport_socket; undefined for raw_buffer. */
export function normalizeDownstreamTransportSocket(raw: RawDownstreamTransportSocket, path: string, context: TlsContext): DownstreamTlsConfig | undefined {
  const typed = raw.typed_config;
  if (typed['@type'] === RAW_BUFFER_TYPE_URL) return undefined;
  const typedPath = fieldPath(path, 'typed_config');
  const common = normalizeCommonTlsContext(typed.common_tls_context, fieldPath(typedPath, 'common_tls_context'), context);
  if (common.certificate === undefined) throw new ConfigError(fieldPath(typedPath, 'common_tls_context'), 'a server needs a certificate: set tls_certificates or tls_certificate_sds_secret_configs');
  const requireClientCertificate = typed.require_client_certificate ?? false;
  if (requireClientCertificate && common.validation === undefined) {
    throw new ConfigError(fieldPath(typedPath, 'require_client_certificate'), 'needs a validation context (trusted_ca) to verify client certificates against');
  }
  return { ...common, requireClientCertificate };
}

/** A cluster's transport_socket; undefined for raw_buffer. */
export function normalizeUpstreamTransportSocket(raw: RawUpstreamTransportSocket, path: string, context: TlsContext): UpstreamTlsConfig | undefined {
  const typed = raw.typed_config;
  if (typed['@type'] === RAW_BUFFER_TYPE_URL) return undefined;
  const typedPath = fieldPath(path, 'typed_config');
  const tls: UpstreamTlsConfig = normalizeCommonTlsContext(typed.common_tls_context, fieldPath(typedPath, 'common_tls_context'), context);
  if (typed.sni !== undefined && typed.sni !== '') tls.sni = typed.sni;
  return tls;
}

/** The SDS names (over ADS) a TLS context refers to, for the xDS agent's subscriptions. */
export function adsSecretNames(tls: CommonTlsContextConfig | undefined): string[] {
  if (tls === undefined) return [];
  return [tls.certificate, tls.validation].flatMap((s) => (s !== undefined && s.kind === 'sds' && s.ads ? [s.name] : []));
}
