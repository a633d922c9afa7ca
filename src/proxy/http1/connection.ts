/**
 * One downstream HTTP/1.1 connection: reads requests with the strict parser,
 * runs them one at a time (pipelined requests wait, RFC 9112 9.3.2), and
 * decides after each response whether the connection lives on.
 *
 * Invariants:
 *  - At most one ActiveStream; the parser is paused from a request's end until
 *    its response is done, so a pipelined request never overtakes one in flight.
 *  - The parser is never re-entered from its own callbacks (`inParser`).
 *  - A parse error answers with its status and `connection: close`, then closes:
 *    nothing after a malformed message is ever interpreted.
 */
import { SocketDownstreamInfo } from '../listener/downstream-info.js';
import { formatHostPort } from '../../lib/address.js';
import type { Socket } from 'node:net';
import { Deadline } from '../../lib/timers.js';
import type { HcmContext } from './hcm-context.js';
import { RequestParser, type HttpParseError, type MessageHead, type ParserHandler } from './parser.js';
import { ActiveStream } from './stream.js';
import { localReplyBytes } from './local-reply.js';

/** Time to receive a complete request head when the config leaves it unset (slowloris). */
const DEFAULT_REQUEST_HEADERS_TIMEOUT_MS = 10_000;
/** Bytes read ahead while a request is in flight before the socket is paused. */
const PIPELINE_READ_AHEAD_BYTES = 64 * 1024;

let nextConnectionId = 1;

export class DownstreamConnection implements ParserHandler {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  readonly remoteIp: string;
  readonly localAddress: string;
  /** Addresses and the mTLS peer identity, for authorization filters. */
  readonly downstream: SocketDownstreamInfo;
  readonly startedAt: number;
  private readonly parser: RequestParser;
  private stream: ActiveStream | undefined;
  private inParser = false;
  private closed = false;
  /** Set when the connection must close once the current response is out. */
  private closeAfterResponse = false;
  private readAheadBytes = 0;
  private readonly idleDeadline: Deadline;
  private readonly headersDeadline: Deadline;

