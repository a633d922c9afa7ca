/**
 * Strict, incremental HTTP/1.1 message parser (RFC 9112) for the proxy's raw sockets.
 *
 * Design note:
 * - One state machine (`MessageParser`) with two faces: `RequestParser` (downstream)
 *   and `ResponseParser` (upstream). They differ only in the start line and in how
 *   the head decides the body's framing.
 * - Lines are found with `indexOf(CR)` and then validated byte by byte with the
 *   lookup tables of parser-tables.ts; only the strings handed to the caller are
 *   allocated (method, target, names, values, Connection tokens). A line split
 *   across socket reads is stashed in a per-parser scratch buffer, which holds at
 *   most one line and is bounded by the limits.
 * - Bodies are never buffered: each available slice goes to `onBody` as a subarray.
 * - Anything RFC 9112 lets a recipient reject is rejected (see HttpParseErrorCode):
 *   ambiguity in framing is how requests get smuggled, so there is no lenient mode.
 * - After `onComplete` the parser pauses and keeps the unparsed bytes; the caller
 *   pauses its socket, so at most one read is kept. Invariant: `scratchLen === 0`
 *   whenever a message completes, so kept bytes are the whole leftover.
 */
import {
  FIELD_VALUE_CHAR,
  HEX_VALUE,
  IP_LITERAL_CHAR,
  QDTEXT_CHAR,
  QUOTED_PAIR_CHAR,
  REG_NAME_CHAR,
  TARGET_CHAR,
  TCHAR,
} from './parser-tables.js';

export interface ParserLimits {
  /** Whole head (start line + fields + CRLFs); exceeding => 431. Also bounds a trailer section. */
  maxHeaderBytes: number;
  /** Field count; exceeding => 431. */
  maxHeaders: number;
  /** Start line without its CRLF; a longer request-line => 414, status-line => 400. */
  maxStartLineBytes: number;
}

export const DEFAULT_LIMITS: ParserLimits = Object.freeze({
  maxHeaderBytes: 60 * 1024,
  maxHeaders: 100,
  maxStartLineBytes: 16 * 1024,
});

export interface MessageHead {
  /** Requests; '' for responses. */
  method: string;
  /** request-target as received; '' for responses. */
  target: string;
  /** Responses; 0 for requests. */
  statusCode: number;
  /** Responses; '' for requests. */
  reason: string;
  versionMinor: 0 | 1;
  /** Flat [name, value, ...]: names as received, values with surrounding OWS trimmed. */
  rawHeaders: string[];
  /** The Content-Length header's value, -1 when absent. A response to HEAD, a 1xx, 204 or 304 has no body whatever it says. */
  contentLength: number;
  /** Transfer-Encoding: chunked (the only coding accepted). */
  chunked: boolean;
  keepAlive: boolean;
  /**
   * The connection may switch protocols after this message; the parser pauses after it and
   * `takeLeftover()` returns the first tunnelled bytes. Request: HTTP/1.1 with a `Connection: upgrade`
   * token and an Upgrade header, or method CONNECT. Response: status 101, or 2xx to CONNECT.
   * If the switch does not happen (e.g. the upstream refused), `resume()` goes on parsing HTTP.
   */
  upgrade: boolean;
  /** HTTP/1.1 request with `Expect: 100-continue`. */
  expectContinue: boolean;
  /** Lower-cased tokens of all Connection headers (for hop-by-hop stripping). */
  connectionTokens: string[];
  /**
   * Request: the Host header value ('' if none), except for an absolute-form target, whose
   * authority wins (RFC 9112 3.2.2 tells the recipient to ignore Host then). '' for responses.
   */
  host: string;
}

export type HttpParseErrorCode =
  | 'bare_cr'
  | 'bare_lf'
  | 'too_many_empty_lines'
  | 'invalid_method'
  | 'invalid_request_target'
  | 'invalid_version'
  | 'unsupported_version'
  | 'request_line_too_long'
  | 'invalid_status_line'
  | 'status_line_too_long'
  | 'obs_fold'
  | 'invalid_header_name'
  | 'whitespace_before_colon'
  | 'invalid_header_value'
  | 'header_section_too_large'
  | 'too_many_headers'
  | 'invalid_content_length'
  | 'duplicate_content_length'
  | 'content_length_with_transfer_encoding'
  | 'invalid_transfer_encoding'
  | 'transfer_encoding_in_http10'
  | 'chunked_not_last'
  | 'unsupported_transfer_encoding'
  | 'invalid_connection_header'
  | 'missing_host'
  | 'duplicate_host'
  | 'invalid_host'
  | 'connect_with_body'
  | 'invalid_chunk_size'
  | 'chunk_size_overflow'
  | 'invalid_chunk_extension'
  | 'chunk_line_too_long'
  | 'invalid_chunk_data_end'
  | 'incomplete_message';

export interface HttpParseError {
  status: 400 | 413 | 414 | 431 | 501 | 505;
  code: HttpParseErrorCode;
  message: string;
}

export interface ParserHandler {
  onHead(head: MessageHead): void;
  /** A subarray of the input chunk (no copy); valid as long as the caller keeps that chunk. */
  onBody(chunk: Buffer): void;
  /** Message done; the parser is now paused. */
  onComplete(): void;
  /** The parser is now dead; further execute() calls are ignored. */
  onError(err: HttpParseError): void;
  /** Response parser only: a 1xx other than 101; parsing continues with the final response. */
  onInformational?(head: MessageHead): void;
}

