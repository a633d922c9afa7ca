/**
 * What the proxy knows about a downstream connection for authorization: its
 * addresses and, on mTLS, the peer's principal (peer-identity.ts: the verified
 * client certificate's URI SAN, a SPIFFE ID), read only when a filter asks.
 */
import type { Socket } from 'node:net';
import type { DownstreamInfo } from '../filters/filter.js';
import { peerPrincipal } from './peer-identity.js';

/** A DownstreamInfo over a socket. */
export class SocketDownstreamInfo implements DownstreamInfo {
  readonly remoteIp: string;
  readonly localIp: string;
  readonly localPort: number;

  constructor(private readonly socket: Socket) {
    this.remoteIp = socket.remoteAddress ?? '';
    this.localIp = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
  }

  get peerPrincipal(): string | undefined {
    return peerPrincipal(this.socket);
  }
}
