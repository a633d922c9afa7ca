import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS,
  RequestParser,
  ResponseParser,
  type HttpParseError,
  type MessageHead,
  type ParserHandler,
  type ParserLimits,
} from '../../../src/proxy/http1/parser.js';
import { MALFORMED_REQUESTS, VALID_REQUESTS, type ExpectedMessage } from './corpus.js';
import { seededRandom } from '../../support/random.js';

interface Message {
  head: MessageHead;
  body: Buffer[];
  complete: boolean;
}

/** Records every callback; optionally resumes the parser from inside onComplete. */
class Recorder implements ParserHandler {
  readonly messages: Message[] = [];
  readonly informational: MessageHead[] = [];
  readonly errors: HttpParseError[] = [];
  completeHook: (() => void) | null = null;

  onHead(head: MessageHead): void {
    this.messages.push({ head, body: [], complete: false });
  }
  onBody(chunk: Buffer): void {
    assert.ok(chunk.length > 0, 'onBody with an empty chunk');
    this.last().body.push(chunk);
  }
  onComplete(): void {
    this.last().complete = true;
    this.completeHook?.();
  }
  onError(err: HttpParseError): void {
    this.errors.push(err);
  }
  onInformational(head: MessageHead): void {
    this.informational.push(head);
  }
  last(): Message {
    const message = this.messages.at(-1);
    assert.ok(message, 'callback before onHead');
    return message;
  }
  summary(): ExpectedMessage[] {
    return this.messages.map((m) => ({ method: m.head.method, target: m.head.target, body: Buffer.concat(m.body).toString('latin1') }));
  }
}

/** Copies each piece into its own memory, as separate socket reads would arrive. */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, buf.length]) {
    if (cut > start) pieces.push(Buffer.from(buf.subarray(start, cut)));
    start = Math.max(start, cut);
  }
  return pieces;
}

function randomCuts(length: number, random: () => number): number[] {
  const count = 1 + Math.floor(random() * 8);
  return Array.from({ length: count }, () => Math.floor(random() * length)).sort((a, b) => a - b);
}

/** Whole, one byte at a time, and seeded random splits. */
function splits(buf: Buffer, seed: number): Array<{ label: string; pieces: Buffer[] }> {
  const random = seededRandom(seed);
  const out = [
    { label: 'whole', pieces: [buf] },
    { label: 'bytewise', pieces: splitAt(buf, Array.from({ length: buf.length }, (_, i) => i)) },
  ];
  for (let i = 0; i < 6; i++) out.push({ label: `random#${i}`, pieces: splitAt(buf, randomCuts(buf.length, random)) });
  return out;
}

/** Feeds pieces like a connection manager: resume after each completed message (inside the callback or after execute returns). */
function feed<P extends RequestParser | ResponseParser>(parser: P, recorder: Recorder, pieces: Buffer[], resumeInCallback: boolean): void {
  recorder.completeHook = resumeInCallback ? () => parser.resume() : null;
  for (const piece of pieces) {
    parser.execute(piece);
    while (parser.paused && recorder.errors.length === 0) parser.resume();
  }
}

function parseRequests(pieces: Buffer[], resumeInCallback = false, limits?: ParserLimits): { parser: RequestParser; recorder: Recorder } {
  const recorder = new Recorder();
  const parser = new RequestParser(recorder, limits);
  feed(parser, recorder, pieces, resumeInCallback);
  return { parser, recorder };
}

