/**
 * The HTTP/1.1 load client: one keep-alive net.Socket per connection, the
 * request's bytes built once and written as is, and a small response framer
 * (Content-Length, chunked, 1xx, HEAD/204/304) that reads only the status and
 * framing headers and never copies bodies.
 *
 * Why hand-written: the generator must outrun the server it measures. Per
 * request, node:http and fetch (undici) build request objects, validate
 * headers, run llhttp's callbacks into JS for every header and body chunk, and
 * allocate streams and promises; here a request is one write of a shared
 * Buffer and a response is an indexOf or two on bytes read into one reused
 * buffer. Measured by `npm run bench -- loadgen` (closed loop, 32 connections,
 * one thread, against nginx `return 200`, 2-core machine shared with other
 * work): this client 44798 rps, node:http with a keep-alive Agent 6963, fetch
 * (undici) 2089, and wrk 44011 (docs/benchmarks.md).
 */
import net from 'node:net';
import type { ConnectionEvents, LoadConnection, RequestTemplate } from './client.js';
import { errorKind } from './client.js';

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const MAX_HEAD_BYTES = 64 * 1024;
/** One read buffer for every connection of this thread: reads are handled synchronously, one at a time. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  Trailers,
}

/** The request as bytes, built once per run. */
export function buildHttp1Request(template: RequestTemplate): Buffer {
  const { target, method, headers, body } = template;
  const has = (name: string): boolean => headers.some(([key]) => key.toLowerCase() === name);
  const hostHeader = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  let head = `${method} ${target.path} HTTP/1.1\r\n`;
  if (!has('host')) head += `Host: ${hostHeader}\r\n`;
  if (!has('user-agent')) head += 'User-Agent: weft-perf\r\n';
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  if (!has('content-length') && (body !== undefined || method === 'POST' || method === 'PUT' || method === 'PATCH')) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  head += '\r\n';
  const headBytes = Buffer.from(head, 'latin1');
  return body === undefined ? headBytes : Buffer.concat([headBytes, body]);
}

