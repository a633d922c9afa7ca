/**
 * One try of a request on one pooled upstream connection: write the head and
 * body, parse the response, hand it to the owner (the Forwarder), and give the
 * connection back to the pool — reusable only when both messages ended cleanly.
 *
 * Each pooled connection gets one Channel (its socket listeners and response
 * parser) the first time it is used, kept for its life, so a request costs no
 * listener churn. The channel forwards events to whichever attempt owns it.
 */
import type { Socket } from 'node:net';
import { WeftError } from '../../lib/errors.js';
import { Deadline } from '../../lib/timers.js';
import type { UpstreamOutcome } from '../router/retry-state.js';
import { tunnel } from '../tcp/pipe.js';
import type { Host, PoolError, UpstreamConnection } from '../upstream/types.js';
import { Framing, LAST_CHUNK, requestHead, WireWriter } from './codec.js';
import type { HcmContext } from './hcm-context.js';
import { HeaderMap } from './headers.js';
import { ResponseParser, type HttpParseError, type MessageHead, type ParserHandler } from './parser.js';

export interface UpstreamResponse {
  statusCode: number;
  reason: string;
  headers: HeaderMap;
  /** -1 when the response had no Content-Length. */
  contentLength: number;
  connectionTokens: readonly string[];
  upgrade: boolean;
}

export interface AttemptRequest {
  method: string;
  path: string;
  headers: HeaderMap;
  contentLength: number;
  chunked: boolean;
  upgrade: boolean;
}

export interface AttemptOwner {
  onAttemptConnected(attempt: UpstreamAttempt): void;
  /** The upstream socket drained: request body may flow again. */
  onAttemptDrained(): void;
  /** The end of one upstream read; false = the downstream is backed up (the upstream pauses). */
  onAttemptReadEnd(): boolean;
  /** false = the owner is retrying; the attempt has been aborted. */
  onAttemptResponseHead(attempt: UpstreamAttempt, response: UpstreamResponse): boolean;
  onAttemptResponseBody(chunk: Buffer): boolean;
  onAttemptComplete(): void;
  /** `outcome` undefined = not retriable (pool overflow). */
  onAttemptFailed(attempt: UpstreamAttempt, outcome: UpstreamOutcome | undefined, error: WeftError, flag: string): void;
}

export class UpstreamAttempt {
  connected = false;
  reusedConnection = false;
  receivedBytes = false;
  /** Set on the fresh attempt that replaces one lost to a stale keep-alive connection. */
  retriedStale = false;
  private conn: UpstreamConnection | undefined;
  private channel: Channel | undefined;
  private acquiring: { cancel(): void } | undefined;
  private readonly framing: Framing;
  private requestEnded = false;
  /** Set while onAcquired writes the head: body written meanwhile joins it in one write. */
  private writingHead = false;
  private responseHead: MessageHead | undefined;
  private done = false;
  /** Only when the route sets per_try_timeout. */
  private perTryDeadline: Deadline | undefined;

  constructor(
    private readonly owner: AttemptOwner,
    private readonly context: HcmContext,
    readonly host: Host,
    private readonly request: AttemptRequest,
    private readonly perTryTimeoutMs: number,
  ) {
    this.framing = request.chunked ? Framing.Chunked : request.contentLength >= 0 ? Framing.ContentLength : Framing.None;
  }

  start(): void {
    this.host.onRequestStart();
    this.acquiring = this.host.pool.acquire((err, conn) => this.onAcquired(err, conn));
  }

  sendBody(chunk: Buffer): boolean {
    const out = this.channel!.out;
    const flowing = this.framing === Framing.Chunked ? out.chunk(chunk) : out.bytes(chunk);
    return this.writingHead ? flowing : out.flush();
  }

  endBody(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (this.framing === Framing.Chunked) {
      this.channel!.out.text(LAST_CHUNK);
      if (!this.writingHead) this.channel!.out.flush();
    }
    if (this.perTryTimeoutMs > 0) {
      this.perTryDeadline = new Deadline(this.context.wheel, () => this.fail({ kind: 'timeout' }, new WeftError('WEFT_ERR_UPSTREAM_TIMEOUT', 'per-try timeout'), 'UT'));
      this.perTryDeadline.arm(this.perTryTimeoutMs);
    }
  }

