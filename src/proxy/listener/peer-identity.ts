/**
 * The verified identity of a downstream peer, for authorization (RBAC
 * `authenticated.principal_name`) and the access log.
 *
 * A connection has a principal only when it arrived over TLS and the client
 * presented a certificate that passed the listener's validation context
 * (trusted CA, SAN matchers). Plaintext connections (PERMISSIVE's raw_buffer
 * chain) and TLS connections without a client certificate have none.
 *
 * The principal follows Envoy's rule for `principal_name`: the first URI SAN
 * (a SPIFFE ID, `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`), else the first DNS
 * SAN, else the subject. It is parsed once per connection and cached.
 */
import type { Socket } from 'node:net';
import { isTlsSocket } from '../tls/node-tls.js';

export interface PeerIdentity {
  /** URI SAN, else DNS SAN, else subject (Envoy's `principal_name` rule). */
  readonly principal: string;
  readonly uriSans: readonly string[];
  readonly dnsSans: readonly string[];
  /** The subject in RFC 2253-ish `CN=...,O=...` form (informational). */
  readonly subject: string;
}

/** Anything that is, or carries, the downstream socket (an HTTP DownstreamConnection has `.socket`). */
export type DownstreamLike = Socket | { readonly socket: Socket };

const cache = new WeakMap<Socket, PeerIdentity | null>();

/** The verified peer's identity, or undefined (plaintext, no client certificate, or not verified). */
export function peerIdentity(connection: DownstreamLike): PeerIdentity | undefined {
  const socket = 'socket' in connection ? connection.socket : connection;
  const cached = cache.get(socket);
  if (cached !== undefined) return cached ?? undefined;
  const identity = readIdentity(socket);
  // Only cache once the handshake is over (before it, the answer may still change).
  if (isTlsSocket(socket) && (socket.authorized || socket.authorizationError !== undefined)) {
    cache.set(socket, identity ?? null);
  }
  return identity;
}

/** The verified peer's principal (`spiffe://...`), or undefined. What RBAC's `authenticated.principal_name` matches. */
export function peerPrincipal(connection: DownstreamLike): string | undefined {
  return peerIdentity(connection)?.principal;
}

/** Whether the connection is TLS (whatever the peer presented). RBAC's `authenticated` without a name needs a verified principal instead. */
export function isTlsConnection(connection: DownstreamLike): boolean {
  const socket = 'socket' in connection ? connection.socket : connection;
  return isTlsSocket(socket);
}

function readIdentity(socket: Socket): PeerIdentity | undefined {
  if (!isTlsSocket(socket) || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate(false);
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return undefined;
  const { uris, dns } = parseSubjectAltName(cert.subjectaltname ?? '');
  const subject = Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`).join(',');
  const principal = uris[0] ?? dns[0] ?? subject;
  return { principal, uriSans: uris, dnsSans: dns, subject };
}

/**
 * Node renders SANs as `URI:spiffe://a/b, DNS:x, IP Address:1.2.3.4`; values that
 * contain separators are JSON-quoted (`URI:"a, b"`).
 */
export function parseSubjectAltName(text: string): { uris: string[]; dns: string[]; ips: string[] } {
  const uris: string[] = [];
  const dns: string[] = [];
  const ips: string[] = [];
  const entry = /(URI|DNS|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/gy;
  let match: RegExpExecArray | null;
  while (entry.lastIndex < text.length && (match = entry.exec(text)) !== null) {
    const kind = match[1]!.trim();
    const raw = match[2]!;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    if (kind === 'URI') uris.push(value);
    else if (kind === 'DNS') dns.push(value);
    else if (kind === 'IP Address') ips.push(value);
  }
  return { uris, dns, ips };
}