const enum State {
  StartLine = 0,
  Fields = 1,
  BodyLength = 2,
  ChunkSize = 3,
  ChunkData = 4,
  ChunkDataCr = 5,
  ChunkDataLf = 6,
  Trailers = 7,
  BodyUntilClose = 8,
  Dead = 9,
}

const HTAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const DQUOTE = 0x22;
const STAR = 0x2a;
const COMMA = 0x2c;
const DOT = 0x2e;
const SLASH = 0x2f;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUESTION = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;

/** RFC 9112 2.2 asks to tolerate "at least one" empty line before a request-line; a few more is generous. */
const MAX_LEADING_EMPTY_LINES = 4;
/** A chunk-size line with its extensions (extensions are ignored, so no legitimate sender needs more). */
const MAX_CHUNK_LINE_BYTES = 4096;
/** 15 hex digits; the value must also fit in a safe integer. */
const MAX_CHUNK_SIZE_DIGITS = 15;
/** Drop a scratch buffer that grew past this once its line is parsed, so idle connections stay small. */
const MAX_RETAINED_SCRATCH = 16 * 1024;
const EMPTY = Buffer.alloc(0);
const BARE_LF_MESSAGE = 'LF not preceded by CR';

/** Methods returned as shared constants instead of fresh strings (and compared by identity later). */
const COMMON_METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];

/** Lower-case patterns matched with `byte | 0x20` (see matchesLower). */
const NAME_HOST = pattern('host');
const NAME_EXPECT = pattern('expect');
const NAME_UPGRADE = pattern('upgrade');
const NAME_CONNECTION = pattern('connection');
const NAME_CONTENT_LENGTH = pattern('content-length');
const NAME_TRANSFER_ENCODING = pattern('transfer-encoding');
const TOKEN_CLOSE = pattern('close');
const TOKEN_KEEP_ALIVE = pattern('keep-alive');
const TOKEN_UPGRADE = NAME_UPGRADE;
const CODING_CHUNKED = pattern('chunked');
const EXPECT_100_CONTINUE = pattern('100-continue');
const SCHEME_HTTP = pattern('http://');
const SCHEME_HTTPS = pattern('https://');
const VERSION_PREFIX = Buffer.from('HTTP/', 'latin1');

function pattern(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** Buffer#latin1Slice is Node's fast path behind toString('latin1'); @types/node does not declare it. */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

function latin1(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : (buf as Latin1Buffer).latin1Slice(start, end);
}

/**
 * Case-insensitive match of `buf[at..]` against a lower-case pattern of letters, digits,
 * '-', ':' and '/'. `| 0x20` folds only A-Z onto a-z for the bytes that can reach here:
 * the other bytes that fold onto a pattern byte are CTLs, which callers have rejected.
 */
function matchesLower(buf: Buffer, at: number, lower: Uint8Array): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[at + k]! | 0x20) !== lower[k]) return false;
  return true;
}

function hasLf(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] === LF) return true;
  return false;
}

function isOws(c: number): boolean {
  return c === SP || c === HTAB;
}

function skipOws(buf: Buffer, i: number, end: number): number {
  while (i < end && isOws(buf[i]!)) i++;
  return i;
}

function trimOwsEnd(buf: Buffer, start: number, end: number): number {
  while (end > start && isOws(buf[end - 1]!)) end--;
  return end;
}

/** Index of the next ',' in [i, end), or end. */
function listElementEnd(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] !== COMMA) i++;
  return i;
}

function isToken(buf: Buffer, start: number, end: number): boolean {
  if (start === end) return false;
  for (let i = start; i < end; i++) if (TCHAR[buf[i]!] === 0) return false;
  return true;
}

function internMethod(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  for (const method of COMMON_METHODS) {
    if (method.length !== len) continue;
    let k = 0;
    while (k < len && buf[start + k] === method.charCodeAt(k)) k++;
    if (k === len) return method;
  }
  return latin1(buf, start, end);
}

/** `HTTP/1.1` => 1, `HTTP/1.0` => 0, another well-formed `HTTP/D.D` => -2, anything else => -1. */
function parseVersion(buf: Buffer, start: number, end: number): number {
  if (end - start !== 8 || buf[start + 6] !== DOT) return -1;
  for (let k = 0; k < VERSION_PREFIX.length; k++) if (buf[start + k] !== VERSION_PREFIX[k]) return -1;
  const major = buf[start + 5]! - DIGIT_0;
  const minor = buf[start + 7]! - DIGIT_0;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return -1;
  return major === 1 && minor <= 1 ? minor : -2;
}

/**
 * RFC 3986 authority without userinfo: reg-name or IP-literal, then an optional
 * `:port` (1-5 digits, <= 65535; `requirePort` for CONNECT's authority-form).
 */
function isValidAuthority(buf: Buffer, start: number, end: number, requirePort: boolean): boolean {
  let i = start;
  if (i < end && buf[i] === LBRACKET) {
    i++;
    const literalStart = i;
    while (i < end && IP_LITERAL_CHAR[buf[i]!] === 1) i++;
    if (i === literalStart || i === end || buf[i] !== RBRACKET) return false;
    i++;
  } else {
    while (i < end && REG_NAME_CHAR[buf[i]!] === 1) i++;
    if (i === start) return false;
  }
  if (i === end) return !requirePort;
  if (buf[i] !== COLON) return false;
  const portStart = ++i;
  let port = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - DIGIT_0;
    if (digit < 0 || digit > 9) return false;
    port = port * 10 + digit;
    if (port > 65535) return false;
  }
  return i > portStart;
}

