/**
 * Redaction of a proxy's config dump before it leaves the control plane:
 * every value under a key that holds key material or credentials becomes
 * `[redacted]`, at any depth (static and SDS secrets, TLS contexts, generic
 * secrets), as Envoy's own `/config_dump` does for private keys.
 */

export const REDACTED = '[redacted]';

/** Keys whose whole value is secret: TLS private keys, session ticket keys, passwords, generic and HMAC secrets, tokens. */
const SECRET_KEYS = /^(private_key|private_key_provider|password|session_ticket_keys|generic_secret|hmac_secret|client_secret|token|access_token|api_key|secret_key|ocsp_staple_private)$/i;

export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = SECRET_KEYS.test(key) || /PRIVATE KEY-----/.test(typeof child === 'string' ? child : '') ? REDACTED : redactSecrets(child);
  return out;
}
