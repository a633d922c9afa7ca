/**
 * The secrets the proxy holds: `static_resources.secrets` and SDS secrets from
 * ADS, by name. TLS contexts watch the names they use; a new version of a
 * secret notifies only its watchers, which swap the secure context for new
 * handshakes while established connections carry on (rotation without drops).
 *
 * A `tls_certificate` without a private key is completed with the proxy's own
 * key (identity/local-identity.ts): the key never leaves the process.
 */
import { isDeepStrictEqual } from 'node:util';
import type { SecretConfig, TlsCertificateConfig } from '../config/types.js';

export interface SecretStore {
  /** The secret as last delivered; a certificate without key gets the local key. Undefined = not (yet) known. */
  get(name: string): SecretConfig | undefined;
  /** Replaces the whole set; watchers of a secret that changed (or appeared, or went away) are called. */
  update(secrets: readonly SecretConfig[]): void;
  /** Calls `onChange` after each change of that secret; returns the unsubscribe function. */
  watch(name: string, onChange: () => void): () => void;
  /** The proxy's own private key (PEM), for certificates delivered without one. */
  setLocalKey(privateKeyPem: string): void;
  /** Names and kinds only, for /config_dump (never key material). */
  dump(): Array<{ name: string; kind: 'tls_certificate' | 'validation_context'; localKey: boolean }>;
}

class MemorySecretStore implements SecretStore {
  private secrets = new Map<string, SecretConfig>();
  private readonly watchers = new Map<string, Set<() => void>>();
  private localKey: string | undefined;

  get(name: string): SecretConfig | undefined {
    const secret = this.secrets.get(name);
    const certificate = secret?.tlsCertificate;
    if (secret === undefined || certificate === undefined || certificate.privateKey !== undefined) return secret;
    if (this.localKey === undefined) return undefined;
    const completed: TlsCertificateConfig = { ...certificate, privateKey: this.localKey };
    return { ...secret, tlsCertificate: completed };
  }

  update(secrets: readonly SecretConfig[]): void {
    const next = new Map(secrets.map((s) => [s.name, s]));
    const changed = new Set<string>();
    for (const [name, secret] of next) if (!isDeepStrictEqual(this.secrets.get(name), secret)) changed.add(name);
    for (const name of this.secrets.keys()) if (!next.has(name)) changed.add(name);
    this.secrets = next;
    for (const name of changed) this.notify(name);
  }

  watch(name: string, onChange: () => void): () => void {
    let set = this.watchers.get(name);
    if (set === undefined) this.watchers.set(name, (set = new Set()));
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0) this.watchers.delete(name);
    };
  }

  setLocalKey(privateKeyPem: string): void {
    this.localKey = privateKeyPem;
    for (const [name, secret] of this.secrets) if (secret.tlsCertificate !== undefined && secret.tlsCertificate.privateKey === undefined) this.notify(name);
  }

  dump(): Array<{ name: string; kind: 'tls_certificate' | 'validation_context'; localKey: boolean }> {
    return [...this.secrets.values()].map((s) => ({
      name: s.name,
      kind: s.tlsCertificate !== undefined ? 'tls_certificate' : 'validation_context',
      localKey: s.tlsCertificate !== undefined && s.tlsCertificate.privateKey === undefined,
    }));
  }

  private notify(name: string): void {
    for (const watcher of [...(this.watchers.get(name) ?? [])]) watcher();
  }
}

export function createSecretStore(): SecretStore {
  return new MemorySecretStore();
}