  resumeResponse(): void {
    if (this.conn !== undefined && !this.done) this.conn.socket.resume();
  }

  /** Abandons the try: the connection is closed, never reused mid-message. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.perTryDeadline?.disarm();
    this.acquiring?.cancel();
    this.acquiring = undefined;
    this.releaseConnection(false);
  }

  /** After a 101: splices the downstream and upstream sockets; the connection leaves the pool's reuse for good. */
  tunnel(downstream: Socket, downstreamLeftover: Buffer): void {
    const conn = this.conn!;
    const channel = this.channel!;
    this.done = true;
    this.perTryDeadline?.disarm();
    channel.detach();
    const upstreamLeftover = channel.parser.takeLeftover();
    if (upstreamLeftover.length > 0) downstream.write(upstreamLeftover);
    if (downstreamLeftover.length > 0) conn.socket.write(downstreamLeftover);
    tunnel(downstream, conn.socket, {
      idleTimeoutMs: this.context.config.streamIdleTimeoutMs,
      wheel: this.context.wheel,
      onClose: () => {
        this.context.stats.downstream_cx_upgrades_active.dec();
        this.host.pool.release(conn, false);
      },
    });
    this.context.stats.downstream_cx_upgrades_active.inc();
  }

  // --- pool -------------------------------------------------------------------------

  private onAcquired(err: PoolError | undefined, conn: UpstreamConnection | undefined): void {
    this.acquiring = undefined;
    if (this.done) {
      if (conn !== undefined) this.host.pool.release(conn, true);
      return;
    }
    if (err !== undefined || conn === undefined) {
      if (err?.kind === 'overflow') {
        this.fail(undefined, new WeftError('WEFT_ERR_UPSTREAM_OVERFLOW', err.message), 'UO');
      } else {
        this.fail({ kind: 'connect-failure' }, new WeftError('WEFT_ERR_UPSTREAM_CONNECT', err?.message ?? 'connect failed', { cause: err?.cause }), 'UF');
      }
      return;
    }
    this.conn = conn;
    this.reusedConnection = conn.requests > 1;
    const channel = channelFor(conn);
    channel.attach(this);
    this.channel = channel;
    channel.parser.expectResponseTo(this.request.method);
    // An HTTP/1.0 client may omit Host; the upstream request is HTTP/1.1, which requires it.
    if (!this.request.headers.has('host')) this.request.headers.add('host', this.host.hostname);
    const socket = conn.socket;
    // The head and whatever body is already here leave in one write.
    channel.out.text(requestHead(this.request.method, this.request.path, this.request.headers, this.framing, this.request.contentLength, this.request.upgrade));
    this.connected = true;
    this.writingHead = true;
    this.owner.onAttemptConnected(this);
    this.writingHead = false;
    // The attempt may have ended meanwhile (the channel is then detached); its bytes go out regardless, as before.
    channel.out.flush();
    if (socket.isPaused()) socket.resume();
  }

  // --- channel events ---------------------------------------------------------------

  onData(chunk: Buffer, parser: ResponseParser): void {
    this.receivedBytes = true;
    parser.execute(chunk);
    // One write downstream for everything this read produced (head + body + last chunk).
    if (!this.owner.onAttemptReadEnd() && !this.done) this.conn?.socket.pause();
  }

  onDrain(): void {
    if (!this.done) this.owner.onAttemptDrained();
  }

  /** The upstream closed its side (or the socket errored/closed). */
  onSocketClosed(parser: ResponseParser): void {
    if (this.done) return;
    // A close-delimited body ends here; otherwise the response is incomplete.
    if (this.responseHead !== undefined) parser.finish();
    if (!this.done) this.fail({ kind: 'reset' }, new WeftError('WEFT_ERR_UPSTREAM_RESET', 'upstream connection closed before the response completed'), 'UC');
  }

