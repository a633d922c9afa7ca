/**
 * Finds where each HTTP/1.1 response ends in a stream of bytes, so a load
 * generator can time responses on keep-alive connections. Handles
 * Content-Length, chunked and bodiless responses; does not keep bodies.
 */

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
const CONTENT_LENGTH = /^content-length:\s*(\d+)\s*$/im;
const CHUNKED = /^transfer-encoding:.*\bchunked\b/im;
const MAX_HEAD_BYTES = 64 * 1024;

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'trailers';

export class ResponseFramer {
  private pending: Buffer = Buffer.alloc(0);
  private state: State = 'head';
  private status = 0;
  /** Body or chunk bytes still to skip (chunk data includes its trailing CRLF). */
  private remaining = 0;

  /** `onResponse` runs once per complete final (non-1xx) response, with its status. */
  constructor(private readonly onResponse: (status: number) => void) {}

  /** True between responses: no partial response is buffered. */
  get idle(): boolean {
    return this.state === 'head' && this.pending.length === 0;
  }

  /** Throws on bytes that are not a well-framed response. */
  feed(chunk: Buffer): void {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    for (;;) {
      const consumed = this.step(buffer, offset);
      if (consumed === 0) break;
      offset += consumed;
    }
    this.pending = buffer.subarray(offset);
  }

  /** Advances over one framing element at `offset`; returns the bytes consumed, 0 when more input is needed. */
  private step(buffer: Buffer, offset: number): number {
    const available = buffer.length - offset;
    switch (this.state) {
      case 'head': {
        const end = buffer.indexOf(HEAD_END, offset);
        if (end < 0) {
          if (available > MAX_HEAD_BYTES) throw new Error('response head too large');
          return 0;
        }
        this.startResponse(buffer.toString('latin1', offset, end));
        return end + HEAD_END.length - offset;
      }
      case 'body':
      case 'chunk-data': {
        if (available === 0) return 0;
        const skipped = Math.min(available, this.remaining);
        this.remaining -= skipped;
        if (this.remaining === 0) {
          if (this.state === 'body') this.finishResponse();
          else this.state = 'chunk-size';
        }
        return skipped;
      }
      case 'chunk-size': {
        const end = buffer.indexOf(CRLF, offset);
        if (end < 0) return 0;
        const size = Number.parseInt(buffer.toString('latin1', offset, end).split(';', 1)[0], 16);
        if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
        if (size === 0) this.state = 'trailers';
        else {
          this.state = 'chunk-data';
          this.remaining = size + CRLF.length;
        }
        return end + CRLF.length - offset;
      }
      case 'trailers': {
        const end = buffer.indexOf(CRLF, offset);
        if (end < 0) return 0;
        // An empty line ends the trailers (and the response); anything else is a trailer field.
        if (end === offset) this.finishResponse();
        return end + CRLF.length - offset;
      }
    }
  }

  private startResponse(head: string): void {
    const status = STATUS_LINE.exec(head);
    if (!status) throw new Error(`bad status line: ${JSON.stringify(head.slice(0, 40))}`);
    this.status = Number(status[1]);
    if (this.status < 200) return; // 1xx: the final response follows
    if (CHUNKED.test(head)) {
      this.state = 'chunk-size';
      return;
    }
    const length = CONTENT_LENGTH.exec(head);
    const bodiless = this.status === 204 || this.status === 304;
    if (!length && !bodiless) throw new Error('response has neither content-length nor chunked encoding');
    this.remaining = bodiless || !length ? 0 : Number(length[1]);
    if (this.remaining === 0) this.finishResponse();
    else this.state = 'body';
  }

  private finishResponse(): void {
    this.state = 'head';
    this.onResponse(this.status);
  }
}