/** Returns the index after the closing DQUOTE of a quoted-string whose opening DQUOTE precedes `i`, or -1. */
function skipQuotedString(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) {
      if (i + 1 === end || QUOTED_PAIR_CHAR[buf[i + 1]!] === 0) return -1;
      i += 2;
    } else if (QDTEXT_CHAR[c] === 0) {
      return -1;
    } else {
      i++;
    }
  }
  return -1;
}

/** chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) (RFC 9112 7.1.1). */
function isValidChunkExtensions(buf: Buffer, i: number, end: number): boolean {
  while (i < end) {
    i = skipOws(buf, i, end);
    if (i === end || buf[i] !== SEMICOLON) return false;
    i = skipOws(buf, i + 1, end);
    const nameStart = i;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (i === nameStart) return false;
    const afterName = skipOws(buf, i, end);
    if (afterName < end && buf[afterName] === EQUALS) {
      i = skipOws(buf, afterName + 1, end);
      if (i < end && buf[i] === DQUOTE) {
        i = skipQuotedString(buf, i + 1, end);
        if (i < 0) return false;
      } else {
        const valueStart = i;
        while (i < end && TCHAR[buf[i]!] === 1) i++;
        if (i === valueStart) return false;
      }
    }
  }
  return true;
}

/**
 * The head between messages. The parser lets go of the last head (and the read it came
 * from) once the message ends: a kept-alive connection that idles for a while would
 * otherwise carry them through the young generation into the old one, per request.
 */
const NO_HEAD: MessageHead = frozenHead();

/** Frozen all through: a write to the placeholder is a bug and throws. */
function frozenHead(): MessageHead {
  const head = newHead();
  Object.freeze(head.rawHeaders);
  Object.freeze(head.connectionTokens);
  return Object.freeze(head);
}

function newHead(): MessageHead {
  return {
    method: '',
    target: '',
    statusCode: 0,
    reason: '',
    versionMinor: 1,
    rawHeaders: [],
    contentLength: -1,
    chunked: false,
    keepAlive: true,
    upgrade: false,
    expectContinue: false,
    connectionTokens: [],
    host: '',
  };
}

abstract class MessageParser {
  private state = State.StartLine;
  private isPaused = false;
  private executing = false;
  /** finish() was called; execute() is ignored from then on. */
  private closed = false;
  /** EOF arrived while paused (or mid-execute); applied once the kept bytes are parsed. */
  private eofPending = false;
  /** Unparsed input kept while paused. */
  private kept: Buffer | null = null;
  /** The chunk being parsed and the cursor in it (see parse()). */
  private input: Buffer = EMPTY;
  private pos = 0;

  /** The partial line carried over from an earlier chunk. */
  private scratch: Buffer | null = null;
  private scratchLen = 0;
  /** The current complete line (without CRLF), valid until the next nextLine(). */
  private lineBuf: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;
  /** A complete line is being interpreted (fail() then looks at it). */
  private lineActive = false;
  /** Results of scanFieldLine(). */
  private nameEnd = 0;
  private valueStart = 0;
  private valueEnd = 0;

  // Per message; reset by resetMessage().
  protected head: MessageHead = NO_HEAD;
  /** Bytes of the head (or of the trailer section) so far, CRLFs included. */
  private sectionBytes = 0;
  private fieldCount = 0;
  private emptyLines = 0;
  private remaining = 0;
  private transferEncodingSeen = false;
  private chunkedSeen = false;
  private chunkedNotLast = false;
  private unsupportedCoding = false;
  protected hostCount = 0;
  private connectionClose = false;
  private connectionKeepAlive = false;
  protected connectionUpgrade = false;
  protected upgradeHeaderSeen = false;
  protected expectContinueSeen = false;

  constructor(
    protected readonly handler: ParserHandler,
    protected readonly limits: ParserLimits,
    private readonly isRequest: boolean,
  ) {}

  get paused(): boolean {
    return this.isPaused;
  }

  /** Bytes of a message have been parsed but the message is not complete (e.g. half a head). */
  get inMessage(): boolean {
    return this.state !== State.StartLine || this.scratchLen > 0;
  }

  execute(chunk: Buffer): void {
    if (this.closed || this.state === State.Dead || chunk.length === 0) return;
    if (this.isPaused || this.executing) {
      this.kept = this.kept === null ? chunk : Buffer.concat([this.kept, chunk]);
      return;
    }
    this.drive(chunk);
  }

  resume(): void {
    if (!this.isPaused || this.state === State.Dead) return;
    this.isPaused = false;
    if (this.executing) return; // called from a callback: the running loop carries on
    const kept = this.kept;
    this.kept = null;
    if (kept !== null) this.drive(kept);
    else this.applyPendingEof();
  }

  finish(): void {
    if (this.closed || this.state === State.Dead) return;
    this.closed = true;
    this.eofPending = true;
    if (!this.isPaused && !this.executing) this.applyPendingEof();
  }

  /**
   * While paused (after onComplete, including from inside it): returns and clears the
   * bytes not parsed yet — after an upgrade, the start of the tunnelled stream.
   */
  takeLeftover(): Buffer {
    if (!this.isPaused) return EMPTY;
    let leftover = this.kept;
    this.kept = null;
    if (this.executing && this.pos < this.input.length) {
      const rest = this.input.subarray(this.pos);
      this.pos = this.input.length;
      leftover = leftover === null ? rest : Buffer.concat([rest, leftover]);
    }
    return leftover ?? EMPTY;
  }

  /** Parses the start line into `this.head`; reports and returns false on error. */
  protected abstract parseStartLine(buf: Buffer, start: number, end: number): boolean;
  protected abstract startLineTooLong(): void;
  /** Framing has been validated: emit the head and choose the body. */
  protected abstract onHeadComplete(): void;

