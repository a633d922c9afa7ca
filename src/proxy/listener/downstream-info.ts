/**
 * What the proxy knows about a downstream connection for authorization: its
 * addresses and, on mTLS, the peer's identity. The identity is the first URI SAN
 * of the verified client certificate (a SPIFFE ID, `spiffe://td/ns/x/sa/y`), read
 * once per connection and only when a filter asks.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { DownstreamInfo } from '../filters/filter.js';

/** The verified peer's URI SAN, or undefined (plaintext, no client certificate, or not authorized). */
export function peerPrincipal(socket: Socket): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const san = socket.getPeerCertificate().subjectaltname;
  if (san === undefined) return undefined;
  for (const entry of san.split(', ')) if (entry.startsWith('URI:')) return entry.slice(4);
  return undefined;
}

/** A DownstreamInfo over a socket; the principal is looked up on first use. */
export class SocketDownstreamInfo implements DownstreamInfo {
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;
  private principal: string | undefined | null = null;

  constructor(private readonly socket: Socket) {
    this.remoteIp = socket.remoteAddress ?? '';
    this.localIp = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
  }

  get peerPrincipal(): string | undefined {
    if (this.principal === null) this.principal = peerPrincipal(this.socket);
    return this.principal;
  }
}
