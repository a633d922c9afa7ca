/**
 * Envoy's TLS transport socket (`envoy.transport_sockets.tls`) and SDS Secret
 * messages (`envoy.extensions.transport_sockets.tls.v3`), the supported subset.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Bool, Enum, NonEmptyStr, Obj, Opt, Shared, Str, StringMatcher, TypedConfigOneOf, Unsupported, unsupportedFields } from './schema-common.js';
import { AdsConfigSource } from './schema-config-source.js';
import { DOWNSTREAM_TLS_CONTEXT_TYPE_URL, RAW_BUFFER_TYPE_URL, UPSTREAM_TLS_CONTEXT_TYPE_URL } from './type-urls.js';

/** envoy.config.core.v3.DataSource: exactly one of the three (checked in code). */
export const DataSource = Shared('DataSource', Obj({
  inline_string: Opt(Str()),
  inline_bytes: Opt(Str()),
  filename: Opt(NonEmptyStr()),
  ...unsupportedFields(['environment_variable', 'watched_directory']),
}));

const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_2', 'TLSv1_3'] as const;

const TlsParameters = Obj({
  tls_minimum_protocol_version: Opt(Enum(TLS_VERSIONS)),
  tls_maximum_protocol_version: Opt(Enum(TLS_VERSIONS)),
  ...unsupportedFields(['cipher_suites', 'ecdh_curves', 'signature_algorithms', 'compliance_policies']),
});

export const TlsCertificate = Obj({
  certificate_chain: DataSource,
  /** Weft: omitted means the proxy's own key (generated at start, never sent anywhere). */
  private_key: Opt(DataSource),
  ...unsupportedFields(['pkcs12', 'watched_directory', 'private_key_provider', 'password', 'ocsp_staple', 'signed_certificate_timestamp']),
});

const SubjectAltNameMatcher = Obj({
  san_type: Enum(['URI', 'DNS']),
  matcher: StringMatcher,
  ...unsupportedFields(['oid']),
});

export const CertificateValidationContext = Obj({
  trusted_ca: Opt(DataSource),
  match_typed_subject_alt_names: Opt(Type.Array(SubjectAltNameMatcher)),
  trust_chain_verification: Opt(Enum(['VERIFY_TRUST_CHAIN'])),
  match_subject_alt_names: Opt(Unsupported('deprecated in Envoy; use match_typed_subject_alt_names')),
  ...unsupportedFields([
    'ca_certificate_provider_instance', 'system_root_certs', 'watched_directory', 'verify_certificate_spki',
    'verify_certificate_hash', 'require_signed_certificate_timestamp', 'crl', 'allow_expired_certificate',
    'custom_validator_config', 'only_verify_leaf_cert_crl', 'max_verify_depth',
  ]),
});

/** A secret by name: from static_resources.secrets (no sds_config) or over ADS (sds_config: { ads: {} }). */
const SdsSecretConfig = Obj({
  name: NonEmptyStr(),
  sds_config: Opt(AdsConfigSource),
});

const CommonTlsContext = Obj({
  tls_params: Opt(TlsParameters),
  /** At most one certificate (checked in code). */
  tls_certificates: Opt(Type.Array(TlsCertificate)),
  tls_certificate_sds_secret_configs: Opt(Type.Array(SdsSecretConfig)),
  validation_context: Opt(CertificateValidationContext),
  validation_context_sds_secret_config: Opt(SdsSecretConfig),
  combined_validation_context: Opt(Obj({
    default_validation_context: CertificateValidationContext,
    validation_context_sds_secret_config: SdsSecretConfig,
    ...unsupportedFields(['validation_context_certificate_provider', 'validation_context_certificate_provider_instance']),
  })),
  alpn_protocols: Opt(Type.Array(NonEmptyStr())),
  ...unsupportedFields([
    'tls_certificate_provider_instance', 'tls_certificate_certificate_provider', 'tls_certificate_certificate_provider_instance',
    'validation_context_certificate_provider', 'validation_context_certificate_provider_instance', 'custom_handshaker',
    'key_log', 'custom_tls_certificate_selector', 'tls_certificate_selector',
  ]),
});

const DownstreamTlsContext = Obj({
  '@type': Type.Literal(DOWNSTREAM_TLS_CONTEXT_TYPE_URL),
  common_tls_context: Opt(CommonTlsContext),
  require_client_certificate: Opt(Bool()),
  ...unsupportedFields([
    'require_sni', 'session_ticket_keys', 'session_ticket_keys_sds_secret_config', 'disable_stateless_session_resumption',
    'disable_stateful_session_resumption', 'session_timeout', 'ocsp_staple_policy', 'full_scan_certs_on_sni_mismatch',
    'prefer_client_ciphers',
  ]),
});

const UpstreamTlsContext = Obj({
  '@type': Type.Literal(UPSTREAM_TLS_CONTEXT_TYPE_URL),
  common_tls_context: Opt(CommonTlsContext),
  sni: Opt(Str()),
  ...unsupportedFields(['allow_renegotiation', 'max_session_keys', 'auto_host_sni', 'auto_sni_san_validation', 'enforce_rsa_key_usage']),
});

const RawBuffer = Obj({ '@type': Type.Literal(RAW_BUFFER_TYPE_URL) });

export const DownstreamTransportSocket = Obj({
  name: NonEmptyStr(),
  typed_config: TypedConfigOneOf(DownstreamTlsContext, RawBuffer),
});

export const UpstreamTransportSocket = Obj({
  name: NonEmptyStr(),
  typed_config: TypedConfigOneOf(UpstreamTlsContext, RawBuffer),
});

/** static_resources.secrets[] and the SDS resource. */
export const Secret = Obj({
  name: NonEmptyStr(),
  tls_certificate: Opt(TlsCertificate),
  validation_context: Opt(CertificateValidationContext),
  ...unsupportedFields(['session_ticket_keys', 'generic_secret']),
});

export type RawDataSource = Static<typeof DataSource>;
export type RawTlsCertificate = Static<typeof TlsCertificate>;
export type RawCertificateValidationContext = Static<typeof CertificateValidationContext>;
export type RawSdsSecretConfig = Static<typeof SdsSecretConfig>;
export type RawCommonTlsContext = Static<typeof CommonTlsContext>;
export type RawDownstreamTlsContext = Static<typeof DownstreamTlsContext>;
export type RawUpstreamTlsContext = Static<typeof UpstreamTlsContext>;
export type RawDownstreamTransportSocket = Static<typeof DownstreamTransportSocket>;
export type RawUpstreamTransportSocket = Static<typeof UpstreamTransportSocket>;
export type RawSecret = Static<typeof Secret>;