  onHead(head: MessageHead): void {
    if (this.done) return;
    // RFC 9110 7.8: a server may switch only to a protocol the request offered. Past a 101 the
    // connection speaks something else, so relaying it as HTTP (or pooling it) would desync.
    if (head.statusCode === 101 && !this.request.upgrade) {
      this.fail({ kind: 'reset' }, new WeftError('WEFT_ERR_UPSTREAM_PROTOCOL', 'upstream switched protocols without an upgrade request'), 'UPE');
      return;
    }
    this.responseHead = head;
    this.perTryDeadline?.disarm();
    const response: UpstreamResponse = {
      statusCode: head.statusCode,
      reason: head.reason,
      headers: HeaderMap.fromRaw(head.rawHeaders),
      contentLength: head.contentLength,
      connectionTokens: head.connectionTokens,
      upgrade: head.upgrade && this.request.upgrade,
    };
    this.owner.onAttemptResponseHead(this, response);
  }

  onBody(chunk: Buffer): void {
    if (this.done) return;
    if (!this.owner.onAttemptResponseBody(chunk)) this.conn?.socket.pause();
  }

  onComplete(): void {
    if (this.done) return;
    const head = this.responseHead;
    // Upgrade completion is handled by tunnel(); an upgrade refused by the server ends normally.
    if (head === undefined) return;
    this.done = true;
    this.perTryDeadline?.disarm();
    const leftover = this.channel!.parser.takeLeftover();
    const reusable = head.keepAlive && this.requestEnded && leftover.length === 0 && !this.request.upgrade;
    this.releaseConnection(reusable);
    this.owner.onAttemptComplete();
  }

  onParseError(err: HttpParseError): void {
    // EOF inside a message (a body shorter than its Content-Length) is the connection's end, not bad bytes.
    if (err.code === 'incomplete_message') {
      this.fail({ kind: 'reset' }, new WeftError('WEFT_ERR_UPSTREAM_RESET', 'upstream connection closed before the response completed'), 'UC');
      return;
    }
    this.fail({ kind: 'reset' }, new WeftError('WEFT_ERR_UPSTREAM_PROTOCOL', `invalid upstream response: ${err.message}`), 'UPE');
  }

  // --- internals ----------------------------------------------------------------------

  private fail(outcome: UpstreamOutcome | undefined, error: WeftError, flag: string): void {
    if (this.done) return;
    this.abort();
    this.owner.onAttemptFailed(this, outcome, error, flag);
  }

  private releaseConnection(reusable: boolean): void {
    const conn = this.conn;
    if (conn === undefined) return;
    this.conn = undefined;
    this.channel?.detach();
    this.channel = undefined;
    this.host.pool.release(conn, reusable);
  }
}

// --- channels: per-connection listeners and parser -----------------------------------

const channels = new WeakMap<UpstreamConnection, Channel>();

function channelFor(conn: UpstreamConnection): Channel {
  let channel = channels.get(conn);
  if (channel === undefined) {
    channel = new Channel(conn);
    channels.set(conn, channel);
  }
  return channel;
}

class Channel implements ParserHandler {
  readonly parser: ResponseParser;
  /** The request side's writer, reused by every request on this connection. */
  readonly out: WireWriter;
  private owner: UpstreamAttempt | undefined;

  private readonly socket: Socket;

  constructor(conn: UpstreamConnection) {
    const socket = conn.socket;
    this.socket = socket;
    this.parser = new ResponseParser(this);
    this.out = new WireWriter(socket);
    // The pool's own 'data' listener hands bytes here (one listener per socket, none added per request).
    conn.onData = (chunk: Buffer) => this.owner?.onData(chunk, this.parser);
    socket.on('drain', () => this.owner?.onDrain());
    socket.on('end', () => this.owner?.onSocketClosed(this.parser));
    socket.on('close', () => this.owner?.onSocketClosed(this.parser));
  }

  attach(owner: UpstreamAttempt): void {
    this.owner = owner;
    if (this.parser.paused) this.parser.resume();
  }

  detach(): void {
    this.owner = undefined;
    if (this.socket.isPaused()) this.socket.resume();
  }

  onHead(head: MessageHead): void {
    this.owner?.onHead(head);
  }

  onBody(chunk: Buffer): void {
    this.owner?.onBody(chunk);
  }

  onComplete(): void {
    this.owner?.onComplete();
  }

  onError(err: HttpParseError): void {
    this.owner?.onParseError(err);
  }
}