  private drive(input: Buffer): void {
    this.executing = true;
    try {
      let buf: Buffer | null = input;
      while (buf !== null) {
        this.parse(buf);
        if (this.state === State.Dead) return;
        if (this.isPaused) {
          if (this.pos < buf.length) {
            const rest = buf.subarray(this.pos);
            this.kept = this.kept === null ? rest : Buffer.concat([rest, this.kept]);
          }
          return;
        }
        // Bytes handed to execute() from inside a callback.
        buf = this.kept;
        this.kept = null;
      }
    } finally {
      this.executing = false;
      this.input = EMPTY;
      this.lineBuf = EMPTY;
    }
    this.applyPendingEof();
  }

  private applyPendingEof(): void {
    if (!this.eofPending || this.isPaused || this.state === State.Dead) return;
    this.eofPending = false;
    if (this.state === State.BodyUntilClose) this.completeMessage();
    else if (this.state !== State.StartLine || this.scratchLen > 0) {
      this.fail(400, 'incomplete_message', 'connection closed in the middle of a message');
    }
  }

  /**
   * Parses until the input ends, the parser pauses or fails. The cursor lives in
   * `this.pos`, advanced before each callback, so takeLeftover() works from onComplete.
   */
  private parse(buf: Buffer): void {
    const end = buf.length;
    this.input = buf;
    this.pos = 0;
    while (this.pos < end && !this.isPaused) {
      const pos = this.pos;
      switch (this.state) {
        case State.StartLine:
        case State.Fields:
        case State.ChunkSize:
        case State.Trailers:
          this.parseLine(buf, pos);
          break;
        case State.BodyLength:
        case State.ChunkData: {
          const take = Math.min(this.remaining, end - pos);
          const body = pos === 0 && take === end ? buf : buf.subarray(pos, pos + take);
          this.pos = pos + take;
          this.remaining -= take;
          this.handler.onBody(body);
          if (this.remaining === 0) {
            if (this.state === State.ChunkData) this.state = State.ChunkDataCr;
            else this.completeMessage();
          }
          break;
        }
        case State.ChunkDataCr:
        case State.ChunkDataLf: {
          const expected = this.state === State.ChunkDataCr ? CR : LF;
          if (buf[pos] !== expected) {
            this.fail(400, 'invalid_chunk_data_end', 'chunk data not followed by CRLF');
            return;
          }
          this.pos = pos + 1;
          this.state = this.state === State.ChunkDataCr ? State.ChunkDataLf : State.ChunkSize;
          break;
        }
        case State.BodyUntilClose:
          this.pos = end;
          this.handler.onBody(pos === 0 ? buf : buf.subarray(pos));
          break;
        case State.Dead:
          return;
      }
    }
  }

  private parseLine(buf: Buffer, pos: number): void {
    const next = this.nextLine(buf, pos);
    this.pos = next < 0 ? buf.length : next;
    if (next < 0) return;
    const line = this.lineBuf;
    const start = this.lineStart;
    const end = this.lineEnd;
    this.lineActive = true;
    switch (this.state) {
      case State.StartLine:
        this.onStartLine(line, start, end);
        break;
      case State.Fields:
        this.onFieldLine(line, start, end);
        break;
      case State.ChunkSize:
        this.onChunkSizeLine(line, start, end);
        break;
      case State.Trailers:
        this.onTrailerLine(line, start, end);
        break;
    }
    this.lineActive = false;
  }

  /** Longest line content (without CRLF) the current state accepts. */
  private lineLimit(): number {
    switch (this.state) {
      case State.StartLine:
        return this.limits.maxStartLineBytes;
      case State.ChunkSize:
        return MAX_CHUNK_LINE_BYTES;
      default:
        return this.limits.maxHeaderBytes - this.sectionBytes - 2;
    }
  }

  private lineTooLong(): void {
    if (this.state === State.StartLine) this.startLineTooLong();
    else if (this.state === State.ChunkSize) this.fail(400, 'chunk_line_too_long', 'chunk-size line too long');
    else this.fail(431, 'header_section_too_large', 'header section too large');
  }

  /**
   * Finds the CRLF ending the line that starts at `pos` (or earlier, in the scratch buffer).
   * On success sets lineBuf/lineStart/lineEnd and returns the index after the LF. Returns -1
   * when the line is still incomplete (its bytes are stashed) or invalid (already reported).
   * Bytes inside a complete line are checked by the line's own grammar, which never admits LF.
   */
  private nextLine(buf: Buffer, pos: number): number {
    const end = buf.length;
    const maxLen = this.lineLimit();
    if (this.scratchLen > 0) {
      const scratch = this.scratch!;
      if (scratch[this.scratchLen - 1] === CR) {
        if (buf[pos] !== LF) return this.failBareCr(buf, pos, pos);
        return this.takeScratchLine(this.scratchLen - 1, pos + 1);
      }
      const cr = buf.indexOf(CR, pos);
      if (cr !== -1 && cr + 1 < end) {
        if (buf[cr + 1] !== LF) return this.failBareCr(buf, pos, cr);
        const len = this.scratchLen + cr - pos;
        if (len > maxLen) return this.failTooLong(buf, pos, cr);
        this.appendScratch(buf, pos, cr);
        return this.takeScratchLine(len, cr + 2);
      }
      return this.stash(buf, pos, maxLen);
    }
    const cr = buf.indexOf(CR, pos);
    if (cr !== -1 && cr + 1 < end) {
      if (buf[cr + 1] !== LF) return this.failBareCr(buf, pos, cr);
      if (cr - pos > maxLen) return this.failTooLong(buf, pos, cr);
      this.lineBuf = buf;
      this.lineStart = pos;
      this.lineEnd = cr;
      return cr + 2;
    }
    return this.stash(buf, pos, maxLen);
  }

