/**
 * Serializing HTTP/1.1 message heads and body framing for the proxy's two sides.
 * Parsing lives in parser.ts; this module only writes.
 */
import type { Writable } from 'node:stream';
import type { HeaderMap } from './headers.js';

/** RFC 9110 7.6.1 hop-by-hop fields, plus the de-facto ones, and framing (the writer re-frames). Never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'content-length']);
/**
 * Connection tokens never acted on as field names: the options, and `host`, which names the
 * authority the route was chosen by (Envoy's :authority; HAProxy keeps it too).
 */
const NOT_NOMINATED = new Set(['close', 'keep-alive', 'upgrade', 'host']);

/**
 * Removes hop-by-hop fields and any field named by a Connection token, in one
 * pass. `keepUpgrade` leaves `upgrade` alone (the writer re-adds `connection: upgrade`).
 */
export function stripHopByHop(headers: HeaderMap, connectionTokens: readonly string[], keepUpgrade: boolean): void {
  // The usual message (no Connection options, no upgrade) needs no per-call closure.
  if (connectionTokens.length === 0 && !keepUpgrade) {
    headers.removeWhere(isHopByHop);
    return;
  }
  headers.removeWhere((name) => (HOP_BY_HOP.has(name) && !(keepUpgrade && name === 'upgrade')) || (connectionTokens.length > 0 && connectionTokens.includes(name) && !NOT_NOMINATED.has(name)));
}

function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}

/** How a message body is delimited on the wire. */
export const enum Framing {
  None = 0,
  ContentLength = 1,
  Chunked = 2,
  /** HTTP/1.0 style: the body ends when the connection closes. */
  Close = 3,
}

export function requestHead(method: string, path: string, headers: HeaderMap, framing: Framing, contentLength: number, upgrade: boolean): string {
  let head = `${method} ${path} HTTP/1.1\r\n${headers.toWire()}`;
  if (framing === Framing.ContentLength) head += `content-length: ${contentLength}\r\n`;
  else if (framing === Framing.Chunked) head += 'transfer-encoding: chunked\r\n';
  if (upgrade) head += 'connection: upgrade\r\n';
  return `${head}\r\n`;
}

export function responseHead(
  statusCode: number,
  reason: string,
  headers: HeaderMap,
  framing: Framing,
  contentLength: number,
  connection: 'keep-alive' | 'close' | 'upgrade' | '',
): string {
  let head = `HTTP/1.1 ${statusCode} ${reason || reasonPhrase(statusCode)}\r\n${headers.toWire()}`;
  if (framing === Framing.ContentLength) head += `content-length: ${contentLength}\r\n`;
  else if (framing === Framing.Chunked) head += 'transfer-encoding: chunked\r\n';
  if (connection !== '') head += `connection: ${connection}\r\n`;
  return `${head}\r\n`;
}

/** The last chunk of a chunked body, with no trailers. */
export const LAST_CHUNK = '0\r\n\r\n';
/** Body pieces up to this size are copied into the pending text; larger ones are written as they are. */
const INLINE_BYTES = 16 * 1024;

/**
 * Gathers what one read produces for a socket (a message head, small body
 * pieces, chunk framing) into one latin1 string and writes it at flush(): one
 * `write` call and one syscall per message, with no cork bookkeeping.
 * latin1 maps bytes 0-255 one to one, so body bytes pass through unchanged.
 * At most INLINE_BYTES wait; a larger piece goes out at once, with what is
 * pending, as one writev.
 */
export class WireWriter {
  private pending = '';

  constructor(private readonly socket: Writable) {}

  /** Head or framing text (latin1), sent at the next flush or with the next large piece. */
  text(text: string): void {
    this.pending += text;
  }

  /** Body bytes. Returns false when the socket is backed up (the caller pauses its source). */
  bytes(chunk: Buffer): boolean {
    if (this.pending.length + chunk.length <= INLINE_BYTES) {
      this.pending += chunk.toString('latin1');
      return !this.socket.writableNeedDrain;
    }
    if (this.pending === '') return this.socket.write(chunk);
    const socket = this.socket;
    socket.cork();
    socket.write(this.pending, 'latin1');
    this.pending = '';
    const flowing = socket.write(chunk);
    socket.uncork();
    return flowing;
  }

  /** One chunk of a chunked body: size line, data, CRLF. */
  chunk(chunk: Buffer): boolean {
    if (chunk.length === 0) return !this.socket.writableNeedDrain;
    this.pending += `${chunk.length.toString(16)}\r\n`;
    const flowing = this.bytes(chunk);
    this.pending += '\r\n';
    return flowing;
  }

  /** Writes what is pending. Returns false when the socket is backed up. */
  flush(): boolean {
    if (this.pending === '') return !this.socket.writableNeedDrain;
    const text = this.pending;
    this.pending = '';
    return this.socket.write(text, 'latin1');
  }

  /** Drops what is pending (the connection is being reset). */
  discard(): void {
    this.pending = '';
  }
}

const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required',
  413: 'Content Too Large', 414: 'URI Too Long', 417: 'Expectation Failed', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}
