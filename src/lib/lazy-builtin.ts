/**
 * A Node builtin loaded on first use, so a process that never needs it never pays
 * for it (a sidecar's RSS: node:tls ~1.7 MB with OpenSSL's TLS state, node:dns
 * ~0.5 MB; measured in docs/benchmarks.md). ESM cannot import synchronously, but
 * a builtin can be required, so callers stay synchronous. Import only types of
 * such a module statically.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