  /** Keeps buf[pos..] (no CR, or a CR only as the last byte) as the start of a line. */
  private stash(buf: Buffer, pos: number, maxLen: number): number {
    const end = buf.length;
    if (buf.indexOf(LF, pos) !== -1) return this.failLine(400, 'bare_lf', BARE_LF_MESSAGE);
    const content = this.scratchLen + end - pos - (buf[end - 1] === CR ? 1 : 0);
    if (content > maxLen) return this.failTooLong(buf, pos, pos);
    this.appendScratch(buf, pos, end);
    return -1;
  }

  private appendScratch(buf: Buffer, start: number, end: number): void {
    const needed = this.scratchLen + end - start;
    let scratch = this.scratch;
    if (scratch === null || scratch.length < needed) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 256, scratch === null ? 0 : scratch.length * 2));
      if (scratch !== null) scratch.copy(grown, 0, 0, this.scratchLen);
      this.scratch = scratch = grown;
    }
    buf.copy(scratch, this.scratchLen, start, end);
    this.scratchLen = needed;
  }

  private takeScratchLine(len: number, next: number): number {
    this.lineBuf = this.scratch!;
    this.lineStart = 0;
    this.lineEnd = len;
    this.scratchLen = 0;
    if (this.lineBuf.length > MAX_RETAINED_SCRATCH) this.scratch = null;
    return next;
  }

  private failLine(status: HttpParseError['status'], code: HttpParseErrorCode, message: string): number {
    this.fail(status, code, message);
    return -1;
  }

  /** The scratch never holds an LF; one in buf[pos..upTo) would have been found first had the line been split there. */
  private failBareCr(buf: Buffer, pos: number, upTo: number): number {
    if (hasLf(buf, pos, upTo)) return this.failLine(400, 'bare_lf', BARE_LF_MESSAGE);
    return this.failLine(400, 'bare_cr', 'CR not followed by LF');
  }

  private failTooLong(buf: Buffer, pos: number, upTo: number): number {
    if (hasLf(buf, pos, upTo)) return this.failLine(400, 'bare_lf', BARE_LF_MESSAGE);
    this.lineTooLong();
    return -1;
  }

  /**
   * Reports an error; the parser is dead from then on. A line that holds a bare LF is
   * reported as such whatever else is wrong with it, so that the verdict does not depend
   * on where the socket reads happened to split the line (see nextLine and stash).
   */
  protected fail(status: HttpParseError['status'], code: HttpParseErrorCode, message: string): false {
    if (this.lineActive && hasLf(this.lineBuf, this.lineStart, this.lineEnd)) {
      status = 400;
      code = 'bare_lf';
      message = BARE_LF_MESSAGE;
    }
    this.lineActive = false;
    this.state = State.Dead;
    this.kept = null;
    this.scratch = null;
    this.scratchLen = 0;
    this.handler.onError({ status, code, message });
    return false;
  }


  private onStartLine(buf: Buffer, start: number, end: number): void {
    if (start === end) {
      if (!this.isRequest) this.fail(400, 'invalid_status_line', 'empty status line');
      else if (++this.emptyLines > MAX_LEADING_EMPTY_LINES) this.fail(400, 'too_many_empty_lines', 'too many empty lines before the request line');
      return;
    }
    this.head = newHead();
    this.sectionBytes = end - start + 2;
    if (!this.parseStartLine(buf, start, end)) return;
    if (this.sectionBytes > this.limits.maxHeaderBytes) {
      this.fail(431, 'header_section_too_large', 'header section too large');
      return;
    }
    this.state = State.Fields;
  }

  private onFieldLine(buf: Buffer, start: number, end: number): void {
    this.sectionBytes += end - start + 2;
    if (start === end) {
      this.onHeadEnd();
      return;
    }
    if (++this.fieldCount > this.limits.maxHeaders) {
      this.fail(431, 'too_many_headers', 'too many header fields');
      return;
    }
    if (!this.scanFieldLine(buf, start, end)) return;
    const nameEnd = this.nameEnd;
    const valueStart = this.valueStart;
    const valueEnd = this.valueEnd;
    const value = latin1(buf, valueStart, valueEnd);
    this.head.rawHeaders.push(latin1(buf, start, nameEnd), value);
    switch (nameEnd - start) {
      case 4:
        if (matchesLower(buf, start, NAME_HOST)) this.onHost(buf, valueStart, valueEnd, value);
        break;
      case 6:
        if (matchesLower(buf, start, NAME_EXPECT)) {
          this.expectContinueSeen ||= valueEnd - valueStart === EXPECT_100_CONTINUE.length && matchesLower(buf, valueStart, EXPECT_100_CONTINUE);
        }
        break;
      case 7:
        if (matchesLower(buf, start, NAME_UPGRADE)) this.upgradeHeaderSeen = true;
        break;
      case 10:
        if (matchesLower(buf, start, NAME_CONNECTION)) this.onConnection(buf, valueStart, valueEnd);
        break;
      case 14:
        if (matchesLower(buf, start, NAME_CONTENT_LENGTH)) this.onContentLength(buf, valueStart, valueEnd);
        break;
      case 17:
        if (matchesLower(buf, start, NAME_TRANSFER_ENCODING)) this.onTransferEncoding(buf, valueStart, valueEnd);
        break;
    }
  }

  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 5). Sets nameEnd/valueStart/valueEnd. */
  private scanFieldLine(buf: Buffer, start: number, end: number): boolean {
    const first = buf[start]!;
    if (isOws(first)) return this.fail(400, 'obs_fold', 'obsolete line folding (or whitespace before the first field) is not allowed');
    let i = start;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (i === end || buf[i] !== COLON || i === start) {
      if (i < end && i > start && isOws(buf[i]!)) return this.fail(400, 'whitespace_before_colon', 'whitespace between field name and colon');
      return this.fail(400, 'invalid_header_name', 'invalid field name');
    }
    this.nameEnd = i;
    i = skipOws(buf, i + 1, end);
    const valueStart = i;
    let valueEnd = i;
    for (; i < end; i++) {
      const kind = FIELD_VALUE_CHAR[buf[i]!];
      if (kind === 0) return this.fail(400, 'invalid_header_value', 'invalid byte in field value');
      if (kind === 1) valueEnd = i + 1;
    }
    this.valueStart = valueStart;
    this.valueEnd = valueEnd;
    return true;
  }

  private onHost(buf: Buffer, start: number, end: number, value: string): void {
    if (!this.isRequest) return;
    if (++this.hostCount > 1) {
      this.fail(400, 'duplicate_host', 'more than one Host header');
      return;
    }
    // An empty Host is what RFC 9112 3.2 tells a client to send when the target has no authority.
    if (start !== end && !isValidAuthority(buf, start, end, false)) {
      this.fail(400, 'invalid_host', 'invalid Host header');
      return;
    }
    this.head.host = value;
  }

  private onConnection(buf: Buffer, start: number, end: number): void {
    for (let i = start; i <= end; ) {
      const elementEnd = listElementEnd(buf, i, end);
      const a = skipOws(buf, i, elementEnd);
      const b = trimOwsEnd(buf, a, elementEnd);
      i = elementEnd + 1;
      if (a === b) continue; // RFC 9110 5.6.1.2: empty list elements are ignored
      if (!isToken(buf, a, b)) {
        this.fail(400, 'invalid_connection_header', 'invalid Connection token');
        return;
      }
      this.head.connectionTokens.push(latin1(buf, a, b).toLowerCase());
      const len = b - a;
      if (len === TOKEN_CLOSE.length && matchesLower(buf, a, TOKEN_CLOSE)) this.connectionClose = true;
      else if (len === TOKEN_KEEP_ALIVE.length && matchesLower(buf, a, TOKEN_KEEP_ALIVE)) this.connectionKeepAlive = true;
      else if (len === TOKEN_UPGRADE.length && matchesLower(buf, a, TOKEN_UPGRADE)) this.connectionUpgrade = true;
    }
  }

  /** Content-Length = 1*DIGIT; a list or repeated header is accepted only if every value is the same (RFC 9110 8.6). */
  private onContentLength(buf: Buffer, start: number, end: number): void {
    for (let i = start; i <= end; ) {
      const elementEnd = listElementEnd(buf, i, end);
      const a = skipOws(buf, i, elementEnd);
      const b = trimOwsEnd(buf, a, elementEnd);
      i = elementEnd + 1;
      if (a === b) {
        this.fail(400, 'invalid_content_length', 'empty Content-Length');
        return;
      }
      let length = 0;
      for (let k = a; k < b; k++) {
        const digit = buf[k]! - DIGIT_0;
        if (digit < 0 || digit > 9) {
          this.fail(400, 'invalid_content_length', 'Content-Length is not a decimal number');
          return;
        }
        length = length * 10 + digit;
        if (length > Number.MAX_SAFE_INTEGER) {
          this.fail(400, 'invalid_content_length', 'Content-Length too large');
          return;
        }
      }
      if (this.head.contentLength !== -1 && this.head.contentLength !== length) {
        this.fail(400, 'duplicate_content_length', 'conflicting Content-Length values');
        return;
      }
      this.head.contentLength = length;
    }
  }

  /** Records the codings; the verdict waits for the end of the head, as Transfer-Encoding may repeat. */
  private onTransferEncoding(buf: Buffer, start: number, end: number): void {
    this.transferEncodingSeen = true;
    for (let i = start; i <= end; ) {
      const elementEnd = listElementEnd(buf, i, end);
      const a = skipOws(buf, i, elementEnd);
      const b = trimOwsEnd(buf, a, elementEnd);
      i = elementEnd + 1;
      let t = a;
      while (t < b && TCHAR[buf[t]!] === 1) t++;
      const chunked = t - a === CODING_CHUNKED.length && matchesLower(buf, a, CODING_CHUNKED);
      // After the coding's name only parameters may follow (`;`), and chunked has none.
      const afterName = skipOws(buf, t, b);
      if (t === a || (afterName < b && (buf[afterName] !== SEMICOLON || chunked))) {
        this.fail(400, 'invalid_transfer_encoding', 'invalid Transfer-Encoding');
        return;
      }
      if (this.chunkedSeen) this.chunkedNotLast = true;
      if (chunked) this.chunkedSeen = true;
      else this.unsupportedCoding = true;
    }
  }

  private onHeadEnd(): void {
    const head = this.head;
    if (this.transferEncodingSeen) {
      // RFC 9112 6.1 and 6.3: each of these makes the message length ambiguous.
      if (head.contentLength !== -1) {
        this.fail(400, 'content_length_with_transfer_encoding', 'both Content-Length and Transfer-Encoding');
        return;
      }
      if (head.versionMinor === 0) {
        this.fail(400, 'transfer_encoding_in_http10', 'Transfer-Encoding in an HTTP/1.0 message');
        return;
      }
      if (this.chunkedNotLast) {
        this.fail(400, 'chunked_not_last', 'chunked must be the final transfer coding, applied once');
        return;
      }
      if (this.unsupportedCoding) {
        this.fail(501, 'unsupported_transfer_encoding', 'unsupported transfer coding');
        return;
      }
      head.chunked = true;
    }
    head.keepAlive = head.versionMinor === 1 ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
    this.onHeadComplete();
  }

  /** Starts reading the body the head announced (requests: none without CL/TE). */
  protected beginBody(): void {
    if (this.head.chunked) this.state = State.ChunkSize;
    else if (this.head.contentLength > 0) {
      this.remaining = this.head.contentLength;
      this.state = State.BodyLength;
    } else this.completeMessage();
  }

  protected beginBodyUntilClose(): void {
    this.state = State.BodyUntilClose;
  }

  private onChunkSizeLine(buf: Buffer, start: number, end: number): void {
    let i = start;
    let size = 0;
    for (; i < end; i++) {
      const digit = HEX_VALUE[buf[i]!]!;
      if (digit < 0) break;
      if (i - start === MAX_CHUNK_SIZE_DIGITS) {
        this.fail(400, 'chunk_size_overflow', 'chunk size too large');
        return;
      }
      size = size * 16 + digit;
    }
    if (i === start) {
      this.fail(400, 'invalid_chunk_size', 'invalid chunk size');
      return;
    }
    if (size > Number.MAX_SAFE_INTEGER) {
      this.fail(400, 'chunk_size_overflow', 'chunk size too large');
      return;
    }
    if (i < end) {
      const c = buf[i]!;
      if (c !== SEMICOLON && !isOws(c)) {
        this.fail(400, 'invalid_chunk_size', 'invalid chunk size');
        return;
      }
      if (!isValidChunkExtensions(buf, i, end)) {
        this.fail(400, 'invalid_chunk_extension', 'invalid chunk extension');
        return;
      }
    }
    if (size === 0) {
      this.sectionBytes = 0;
      this.fieldCount = 0;
      this.state = State.Trailers;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
  }

  /** Trailer fields follow the header rules and limits, then are dropped (the proxy re-frames the body). */
  private onTrailerLine(buf: Buffer, start: number, end: number): void {
    this.sectionBytes += end - start + 2;
    if (start === end) {
      this.completeMessage();
      return;
    }
    if (++this.fieldCount > this.limits.maxHeaders) this.fail(431, 'too_many_headers', 'too many trailer fields');
    else this.scanFieldLine(buf, start, end);
  }

  protected completeMessage(): void {
    this.endMessage();
    this.handler.onComplete();
  }

  /** The message is over: paused, and takeLeftover() returns what follows it. */
  protected endMessage(): void {
    this.resetMessage();
    this.isPaused = true;
  }

  /** Back to the start-line state, ready for the next message. */
  protected resetMessage(): void {
    this.state = State.StartLine;
    this.head = NO_HEAD;
    this.sectionBytes = 0;
    this.fieldCount = 0;
    this.emptyLines = 0;
    this.remaining = 0;
    this.transferEncodingSeen = false;
    this.chunkedSeen = false;
    this.chunkedNotLast = false;
    this.unsupportedCoding = false;
    this.hostCount = 0;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    this.upgradeHeaderSeen = false;
    this.expectContinueSeen = false;
  }
}