/** Case-insensitive compare of a lower-case header name at `pos`, followed by ':'. */
function nameIs(buf: Buffer, pos: number, end: number, lower: string): boolean {
  if (pos + lower.length >= end || buf[pos + lower.length] !== 0x3a) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[pos + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Whether the header value between `from` and `to` contains the lower-case `token` (compared without allocating). */
function valueHas(buf: Buffer, from: number, to: number, token: string): boolean {
  const last = to - token.length;
  outer: for (let i = from; i <= last; i++) {
    for (let j = 0; j < token.length; j++) if ((buf[i + j]! | 0x20) !== token.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

const HTTP_1 = Buffer.from('HTTP/1.', 'latin1');

class Http1Connection implements LoadConnection {
  private readonly socket: net.Socket;
  private pending: Buffer | undefined = undefined;
  private state = State.Head;
  private remaining = 0;
  private status = 0;
  private keepAlive = true;
  private inFlight = false;
  private connected = false;
  private dead = false;
  private lastError: string | undefined = undefined;

  constructor(
    private readonly request: Buffer,
    private readonly headRequest: boolean,
    template: RequestTemplate,
    private readonly events: ConnectionEvents,
  ) {
    // `onread` hands reads to us in one reused buffer, skipping the stream machinery ('data' events,
    // a Buffer per read): about a third less CPU per response. Bytes kept across reads are copied.
    this.socket = net.connect({
      host: template.target.host,
      port: template.target.port,
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback: (bytes: number) => {
          this.onData(readBuffer, bytes);
          return true;
        },
      },
    });
    this.socket.on('connect', () => {
      this.connected = true;
      if (!this.dead) this.events.onReady();
    });
    this.socket.on('error', (error) => {
      this.lastError = errorKind(error);
    });
    this.socket.on('close', () => this.onClose());
  }

  send(): void {
    this.inFlight = true;
    this.socket.write(this.request);
  }

  destroy(): void {
    this.dead = true;
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.dead) return;
    this.dead = true;
    const kind = this.lastError ?? (this.state === State.Head && this.pending === undefined ? 'closed by server' : 'response truncated');
    if (this.inFlight) {
      this.inFlight = false;
      this.events.onFailure(kind);
    }
    this.events.onClosed(this.connected ? undefined : kind);
  }

  private fail(kind: string): void {
    this.lastError = kind;
    this.socket.destroy();
  }

  /** Parses the first `length` bytes of `chunk` (the shared read buffer: searches must not see past them). */
  private onData(chunk: Buffer, length: number): void {
    if (this.dead) return;
    let buf = chunk.subarray(0, length);
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    const limit = buf.length;
    let off = 0;
    while (off < limit) {
      if (this.dead) return;
      if (!this.inFlight) return this.fail('protocol: bytes without a request');
      switch (this.state) {
        case State.Head: {
          const end = buf.indexOf(HEAD_END, off);
          if (end < 0) {
            if (limit - off > MAX_HEAD_BYTES) return this.fail('protocol: response head too large');
            return this.keep(buf, off);
          }
          const problem = this.parseHead(buf, off, end);
          if (problem !== undefined) return this.fail(`protocol: ${problem}`);
          off = end + 4;
          if (this.state === State.Head && this.status >= 200) this.complete();
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const take = Math.min(limit - off, this.remaining);
          off += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === State.Body) this.complete();
            else this.state = State.ChunkSize;
          }
          break;
        }
        case State.ChunkSize: {
          const lf = buf.indexOf(LF, off);
          if (lf < 0) return this.keep(buf, off);
          let size = 0;
          let digits = 0;
          for (let i = off; i < lf; i++) {
            const c = buf[i]! | 0x20;
            const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
            if (digit < 0) break; // ';' chunk extension or CR
            size = size * 16 + digit;
            digits++;
          }
          if (digits === 0) return this.fail('protocol: bad chunk size');
          off = lf + 1;
          if (size === 0) this.state = State.Trailers;
          else {
            this.state = State.ChunkData;
            this.remaining = size + 2; // the chunk's CRLF
          }
          break;
        }
        case State.Trailers: {
          const lf = buf.indexOf(LF, off);
          if (lf < 0) return this.keep(buf, off);
          const empty = lf === off || (lf === off + 1 && buf[off] === CR);
          off = lf + 1;
          if (empty) this.complete();
          break;
        }
      }
    }
  }

  /** Keeps an incomplete element for the next read: a copy, as the read buffer is reused. */
  private keep(buf: Buffer, off: number): void {
    this.pending = Buffer.from(buf.subarray(off));
  }

  /** Reads the status and framing headers; returns a problem description or undefined. */
  private parseHead(buf: Buffer, start: number, end: number): string | undefined {
    // "HTTP/1.x NNN"
    if (end - start < 12 || buf.compare(HTTP_1, 0, 7, start, start + 7) !== 0 || buf[start + 8] !== 0x20) return 'bad status line';
    const d0 = buf[start + 9]! - 0x30;
    const d1 = buf[start + 10]! - 0x30;
    const d2 = buf[start + 11]! - 0x30;
    if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 'bad status code';
    this.status = d0 * 100 + d1 * 10 + d2;
    this.keepAlive = buf[start + 7] === 0x31;
    let contentLength = -1;
    let chunked = false;
    let pos = buf.indexOf(LF, start) + 1;
    while (pos > 0 && pos < end) {
      let lineEnd = buf.indexOf(LF, pos);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end;
      const first = buf[pos]! | 0x20;
      if (first === 0x63 /* c */) {
        if (nameIs(buf, pos, lineEnd, 'content-length')) {
          contentLength = 0;
          for (let i = pos + 15; i < lineEnd; i++) {
            const c = buf[i]!;
            if (c >= 0x30 && c <= 0x39) contentLength = contentLength * 10 + (c - 0x30);
            else if (c !== 0x20 && c !== 0x09 && c !== CR) return 'bad content-length';
          }
        } else if (nameIs(buf, pos, lineEnd, 'connection')) {
          if (valueHas(buf, pos + 11, lineEnd, 'close')) this.keepAlive = false;
          else if (valueHas(buf, pos + 11, lineEnd, 'keep-alive')) this.keepAlive = true;
        }
      } else if (first === 0x74 /* t */ && nameIs(buf, pos, lineEnd, 'transfer-encoding')) {
        chunked = valueHas(buf, pos + 18, lineEnd, 'chunked');
      }
      pos = lineEnd + 1;
    }
    if (this.status < 200) return undefined; // 1xx: the final response follows
    if (this.headRequest || this.status === 204 || this.status === 304) this.state = State.Head;
    else if (chunked) this.state = State.ChunkSize;
    else if (contentLength > 0) {
      this.state = State.Body;
      this.remaining = contentLength;
    } else if (contentLength === 0) this.state = State.Head;
    else return 'response has neither content-length nor chunked encoding';
    return undefined;
  }

  private complete(): void {
    this.state = State.Head;
    this.inFlight = false;
    const reusable = this.keepAlive;
    if (!reusable) this.dead = true;
    this.events.onResponse(this.status, reusable);
    if (!reusable) {
      this.socket.destroy();
      this.events.onClosed(undefined);
    }
  }
}

export function http1ConnectionFactory(template: RequestTemplate): (events: ConnectionEvents) => LoadConnection {
  const request = buildHttp1Request(template);
  const headRequest = template.method === 'HEAD';
  return (events) => new Http1Connection(request, headRequest, template, events);
}
