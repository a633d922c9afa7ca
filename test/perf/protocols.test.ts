/**
 * Each protocol's client against real servers: the HTTP/1.1 framer with
 * responses cut at every byte, chunked bodies with trailers, 1xx, HEAD and
 * Connection: close; HTTP/2 via node:http2; gRPC against a grpc-js server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttp1Server } from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runLoad } from '../../src/perf/index.js';
import { startGrpcEchoServer } from '../support/grpc-echo.js';
import { preferTimely } from './harness.js';

/** A raw TCP server that answers each request head with `responses[i % n]`, written one byte at a time when `trickle`. */
async function rawServer(responses: readonly string[], trickle: boolean): Promise<{ url: string; served: () => number; close: () => Promise<void> }> {
  let served = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', async (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        const response = responses[served++ % responses.length]!;
        if (!trickle) socket.write(response);
        else for (const byte of Buffer.from(response, 'latin1')) socket.write(Buffer.from([byte]));
        if (/connection: close/i.test(response)) socket.end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`,
    served: () => served,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('weft perf protocols', () => {
  const cleanups: Array<() => Promise<void>> = [];
  before(() => preferTimely(process.pid)); // servers and generator share this process
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('HTTP/1.1: content-length, chunked with trailers, 1xx, 204, Connection: close; whole and byte by byte', async () => {
    const responses = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
      'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\n',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye',
    ];
    for (const trickle of [false, true]) {
      const server = await rawServer(responses, trickle);
      cleanups.push(server.close);
      const result = await runLoad({ url: server.url, rate: undefined, durationMs: 1000, connections: 1 });
      assert.deepEqual(result.errors, {}, `trickle=${trickle}`);
      const counts = result.statusCodes;
      assert.ok(result.requests.completed >= 10, `trickle=${trickle}: ${result.requests.completed} responses`);
      for (const status of ['200', '201', '202', '204', '503']) assert.ok((counts[status] ?? 0) >= 2, `trickle=${trickle}: ${JSON.stringify(counts)}`);
      // Every status in turn, one request per response: the counts differ by at most one.
      const values = Object.values(counts);
      assert.ok(Math.max(...values) - Math.min(...values) <= 1, JSON.stringify(counts));
    }
  });

  it('HTTP/1.1: a response the framer cannot read is a protocol error, not a crash', async () => {
    const server = await rawServer(['HTTP/1.1 200 OK\r\n\r\nno length, no chunking'], false);
    cleanups.push(server.close);
    const result = await runLoad({ url: server.url, rate: 20, durationMs: 500, connections: 1 });
    assert.ok((result.errors['protocol: response has neither content-length nor chunked encoding'] ?? 0) >= 5, JSON.stringify(result.errors));
  });

  it('HTTP/2 via node:http2, with method, headers and body', async () => {
    const seen: Array<{ method: string; header: string; bytes: number }> = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
      stream.on('end', () => {
        seen.push({ method: String(headers[':method']), header: String(headers['x-test']), bytes });
        stream.respond({ ':status': 201 });
        stream.end('created');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const result = await runLoad({ url: `http://127.0.0.1:${port}/items`, protocol: 'http2', rate: 100, durationMs: 1000, connections: 8, method: 'POST', headers: [['x-test', 'yes']], body: Buffer.alloc(10) });
    assert.deepEqual(result.errors, {});
    // All of the 100 scheduled on a quiet machine; a busy one may not send them all in the window.
    assert.ok(result.requests.completed >= 50, `completed ${result.requests.completed}`);
    assert.deepEqual(result.statusCodes, { '201': result.requests.completed });
    assert.equal(seen.length, result.requests.completed);
    assert.deepEqual(seen[0], { method: 'POST', header: 'yes', bytes: 10 });
  });

  it('HTTP/2 against an HTTP/1-only server fails to connect with a reason, never a crash', async () => {
    // Regression: the session was reported ready on TCP connect, and the first request on it
    // threw ERR_HTTP2_INVALID_SESSION out of the engine once the server's HTTP/1 answer killed it.
    const server = createHttp1Server((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    await assert.rejects(runLoad({ url, protocol: 'http2', rate: 50, durationMs: 500, connections: 4 }), {
      message: `cannot connect to ${url}: ERR_HTTP2_ERROR (no HTTP/2 from the server: is it HTTP/1 only?)`,
    });
  });

  it('gRPC unary calls with a raw protobuf message; statuses are gRPC codes', async () => {
    const server = await startGrpcEchoServer('perf');
    cleanups.push(server.close);
    // EchoRequest{message: "hi"}: field 1, wire type 2, length 2.
    const message = Buffer.from([0x0a, 0x02, 0x68, 0x69]);
    const ok = await runLoad({ url: `http://127.0.0.1:${server.port}/weft.test.Echo/Echo`, protocol: 'grpc', rate: 100, durationMs: 1000, connections: 8, body: message });
    assert.ok(ok.requests.completed >= 50, `completed ${ok.requests.completed}`);
    assert.deepEqual(ok.statusCodes, { '0': ok.requests.completed });
    const missing = await runLoad({ url: `http://127.0.0.1:${server.port}/weft.test.Echo/Nope`, protocol: 'grpc', rate: 50, durationMs: 500, connections: 4 });
    assert.ok(missing.requests.completed >= 10, `completed ${missing.requests.completed}`);
    assert.deepEqual(missing.statusCodes, { '12': missing.requests.completed }); // UNIMPLEMENTED
  });
});