function parseResponses(pieces: Buffer[], methods: string[] = []): { parser: ResponseParser; recorder: Recorder } {
  const recorder = new Recorder();
  const parser = new ResponseParser(recorder);
  for (const method of methods) parser.expectResponseTo(method);
  feed(parser, recorder, pieces, false);
  return { parser, recorder };
}

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('RequestParser corpus', () => {
  it('has at least 45 malformed and covers every status', () => {
    assert.ok(MALFORMED_REQUESTS.length >= 45);
    assert.deepEqual(new Set(MALFORMED_REQUESTS.map((r) => r.status)), new Set([400, 414, 431, 501, 505]));
    assert.equal(new Set(MALFORMED_REQUESTS.map((r) => r.name)).size, MALFORMED_REQUESTS.length, 'names are unique');
  });

  for (const [index, entry] of MALFORMED_REQUESTS.entries()) {
    it(`rejects ${entry.name} with ${entry.status}`, () => {
      for (const { label, pieces } of splits(bytes(entry.raw), index + 1)) {
        const { parser, recorder } = parseRequests(pieces);
        // The error must come from the bytes alone, before any EOF.
        assert.deepEqual(
          recorder.errors.map((e) => [e.status, e.code]),
          [[entry.status, entry.code]],
          `${label}: ${JSON.stringify(recorder.errors)}`,
        );
        assert.equal(recorder.messages.filter((m) => m.complete).length, 0, `${label}: no message may complete`);
        parser.execute(bytes(`GET / HTTP/1.1\r\nHost: a\r\n\r\n`));
        parser.finish();
        assert.equal(recorder.errors.length, 1, `${label}: a dead parser stays silent`);
      }
    });
  }

  for (const [index, entry] of VALID_REQUESTS.entries()) {
    it(`parses ${entry.name}`, () => {
      for (const { label, pieces } of splits(bytes(entry.raw), 1000 + index)) {
        for (const resumeInCallback of [false, true]) {
          const { parser, recorder } = parseRequests(pieces, resumeInCallback);
          parser.finish();
          assert.deepEqual(recorder.errors, [], label);
          assert.deepEqual(recorder.summary(), entry.expect, `${label} resumeInCallback=${resumeInCallback}`);
          assert.ok(recorder.messages.every((m) => m.complete), label);
        }
      }
    });
  }
});

