/**
 * `node:tls`, loaded on first use. A proxy whose config has no TLS (no transport
 * socket, no secrets, no TLS health checks) never loads it: importing it costs a
 * process ~1.7 MB RSS (the module graph and OpenSSL's TLS state), measured in
 * docs/benchmarks.md. ESM cannot import synchronously, but a builtin can be
 * required, so callers stay synchronous. Only type imports of `node:tls` elsewhere.
 */
import { createRequire } from 'node:module';
import type * as tls from 'node:tls';

const require = createRequire(import.meta.url);
let loaded: typeof tls | undefined;

export function nodeTls(): typeof tls {
  return (loaded ??= require('node:tls') as typeof tls);
}

/** `socket instanceof TLSSocket` without loading node:tls: only a TLSSocket sets `encrypted` (always true). */
export function isTlsSocket(socket: object): socket is tls.TLSSocket {
  return (socket as { encrypted?: unknown }).encrypted === true;
}