/** Parses requests from a downstream connection. */
export class RequestParser extends MessageParser {
  /** Authority of an absolute-form target, which overrides Host. */
  private targetAuthority: string | null = null;

  constructor(handler: ParserHandler, limits: ParserLimits = DEFAULT_LIMITS) {
    super(handler, limits, true);
  }

  /** request-line = method SP request-target SP HTTP-version (RFC 9112 3). */
  protected parseStartLine(buf: Buffer, start: number, end: number): boolean {
    let i = start;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (i === start || i === end || buf[i] !== SP) return this.fail(400, 'invalid_method', 'invalid method');
    const method = internMethod(buf, start, i);
    const targetStart = ++i;
    while (i < end && TARGET_CHAR[buf[i]!] === 1) i++;
    const targetEnd = i;
    if (i === end) return this.fail(400, 'invalid_version', 'missing HTTP version');
    if (targetEnd === targetStart || buf[i] !== SP) return this.fail(400, 'invalid_request_target', 'invalid request-target');
    const minor = parseVersion(buf, i + 1, end);
    if (minor === -2) return this.fail(505, 'unsupported_version', 'HTTP version not supported');
    if (minor < 0) return this.fail(400, 'invalid_version', 'invalid HTTP version');
    if (!this.checkTargetForm(buf, targetStart, targetEnd, method)) return false;
    const head = this.head;
    head.method = method;
    head.target = latin1(buf, targetStart, targetEnd);
    head.versionMinor = minor as 0 | 1;
    return true;
  }

