/** `node:tls` on first use: a proxy whose config has no TLS (transport sockets, secrets, TLS health checks) never loads it. */
import type * as tls from 'node:tls';
import { lazyBuiltin } from '../../lib/lazy-builtin.js';

export const nodeTls = lazyBuiltin<typeof tls>('node:tls');

/** `socket instanceof TLSSocket` without loading node:tls: only a TLSSocket sets `encrypted` (always true). */
export function isTlsSocket(socket: object): socket is tls.TLSSocket {
  return (socket as { encrypted?: unknown }).encrypted === true;
}