describe('RequestParser heads', () => {
  it('reports fields, trimmed values and connection semantics', () => {
    const raw = bytes(
      'POST /up?x=1 HTTP/1.1\r\nHost: Example.com:8080\r\nX-Pad: \t a  b \t\r\nConnection: Keep-Alive, X-Hop\r\n' +
        'Connection: ,Upgrade\r\nUpgrade: websocket\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok',
    );
    const { recorder } = parseRequests([raw]);
    const [message] = recorder.messages;
    assert.ok(message);
    const { head } = message;
    assert.equal(head.method, 'POST');
    assert.equal(head.target, '/up?x=1');
    assert.equal(head.versionMinor, 1);
    assert.equal(head.statusCode, 0);
    assert.equal(head.host, 'Example.com:8080');
    assert.deepEqual(head.rawHeaders, [
      'Host', 'Example.com:8080',
      'X-Pad', 'a  b',
      'Connection', 'Keep-Alive, X-Hop',
      'Connection', ',Upgrade',
      'Upgrade', 'websocket',
      'Expect', '100-Continue',
      'Content-Length', '2',
    ]);
    assert.deepEqual(head.connectionTokens, ['keep-alive', 'x-hop', 'upgrade']);
    assert.equal(head.contentLength, 2);
    assert.equal(head.chunked, false);
    assert.equal(head.keepAlive, true);
    assert.equal(head.upgrade, true);
    assert.equal(head.expectContinue, true);
  });

  it('derives keep-alive from the version and Connection', () => {
    const cases: Array<[string, boolean]> = [
      ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', true],
      ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', false],
      ['GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n', false],
      ['GET / HTTP/1.0\r\n\r\n', false],
      ['GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true],
    ];
    for (const [raw, keepAlive] of cases) {
      const { recorder } = parseRequests([bytes(raw)]);
      assert.equal(recorder.messages[0]?.head.keepAlive, keepAlive, raw);
    }
  });

  it('uses the absolute-form authority as host and ignores Upgrade and Expect in HTTP/1.0', () => {
    const absolute = parseRequests([bytes('GET http://real.example:81/x HTTP/1.1\r\nHost: other.example\r\n\r\n')]).recorder;
    assert.equal(absolute.messages[0]?.head.host, 'real.example:81');
    const old = parseRequests([bytes('GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n\r\n')]).recorder;
    assert.equal(old.messages[0]?.head.upgrade, false);
    assert.equal(old.messages[0]?.head.expectContinue, false);
    const noUpgradeHeader = parseRequests([bytes('GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n')]).recorder;
    assert.equal(noUpgradeHeader.messages[0]?.head.upgrade, false);
  });

  it('applies custom limits, counting the whole head', () => {
    const limits: ParserLimits = { maxHeaderBytes: 64, maxHeaders: 2, maxStartLineBytes: 20 };
    const exact = 'GET / HTTP/1.1\r\nHost: a\r\nX: ' + 'v'.repeat(64 - 16 - 9 - 5 - 2) + '\r\n\r\n';
    assert.equal(exact.length, 64);
    assert.deepEqual(parseRequests([bytes(exact)], false, limits).recorder.errors, []);
    const over = exact.replace('X: v', 'X: vv');
    assert.equal(parseRequests([bytes(over)], false, limits).recorder.errors[0]?.status, 431);
    assert.equal(parseRequests([bytes('GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n')], false, limits).recorder.errors[0]?.code, 'too_many_headers');
    assert.equal(parseRequests([bytes('GET /1234567 HTTP/1.1\r\nHost: a\r\n\r\n')], false, limits).recorder.errors[0]?.status, 414);
    assert.deepEqual(parseRequests([bytes('GET /123456 HTTP/1.1\r\nHost: a\r\n\r\n')], false, limits).recorder.errors, []);
  });

  it('applies the header limits to trailers too', () => {
    const limits: ParserLimits = { ...DEFAULT_LIMITS, maxHeaders: 3 };
    const trailers = 'A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n';
    const raw = bytes(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n${trailers}\r\n`);
    const { recorder } = parseRequests([raw], false, limits);
    assert.deepEqual(recorder.errors.map((e) => e.code), ['too_many_headers']);
    const big = bytes(`POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ${'t'.repeat(61 * 1024)}\r\n\r\n`);
    assert.deepEqual(parseRequests([big]).recorder.errors.map((e) => e.status), [431]);
  });
});

describe('RequestParser flow control', () => {
  it('pauses after each message and keeps the rest until resume', () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    parser.execute(bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHo'));
    assert.equal(parser.paused, true);
    assert.deepEqual(recorder.summary(), [{ method: 'GET', target: '/1', body: '' }]);
    parser.execute(bytes('st: a\r\n\r\nPOST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab'));
    assert.equal(recorder.messages.length, 1, 'execute while paused only keeps bytes');
    parser.resume();
    assert.equal(parser.paused, true);
    assert.deepEqual(recorder.summary().map((m) => m.target), ['/1', '/2']);
    parser.resume();
    assert.equal(parser.paused, false);
    assert.deepEqual(recorder.summary()[2], { method: 'POST', target: '/3', body: 'ab' });
    assert.equal(recorder.messages[2]?.complete, false);
    parser.execute(bytes('c'));
    assert.equal(recorder.messages[2]?.complete, true);
    assert.equal(parser.takeLeftover().length, 0);
  });

  it('lets go of a finished message head and the read it came from (kept-alive connections idle between requests)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let head: MessageHead | undefined;
    const parser = new RequestParser({ onHead: (h) => (head = h), onBody() {}, onComplete() {}, onError() {} });
    const readRef = (() => {
      const read = bytes(`GET /1 HTTP/1.1\r\nHost: a\r\nX-Big: ${'v'.repeat(4096)}\r\n\r\n`);
      parser.execute(read);
      return new WeakRef(read);
    })();
    assert.equal(head?.target, '/1');
    const headRef = new WeakRef(head!);
    head = undefined;
    parser.resume();
    // A WeakRef's target stays alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(headRef.deref(), undefined, 'the parser still holds the last head');
    assert.equal(readRef.deref(), undefined, 'the parser still holds the last read');
  });

  it('emits body slices as views of the input without copying', () => {
    const input = bytes('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234');
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    parser.execute(input);
    const rest = bytes('56789GET');
    parser.execute(rest);
    const [first, second] = recorder.messages[0]!.body;
    assert.equal(first?.buffer, input.buffer);
    assert.equal(first?.byteOffset, input.byteOffset + input.length - 5);
    assert.equal(second?.buffer, rest.buffer);
    assert.equal(second?.toString(), '56789');
    assert.equal(parser.paused, true);
    const kept = parser.takeLeftover();
    assert.equal(kept.toString(), 'GET');
    assert.equal(kept.buffer, rest.buffer, 'kept bytes are a subarray, not a copy');
  });

  it('hands over the tunnelled bytes after an upgrade request', () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    const frame = Buffer.from([0x81, 0x85, 0x01, 0x02, 0x03, 0x04, 0x0d, 0x0a]);
    parser.execute(Buffer.concat([bytes('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'), frame]));
    assert.equal(recorder.messages[0]?.head.upgrade, true);
    assert.equal(recorder.messages[0]?.complete, true);
    assert.equal(parser.paused, true);
    parser.execute(bytes('more'));
    assert.deepEqual(parser.takeLeftover(), Buffer.concat([frame, bytes('more')]));
    assert.equal(parser.takeLeftover().length, 0);
    assert.deepEqual(recorder.errors, []);
  });

  it('hands over the bytes after CONNECT and parses HTTP again if the tunnel is refused', () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    parser.execute(bytes('CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n\x16\x03\x01'));
    assert.equal(recorder.messages[0]?.head.upgrade, true);
    assert.deepEqual(parser.takeLeftover(), bytes('\x16\x03\x01'));

    const refused = new Recorder();
    const again = new RequestParser(refused);
    again.execute(bytes('CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'));
    again.resume();
    assert.deepEqual(refused.summary().map((m) => m.method), ['CONNECT', 'GET']);
  });

  it('gives the leftover from inside onComplete and takes bytes handed over re-entrantly', () => {
    let leftover: Buffer = Buffer.alloc(0);
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    recorder.completeHook = () => (leftover = parser.takeLeftover());
    parser.execute(bytes('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\nTUNNEL'));
    assert.equal(leftover.toString(), 'TUNNEL');
    assert.equal(parser.takeLeftover().length, 0);

    const reentrant = new Recorder();
    const second = new RequestParser({
      onHead: (head) => {
        reentrant.onHead(head);
        if (head.target === '/1') second.execute(bytes('GET /2 HTTP/1.1\r\nHost: a\r\n\r\n'));
      },
      onBody: (chunk) => reentrant.onBody(chunk),
      onComplete: () => {
        reentrant.onComplete();
        second.resume();
      },
      onError: (err) => reentrant.onError(err),
    });
    second.execute(bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /1b HTTP/1.1\r\nHost: a\r\n\r\n'));
    assert.deepEqual(reentrant.summary().map((m) => m.target), ['/1', '/1b', '/2']);
  });

  it('on EOF: silent between messages, 400 mid-message', () => {
    const between = parseRequests([bytes('GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n')]);
    between.parser.finish();
    assert.deepEqual(between.recorder.errors, []);

    for (const partial of ['G', 'GET / HTTP/1.1\r\nHost: a\r\n', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n']) {
      const { parser, recorder } = parseRequests([bytes(partial)]);
      parser.finish();
      assert.deepEqual(recorder.errors.map((e) => [e.status, e.code]), [[400, 'incomplete_message']], JSON.stringify(partial));
      parser.finish();
      assert.equal(recorder.errors.length, 1);
    }
  });

  it('applies an EOF that arrives while paused once the kept bytes are parsed', () => {
    const recorder = new Recorder();
    const parser = new RequestParser(recorder);
    parser.execute(bytes('GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3'));
    parser.finish();
    assert.equal(recorder.errors.length, 0);
    parser.resume();
    assert.deepEqual(recorder.summary().map((m) => m.target), ['/1', '/2']);
    assert.equal(recorder.errors.length, 0);
    parser.resume();
    assert.deepEqual(recorder.errors.map((e) => e.code), ['incomplete_message']);
  });

  it('streams a 1 MiB chunked body without ever holding it whole', () => {
    const random = seededRandom(42);
    const body = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256);
    const parts: Buffer[] = [bytes('PUT /blob HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')];
    for (let offset = 0; offset < body.length; offset += 100_000) {
      const piece = body.subarray(offset, offset + 100_000);
      parts.push(bytes(`${piece.length.toString(16)};n=${offset}\r\n`), piece, bytes('\r\n'));
    }
    parts.push(bytes('0\r\nX-Digest: done\r\n\r\n'));
    const wire = Buffer.concat(parts);
    const readSize = 16 * 1024;
    const reads: Buffer[] = [];
    for (let offset = 0; offset < wire.length; offset += readSize) {
      const read = Buffer.allocUnsafeSlow(Math.min(readSize, wire.length - offset));
      wire.copy(read, 0, offset, offset + read.length);
      reads.push(read);
    }

    const hash = createHash('sha256');
    let total = 0;
    let largest = 0;
    let completed = false;
    const readBuffers = new Set(reads.map((r) => r.buffer));
    const parser = new RequestParser({
      onHead: (head) => assert.equal(head.chunked, true),
      onBody: (chunk) => {
        assert.ok(readBuffers.has(chunk.buffer), 'onBody chunk is a view of a socket read');
        total += chunk.length;
        largest = Math.max(largest, chunk.length);
        hash.update(chunk);
      },
      onComplete: () => (completed = true),
      onError: (err) => assert.fail(err.message),
    });
    for (const read of reads) parser.execute(read);
    assert.equal(completed, true);
    assert.equal(total, body.length);
    assert.ok(largest <= readSize);
    assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'));
  });

  it('drives a real socket with pause/resume and pipelined requests', async () => {
    const targets: string[] = [];
    // allowHalfOpen: the client half-closes after its last request and still reads the answers.
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const parser: RequestParser = new RequestParser({
        onHead: (head) => targets.push(head.target),
        onBody: () => {},
        onComplete: () => {
          socket.pause();
          // Answer asynchronously, as a proxy would after the upstream replies.
          setImmediate(() => {
            socket.write('HTTP/1.1 204 No Content\r\n\r\n');
            socket.resume();
            parser.resume();
          });
        },
        onError: (err) => socket.end(`HTTP/1.1 ${err.status} Bad\r\nConnection: close\r\n\r\n`),
      });
      socket.on('data', (chunk: Buffer) => parser.execute(chunk));
      socket.on('end', () => parser.finish());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    let received = '';
    client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const pipelined = Array.from({ length: 5 }, (_, i) => `GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join('');
    client.write(pipelined.slice(0, 40));
    client.end(pipelined.slice(40) + 'GET / HTTP/9.9\r\nHost: a\r\n\r\n');
    await once(client, 'close');
    server.close();
    assert.deepEqual(targets, ['/r0', '/r1', '/r2', '/r3', '/r4']);
    assert.equal(received.split('HTTP/1.1 204').length - 1, 5);
    assert.match(received, /HTTP\/1\.1 505 Bad\r\n/);
  });
});

/** Seeded mutations of the corpus: never throws, and the outcome never depends on how the bytes were split. */
describe('parser fuzz', () => {
  const alphabet = bytes('\r\n :;,"\\\t\x00\x7f\xff0aF-/?*GET HTTP/1.1chunked');

  function mutate(input: Buffer, random: () => number): Buffer {
    let out = Buffer.from(input);
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const at = Math.floor(random() * out.length);
      const byte = alphabet.subarray(Math.floor(random() * alphabet.length)).subarray(0, 1);
      const op = Math.floor(random() * 3);
      if (op === 0) out[at] = byte[0]!;
      else if (op === 1) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
      else out = Buffer.concat([out.subarray(0, at), byte, out.subarray(at)]);
    }
    return out;
  }

  function trace(makeParser: (handler: ParserHandler) => RequestParser | ResponseParser, pieces: Buffer[]): string {
    const events: unknown[][] = [];
    let failed = false;
    const parser = makeParser({
      onHead: (h) => events.push(['head', h.method, h.target, h.statusCode, h.rawHeaders, h.contentLength, h.chunked, h.keepAlive, h.upgrade, h.host]),
      onBody: (chunk) => {
        const last = events.at(-1);
        if (last?.[0] === 'body') last[1] += chunk.toString('latin1');
        else events.push(['body', chunk.toString('latin1')]);
      },
      onComplete: () => events.push(['complete']),
      onError: (err) => {
        failed = true;
        events.push(['error', err.status, err.code]);
      },
      onInformational: (h) => events.push(['informational', h.statusCode]),
    });
    for (const piece of pieces) {
      parser.execute(piece);
      while (parser.paused && !failed) parser.resume();
    }
    parser.finish();
    return JSON.stringify(events);
  }

  function checkSplitInvariance(seeds: Buffer[], iterations: number, seed: number, makeParser: (handler: ParserHandler) => RequestParser | ResponseParser): void {
    const random = seededRandom(seed);
    for (let i = 0; i < iterations; i++) {
      const input = mutate(seeds[Math.floor(random() * seeds.length)]!, random);
      const whole = trace(makeParser, [input]);
      const bytewise = trace(makeParser, splitAt(input, Array.from({ length: input.length }, (_, k) => k)));
      const randomly = trace(makeParser, splitAt(input, randomCuts(input.length, random)));
      assert.equal(bytewise, whole, `bytewise split of ${JSON.stringify(input.toString('latin1'))}`);
      assert.equal(randomly, whole, `random split of ${JSON.stringify(input.toString('latin1'))}`);
    }
  }

  it('requests', () => {
    const seeds = [...VALID_REQUESTS, ...MALFORMED_REQUESTS].map((r) => bytes(r.raw)).filter((b) => b.length < 2048);
    checkSplitInvariance(seeds, 1500, 2024, (handler) => new RequestParser(handler));
  });

  it('responses', () => {
    const seeds = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: v\r\n\r\n',
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok',
      'HTTP/1.1 404 Not Found\r\nX: y\r\n\r\nuntil close',
    ].map(bytes);
    checkSplitInvariance(seeds, 600, 7, (handler) => {
      const parser = new ResponseParser(handler);
      for (let i = 0; i < 4; i++) parser.expectResponseTo('GET');
      return parser;
    });
  });
});