  /** RFC 9112 3.2: which request-target form each method may use. */
  private checkTargetForm(buf: Buffer, start: number, end: number, method: string): boolean {
    this.targetAuthority = null;
    const first = buf[start];
    if (method === 'CONNECT') {
      if (isValidAuthority(buf, start, end, true)) return true;
    } else if (first === SLASH) {
      // `//x` is a valid path, but URL parsers downstream read it as a network-path reference to host x.
      if (end - start === 1 || buf[start + 1] !== SLASH) return true;
    } else if (first === STAR && end - start === 1) {
      if (method === 'OPTIONS') return true;
    } else {
      const length = end - start;
      const authorityStart =
        length >= SCHEME_HTTP.length && matchesLower(buf, start, SCHEME_HTTP)
          ? start + SCHEME_HTTP.length
          : length >= SCHEME_HTTPS.length && matchesLower(buf, start, SCHEME_HTTPS)
            ? start + SCHEME_HTTPS.length
            : -1;
      if (authorityStart !== -1) {
        let authorityEnd = authorityStart;
        while (authorityEnd < end) {
          const c = buf[authorityEnd];
          if (c === SLASH || c === QUESTION) break;
          authorityEnd++;
        }
        // userinfo (`user@host`) fails here too: RFC 9110 4.2.4 says to treat it as an error.
        if (isValidAuthority(buf, authorityStart, authorityEnd, false)) {
          this.targetAuthority = latin1(buf, authorityStart, authorityEnd);
          return true;
        }
      }
    }
    return this.fail(400, 'invalid_request_target', `request-target form not allowed for ${method}`);
  }