  constructor(
    readonly context: HcmContext,
    readonly socket: Socket,
    private readonly onClosed: (connection: DownstreamConnection) => void,
  ) {
    this.startedAt = context.now();
    this.remoteIp = socket.remoteAddress ?? '';
    this.remoteAddress = formatHostPort(this.remoteIp, socket.remotePort ?? 0);
    this.localAddress = formatHostPort(socket.localAddress ?? '', socket.localPort ?? 0);
    this.downstream = new SocketDownstreamInfo(socket);
    this.parser = new RequestParser(this, context.limits);
    this.idleDeadline = new Deadline(context.wheel, () => this.onIdleTimeout());
    this.headersDeadline = new Deadline(context.wheel, () => this.onHeadersTimeout());
    const stats = context.stats;
    stats.downstream_cx_total.inc();
    stats.downstream_cx_http1_total.inc();
    stats.downstream_cx_active.inc();
    stats.downstream_cx_http1_active.inc();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onPeerClosed());
    socket.on('error', () => this.onPeerClosed());
    socket.on('close', () => this.onSocketClose());
    socket.on('drain', () => this.stream?.onDownstreamDrain());
    this.waitForRequest();
  }

  // --- socket events -------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.context.stats.downstream_cx_rx_bytes_total.inc(chunk.length);
    if (this.stream === undefined && !this.headersDeadline.armed) this.armHeadersDeadline();
    this.idleDeadline.disarm();
    if (this.parser.paused) {
      // A pipelined request behind one in flight: keep it, but bounded.
      this.readAheadBytes += chunk.length;
      if (this.readAheadBytes > PIPELINE_READ_AHEAD_BYTES) this.socket.pause();
    }
    this.stream?.onDownstreamActivity();
    // No cork: a stream's response leaves in one write of its own (WireWriter).
    this.inParser = true;
    this.parser.execute(chunk);
    this.inParser = false;
    this.parseWhileIdle();
  }

  private onPeerClosed(): void {
    if (this.stream !== undefined) this.stream.onDownstreamReset();
    this.destroy();
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.onPeerClosed();
  }

  // --- parser callbacks ----------------------------------------------------

  onHead(head: MessageHead): void {
    this.headersDeadline.disarm();
    this.readAheadBytes = 0;
    const stream = new ActiveStream(this, head);
    this.stream = stream;
    stream.start();
  }

  onBody(chunk: Buffer): void {
    this.stream?.onRequestBody(chunk);
  }

  onComplete(): void {
    this.stream?.onRequestComplete();
  }

  onError(err: HttpParseError): void {
    this.headersDeadline.disarm();
    const stats = this.context.stats;
    stats.downstream_cx_protocol_error.inc();
    if (err.status === 431 || err.status === 413) stats.downstream_rq_too_large.inc();
    if (this.stream !== undefined) {
      // A malformed body of a request already forwarded: that stream cannot be saved.
      this.stream.onRequestError(err);
      return;
    }
    this.replyAndClose(err.status, err.code);
  }

  // --- stream lifecycle ----------------------------------------------------

  /** Writes a connection-level error response and closes (no stream exists). */
  replyAndClose(status: number, details: string): void {
    if (this.closed) return;
    this.socket.end(localReplyBytes(status, details, this.context.config.serverName));
    this.context.stats[statusClassCounter(status)].inc();
    this.closed = true;
    this.finishClose();
  }

  /** The stream says: after this response, close. */
  markCloseAfterResponse(): void {
    this.closeAfterResponse = true;
  }

  get willClose(): boolean {
    return this.closeAfterResponse || this.context.draining;
  }

  /** Called by the stream when both its request and response are complete (or it was reset). */
  onStreamDone(stream: ActiveStream, reusable: boolean): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    if (!reusable || this.willClose) {
      if (this.context.draining && reusable) this.context.stats.downstream_cx_drain_close.inc();
      this.closeGracefully();
      return;
    }
    this.readAheadBytes = 0;
    if (this.socket.isPaused()) this.socket.resume();
    this.waitForRequest();
    if (!this.inParser) this.parseWhileIdle();
  }

  /** Hands the socket to a tunnel (WebSocket upgrade); the connection stops managing it. */
  detachForUpgrade(): Buffer {
    const leftover = this.parser.takeLeftover();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('drain');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
    this.idleDeadline.disarm();
    this.headersDeadline.disarm();
    this.stream = undefined;
    this.closed = true;
    this.finishClose();
    return leftover;
  }

  /** Graceful drain: idle connections close now, busy ones after their response. */
  drain(): void {
    if (this.stream === undefined) this.closeGracefully();
    else this.closeAfterResponse = true;
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.finishClose();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // --- internals -----------------------------------------------------------

  /** Parses pipelined requests that arrived while the previous one was in flight. */
  private parseWhileIdle(): void {
    while (this.stream === undefined && this.parser.paused && !this.closed) {
      this.inParser = true;
      this.parser.resume();
      this.inParser = false;
    }
    // Half a pipelined head read ahead while the previous request was in flight: it gets
    // the same deadline as one arriving now (no later byte may come to arm it in onData).
    if (this.stream === undefined && !this.closed && !this.headersDeadline.armed && this.parser.inMessage) this.armHeadersDeadline();
  }

  private waitForRequest(): void {
    this.idleDeadline.arm(this.context.config.idleTimeoutMs);
  }

  private armHeadersDeadline(): void {
    const configured = this.context.config.requestHeadersTimeoutMs;
    this.headersDeadline.arm(configured > 0 ? configured : DEFAULT_REQUEST_HEADERS_TIMEOUT_MS);
  }

  private onIdleTimeout(): void {
    if (this.stream !== undefined) return;
    this.context.stats.downstream_cx_idle_timeout.inc();
    this.closeGracefully();
  }

  private onHeadersTimeout(): void {
    if (this.stream !== undefined || this.closed) return;
    this.context.stats.downstream_rq_header_timeout.inc();
    this.replyAndClose(408, 'request_header_timeout');
  }

  private closeGracefully(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    // A peer that never reads its last response must not pin the socket.
    this.socket.setTimeout(this.context.config.drainTimeoutMs || 5000, () => this.socket.destroy());
    this.finishClose();
  }

  private finishClose(): void {
    this.idleDeadline.disarm();
    this.headersDeadline.disarm();
    const stats = this.context.stats;
    stats.downstream_cx_destroy.inc();
    stats.downstream_cx_active.dec();
    stats.downstream_cx_http1_active.dec();
    stats.downstream_cx_length_ms.record(this.context.now() - this.startedAt);
    this.onClosed(this);
  }
}

export function statusClassCounter(status: number): 'downstream_rq_1xx' | 'downstream_rq_2xx' | 'downstream_rq_3xx' | 'downstream_rq_4xx' | 'downstream_rq_5xx' {
  if (status < 200) return 'downstream_rq_1xx';
  if (status < 300) return 'downstream_rq_2xx';
  if (status < 400) return 'downstream_rq_3xx';
  if (status < 500) return 'downstream_rq_4xx';
  return 'downstream_rq_5xx';
}

