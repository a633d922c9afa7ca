/**
 * Private keys never leave the proxy: /config_dump shows the documents as
 * written, so every `private_key` (and key `password`) DataSource is replaced
 * by `[redacted]`, as Envoy's admin does.
 */
const SENSITIVE = new Set(['private_key', 'password']);
const REDACTED = '[redacted]';

export function redactSecrets<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SENSITIVE.has(key) ? redactDataSource(inner) : redact(inner);
  }
  return out;
}

/** Keeps the DataSource's shape (which field was used) without its content; a file name is not secret. */
function redactDataSource(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return REDACTED;
  const source = value as Record<string, unknown>;
  if (typeof source['filename'] === 'string') return { filename: source['filename'] };
  return { inline_string: REDACTED };
}