  protected startLineTooLong(): void {
    this.fail(414, 'request_line_too_long', 'request line too long');
  }

  protected onHeadComplete(): void {
    const head = this.head;
    if (head.versionMinor === 1 && this.hostCount === 0) {
      this.fail(400, 'missing_host', 'HTTP/1.1 request without Host');
      return;
    }
    if (this.targetAuthority !== null) head.host = this.targetAuthority;
    if (head.method === 'CONNECT') {
      // RFC 9110 9.3.6: CONNECT has no content; a body here would be read as tunnel bytes by someone.
      if (head.chunked || head.contentLength > 0) {
        this.fail(400, 'connect_with_body', 'CONNECT request with a body');
        return;
      }
      head.upgrade = true;
    } else {
      // RFC 9110 7.8: Upgrade in an HTTP/1.0 request is ignored.
      head.upgrade = head.versionMinor === 1 && this.connectionUpgrade && this.upgradeHeaderSeen;
    }
    head.expectContinue = head.versionMinor === 1 && this.expectContinueSeen;
    this.handler.onHead(head);
    this.beginBody();
  }
}

/** Parses responses from an upstream connection. */
export class ResponseParser extends MessageParser {
  /** Request methods of the responses still expected, oldest first, walked by index. */
  private expectedMethods: string[] = [];
  private nextExpected = 0;

  constructor(handler: ParserHandler, limits: ParserLimits = DEFAULT_LIMITS) {
    super(handler, limits, false);
  }

  /** Call once per request written to this connection, in order: the method decides whether a response has a body. */
  expectResponseTo(method: string): void {
    this.expectedMethods.push(method);
  }

  /** status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]; `HTTP/1.1 200` (no SP) is accepted too. */
  protected parseStartLine(buf: Buffer, start: number, end: number): boolean {
    if (end - start < 12 || buf[start + 8] !== SP) return this.fail(400, 'invalid_status_line', 'invalid status line');
    const minor = parseVersion(buf, start, start + 8);
    if (minor === -2) return this.fail(505, 'unsupported_version', 'HTTP version not supported');
    if (minor < 0) return this.fail(400, 'invalid_status_line', 'invalid HTTP version in status line');
    const d1 = buf[start + 9]! - DIGIT_0;
    const d2 = buf[start + 10]! - DIGIT_0;
    const d3 = buf[start + 11]! - DIGIT_0;
    if (d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return this.fail(400, 'invalid_status_line', 'invalid status code');
    let reasonStart = end;
    if (end > start + 12) {
      if (buf[start + 12] !== SP) return this.fail(400, 'invalid_status_line', 'invalid status line');
      reasonStart = start + 13;
      for (let i = reasonStart; i < end; i++) {
        if (FIELD_VALUE_CHAR[buf[i]!] === 0) return this.fail(400, 'invalid_status_line', 'invalid byte in reason phrase');
      }
    }
    const head = this.head;
    head.statusCode = d1 * 100 + d2 * 10 + d3;
    head.reason = latin1(buf, reasonStart, end);
    head.versionMinor = minor as 0 | 1;
    return true;
  }

  protected startLineTooLong(): void {
    this.fail(400, 'status_line_too_long', 'status line too long');
  }

  /** RFC 9112 6.3: the response's length depends on the request method and the status. */
  protected onHeadComplete(): void {
    const head = this.head;
    const status = head.statusCode;
    if (status < 200 && status !== 101) {
      this.resetMessage();
      this.handler.onInformational?.(head);
      return;
    }
    const method = this.takeExpectedMethod();
    if (status === 101 || (method === 'CONNECT' && status < 300)) {
      head.upgrade = true;
      // Over before onHead: the caller splices the tunnel from there, and takeLeftover() must
      // already give it the new protocol's first bytes that came in this read.
      this.endMessage();
      this.handler.onHead(head);
      this.handler.onComplete();
    } else if (method === 'HEAD' || status === 204 || status === 304) {
      this.handler.onHead(head);
      this.completeMessage();
    } else if (head.chunked || head.contentLength !== -1) {
      this.handler.onHead(head);
      this.beginBody();
    } else {
      head.keepAlive = false;
      this.handler.onHead(head);
      this.beginBodyUntilClose();
    }
  }

  private takeExpectedMethod(): string {
    if (this.nextExpected === this.expectedMethods.length) return '';
    const method = this.expectedMethods[this.nextExpected++]!;
    if (this.nextExpected === this.expectedMethods.length) {
      this.expectedMethods.length = 0;
      this.nextExpected = 0;
    }
    return method;
  }
}