describe('ResponseParser', () => {
  const statusCases: Array<[string, number, string]> = [
    ['HTTP/1.1 200 OK\r\n', 200, 'OK'],
    ['HTTP/1.1 200 \r\n', 200, ''],
    ['HTTP/1.1 200\r\n', 200, ''],
    ['HTTP/1.0 404 Not  Found \xe9\r\n', 404, 'Not  Found \xe9'],
  ];
  for (const [line, status, reason] of statusCases) {
    it(`accepts ${JSON.stringify(line)}`, () => {
      const { recorder } = parseResponses([bytes(`${line}Content-Length: 0\r\n\r\n`)]);
      assert.deepEqual(recorder.errors, []);
      assert.equal(recorder.messages[0]?.head.statusCode, status);
      assert.equal(recorder.messages[0]?.head.reason, reason);
      assert.equal(recorder.messages[0]?.head.method, '');
      assert.equal(recorder.messages[0]?.head.host, '');
    });
  }

  it('rejects garbage status lines', () => {
    const garbage = [
      'HTTP/1.1 20 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1  200 OK', 'HTTP/1.1 099 X', 'HTTP/1.1 600 X', 'http/1.1 200 OK',
      'HTTP/1.1 abc OK', 'HTTP/1.1 200\tOK', 'HTTP/1.1 200 O\x00K', 'ICY 200 OK', 'HTTP/1.1', '', 'HTTP/2 200 OK', 'HTTP/2.0 200 OK',
    ];
    for (const line of garbage) {
      const { recorder } = parseResponses([bytes(`${line}\r\nContent-Length: 0\r\n\r\n`)]);
      assert.equal(recorder.errors.length, 1, JSON.stringify(line));
      assert.equal(recorder.messages.length, 0);
    }
  });

  it('reads Content-Length and chunked bodies, pipelined, split anywhere', () => {
    const raw = bytes(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' +
        'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n',
    );
    for (const { label, pieces } of splits(raw, 7)) {
      const { parser, recorder } = parseResponses(pieces, ['GET', 'POST']);
      parser.finish();
      assert.deepEqual(recorder.errors, [], label);
      assert.deepEqual(
        recorder.messages.map((m) => [m.head.statusCode, Buffer.concat(m.body).toString(), m.complete, m.head.keepAlive]),
        [
          [200, 'hello', true, true],
          [201, 'abcde', true, true],
        ],
        label,
      );
    }
  });

  it('reads a close-delimited body until EOF', () => {
    for (const { label, pieces } of splits(bytes('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end'), 9)) {
      const { parser, recorder } = parseResponses(pieces);
      assert.equal(recorder.messages[0]?.complete, false);
      assert.equal(recorder.messages[0]?.head.keepAlive, false);
      parser.finish();
      assert.deepEqual(recorder.errors, []);
      assert.equal(recorder.messages[0]?.complete, true, label);
      assert.equal(Buffer.concat(recorder.messages[0]!.body).toString(), 'until the end');
    }
  });

  it('reads no body for HEAD, 204 and 304 whatever the headers say', () => {
    const raw = bytes(
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\n\r\n' +
        'HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const { parser, recorder } = parseResponses([raw], ['HEAD', 'GET', 'GET', 'HEAD', 'GET']);
    parser.finish();
    assert.deepEqual(recorder.errors, []);
    assert.deepEqual(
      recorder.messages.map((m) => [m.head.statusCode, m.head.contentLength, Buffer.concat(m.body).toString(), m.complete]),
      [
        [200, 100, '', true],
        [204, -1, '', true],
        [304, 50, '', true],
        [200, -1, '', true],
        [200, 2, 'ok', true],
      ],
    );
  });

  it('reports 100-continue as informational, then the final response', () => {
    const raw = bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    for (const { label, pieces } of splits(raw, 11)) {
      const { recorder } = parseResponses(pieces, ['HEAD']);
      assert.deepEqual(recorder.informational.map((h) => h.statusCode), [100, 103], label);
      assert.deepEqual(recorder.informational[1]?.rawHeaders, ['Link', '</a.css>']);
      // The HEAD expectation belongs to the final response, not to the 1xx ones.
      assert.deepEqual(recorder.messages.map((m) => [m.head.statusCode, Buffer.concat(m.body).toString(), m.complete]), [[200, '', true]], label);
    }
  });

  /** One response, without the auto-resume of parseResponses. */
  function parseOne(raw: string, method = 'GET'): { parser: ResponseParser; recorder: Recorder } {
    const recorder = new Recorder();
    const parser = new ResponseParser(recorder);
    parser.expectResponseTo(method);
    parser.execute(bytes(raw));
    return { parser, recorder };
  }

  it('pauses after 101 and hands over the new protocol bytes', () => {
    const { parser, recorder } = parseOne('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi');
    assert.equal(recorder.messages[0]?.head.upgrade, true);
    assert.equal(recorder.messages[0]?.complete, true);
    assert.equal(parser.paused, true);
    assert.deepEqual(parser.takeLeftover(), bytes('\x81\x02hi'));
  });

  it('hands over the bytes after a 101 from inside onHead, where the proxy splices the tunnel', () => {
    const recorder = new Recorder();
    const parser = new ResponseParser(recorder);
    let fromHead: Buffer | undefined;
    recorder.onHead = (head) => {
      recorder.messages.push({ head, body: [], complete: false });
      fromHead = parser.takeLeftover();
    };
    parser.expectResponseTo('GET');
    parser.execute(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi'));
    assert.deepEqual(fromHead, bytes('\x81\x02hi'));
    assert.equal(recorder.messages[0]?.complete, true);
    assert.deepEqual(parser.takeLeftover(), bytes(''));
  });

  it('treats a 2xx to CONNECT as a tunnel and a refusal as a normal response', () => {
    const tunnel = parseOne('HTTP/1.1 200 Connection Established\r\nContent-Length: 10\r\n\r\n\x16\x03', 'CONNECT');
    assert.equal(tunnel.recorder.messages[0]?.head.upgrade, true);
    assert.deepEqual(tunnel.parser.takeLeftover(), bytes('\x16\x03'));
    const refused = parseOne('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno', 'CONNECT');
    assert.equal(refused.recorder.messages[0]?.head.upgrade, false);
    assert.equal(Buffer.concat(refused.recorder.messages[0]!.body).toString(), 'no');
  });

  it('rejects ambiguous framing and incomplete bodies', () => {
    const bad: Array<[string, string]> = [
      ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 'content_length_with_transfer_encoding'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'duplicate_content_length'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'unsupported_transfer_encoding'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'chunked_not_last'],
      ['HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'transfer_encoding_in_http10'],
      ['HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n', 'obs_fold'],
      ['HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'bare_lf'],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n', 'invalid_chunk_size'],
    ];
    for (const [raw, code] of bad) {
      const { recorder } = parseResponses([bytes(raw)]);
      assert.deepEqual(recorder.errors.map((e) => e.code), [code], raw);
    }
    const cut = parseResponses([bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab')]);
    cut.parser.finish();
    assert.deepEqual(cut.recorder.errors.map((e) => e.code), ['incomplete_message']);
    const idle = parseResponses([]);
    idle.parser.finish();
    assert.deepEqual(idle.recorder.errors, []);
  });
});
