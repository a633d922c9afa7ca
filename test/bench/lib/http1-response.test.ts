import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseFramer } from '../../../bench/lib/http1-response.js';

function frame(input: string, chunkSize = input.length): { statuses: number[]; framer: ResponseFramer } {
  const statuses: number[] = [];
  const framer = new ResponseFramer((status) => statuses.push(status));
  const bytes = Buffer.from(input, 'latin1');
  for (let offset = 0; offset < bytes.length; offset += chunkSize) framer.feed(bytes.subarray(offset, offset + chunkSize));
  return { statuses, framer };
}

const CONTENT_LENGTH = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const CHUNKED = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n';

test('frames content-length responses, pipelined, whatever the read boundaries', () => {
  for (const chunkSize of [1, 3, 1000]) {
    const { statuses, framer } = frame(CONTENT_LENGTH + CONTENT_LENGTH.replace('200 OK', '503 Unavailable'), chunkSize);
    assert.deepEqual(statuses, [200, 503], `chunk size ${chunkSize}`);
    assert.ok(framer.idle);
  }
});

test('frames chunked bodies with extensions and trailers', () => {
  for (const chunkSize of [1, 7, 1000]) {
    const { statuses, framer } = frame(CHUNKED + CONTENT_LENGTH, chunkSize);
    assert.deepEqual(statuses, [201, 200], `chunk size ${chunkSize}`);
    assert.ok(framer.idle);
  }
});

test('reports nothing until the body is complete', () => {
  const { statuses, framer } = frame(CONTENT_LENGTH.slice(0, -1));
  assert.deepEqual(statuses, []);
  assert.equal(framer.idle, false);
});

test('skips 1xx responses and frames bodiless statuses', () => {
  const { statuses } = frame('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n' + CONTENT_LENGTH);
  assert.deepEqual(statuses, [204, 304, 200]);
});

test('rejects responses it cannot delimit', () => {
  assert.throws(() => frame('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nok'), /neither content-length nor chunked/);
  assert.throws(() => frame('SSH-2.0-OpenSSH\r\n\r\n'), /bad status line/);
});
