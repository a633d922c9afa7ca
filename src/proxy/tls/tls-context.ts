/**
 * One TLS context (a filter chain's DownstreamTlsContext or a cluster's
 * UpstreamTlsContext) at runtime: its certificate and validation context
 * resolved (inline, or secrets from the store), turned into a node
 * SecureContext, and rebuilt whenever one of its secrets changes.
 *
 * `current` is undefined while a secret is missing (the context is warming):
 * a listener refuses the connection, a cluster fails the connect. A secret
 * that cannot be used (key does not match the certificate, bad PEM) keeps the
 * previous context and is counted, never thrown across the event loop.
 */
import type * as tls from 'node:tls';
import { nodeTls } from './node-tls.js';
import type { CommonTlsContextConfig, SanMatcher, SecretSource, TlsCertificateConfig, ValidationContextConfig } from '../config/types.js';
import { defineStats, type DeclaredStats, type StatsScope } from '../observe/stats.js';
import { compileStringMatch, type StringPredicate } from '../router/string-match.js';
import { parseSubjectAltName } from '../listener/peer-identity.js';
import type { SecretStore } from './secret-store.js';

/** Envoy's `ssl.*` stats (listener and cluster scopes), plus Weft's context update counters. */
export const TLS_STATS = {
  counters: [
    'connection_error', 'handshake', 'fail_verify_no_cert', 'fail_verify_error', 'fail_verify_san', 'no_certificate',
    'context_update', 'context_update_error',
  ],
  gauges: [],
  histograms: [],
} as const;

export type TlsStats = DeclaredStats<typeof TLS_STATS>;

export function defineTlsStats(scope: StatsScope): TlsStats {
  return defineStats(scope.scope('ssl.'), TLS_STATS);
}

/** What a handshake needs: the secure context and the SAN check of the peer's leaf. */
export interface TlsMaterials {
  readonly secureContext: tls.SecureContext;
  /** The options `secureContext` was made from (a tls.Server's setSecureContext takes options). */
  readonly options: tls.SecureContextOptions;
  /** A validation context is configured: the peer's chain is verified against its CAs. */
  readonly verify: boolean;
  /** True when the peer certificate's SANs satisfy the matchers (always true without matchers). */
  readonly checkSan: (cert: tls.PeerCertificate) => boolean;
  /** Secret versions in use, for logs. */
  readonly description: string;
}

export interface TlsContextHandle {
  current(): TlsMaterials | undefined;
  close(): void;
}

type SanPredicate = (uris: readonly string[], dns: readonly string[]) => boolean;

function compileSanMatchers(matchers: readonly SanMatcher[], path: string): SanPredicate {
  if (matchers.length === 0) return () => true;
  const compiled = matchers.map((m, i): [SanMatcher['sanType'], StringPredicate] => [m.sanType, compileStringMatch(m.match, `${path}[${i}]`)]);
  return (uris, dns) => compiled.some(([type, test]) => (type === 'URI' ? uris : dns).some(test));
}

/** The peer certificate's SANs against the compiled matchers. */
function sanCheck(predicate: SanPredicate): (cert: tls.PeerCertificate) => boolean {
  return (cert) => {
    const { uris, dns } = parseSubjectAltName(cert.subjectaltname ?? '');
    return predicate(uris, dns);
  };
}

function resolve<T>(source: SecretSource<T> | undefined, pick: (name: string) => T | undefined): { value?: T; missing: boolean } {
  if (source === undefined) return { missing: false };
  if (source.kind === 'inline') return { value: source.value, missing: false };
  const value = pick(source.name);
  return value === undefined ? { missing: true } : { value, missing: false };
}

class WatchedTlsContext implements TlsContextHandle {
  private materials: TlsMaterials | undefined;
  private readonly unwatch: Array<() => void> = [];

  constructor(
    private readonly config: CommonTlsContextConfig,
    private readonly store: SecretStore,
    private readonly stats: TlsStats,
    private readonly label: string,
    private readonly onError: (message: string) => void,
  ) {
    for (const source of [config.certificate, config.validation]) {
      if (source?.kind === 'sds') this.unwatch.push(store.watch(source.name, () => this.rebuild()));
    }
    this.rebuild();
  }

  current(): TlsMaterials | undefined {
    return this.materials;
  }

  close(): void {
    for (const unwatch of this.unwatch.splice(0)) unwatch();
  }

  private rebuild(): void {
    const { config, store } = this;
    const certificate = resolve<TlsCertificateConfig>(config.certificate, (name) => store.get(name)?.tlsCertificate);
    const validation = resolve<ValidationContextConfig>(config.validation, (name) => store.get(name)?.validationContext);
    if (certificate.missing || validation.missing) {
      // A secret went away or has not arrived: keep what works (Envoy keeps the last good secret too).
      return;
    }
    if (certificate.value !== undefined && certificate.value.privateKey === undefined) return;
    try {
      const options: tls.SecureContextOptions = {
        ...(certificate.value !== undefined ? { cert: certificate.value.certificateChain, key: certificate.value.privateKey } : {}),
        ...(validation.value?.trustedCa !== undefined ? { ca: validation.value.trustedCa } : {}),
        minVersion: config.minVersion,
        maxVersion: config.maxVersion,
      };
      const secureContext = nodeTls().createSecureContext(options);
      const matchers = [...(validation.value?.sanMatchers ?? []), ...config.extraSanMatchers];
      this.materials = {
        secureContext,
        options,
        verify: validation.value !== undefined,
        checkSan: sanCheck(compileSanMatchers(matchers, `${this.label}.match_typed_subject_alt_names`)),
        description: [config.certificate, config.validation].map((s) => (s === undefined ? '-' : s.kind === 'sds' ? s.name : 'inline')).join('/'),
      };
      this.stats.context_update.inc();
    } catch (err) {
      this.stats.context_update_error.inc();
      this.onError(`${this.label}: cannot use the TLS secret(s): ${(err as Error).message}`);
    }
  }
}

export function watchTlsContext(
  config: CommonTlsContextConfig,
  deps: { store: SecretStore; stats: TlsStats; label: string; onError: (message: string) => void },
): TlsContextHandle {
  return new WatchedTlsContext(config, deps.store, deps.stats, deps.label, deps.onError);
}

const NO_CERTIFICATE = new Set(['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

/** Which Envoy `ssl.*` counter a failed handshake or verification bumps, from node's error code. */
export function tlsFailureStat(code: string | undefined): 'fail_verify_no_cert' | 'fail_verify_error' | 'connection_error' {
  if (code !== undefined && NO_CERTIFICATE.has(code)) return 'fail_verify_no_cert';
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_|ISSUER|CHAIN|SIGNATURE/.test(code)) return 'fail_verify_error';
  return 'connection_error';
}

/** ALPN offered or accepted: Weft speaks HTTP/1.1 only, so `h2` is left out (the peer falls back to http/1.1). */
export function alpnList(configured: readonly string[]): string[] | undefined {
  const protocols = configured.filter((p) => p !== 'h2');
  return protocols.length > 0 ? protocols : undefined;
}
