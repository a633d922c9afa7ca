/**
 * The HTTP/2 load client: one node:http2 session per connection, one stream at
 * a time on it (as h2load -m 1), so "connections" means the same thing for
 * every protocol and latency is never queued behind our own streams.
 */
import http2 from 'node:http2';
import type { ConnectionEvents, LoadConnection, RequestTemplate } from './client.js';
import { errorKind } from './client.js';

class Http2Connection implements LoadConnection {
  private readonly session: http2.ClientHttp2Session;
  private connected = false;
  private dead = false;
  private inFlight = false;
  private lastError: string | undefined = undefined;

  constructor(
    private readonly template: RequestTemplate,
    private readonly requestHeaders: http2.OutgoingHttpHeaders,
    private readonly events: ConnectionEvents,
  ) {
    this.session = http2.connect(template.target.origin);
    // Ready on the server's SETTINGS, not on TCP connect: a server that does not speak HTTP/2
    // (an HTTP/1 server, say) accepts the socket and then fails the session, which is a
    // connect error (reported once, retried with backoff), not a failure of every request.
    this.session.once('remoteSettings', () => {
      this.connected = true;
      if (!this.dead && !this.session.destroyed) events.onReady();
    });
    this.session.on('error', (error) => {
      this.lastError = errorKind(error);
    });
    this.session.on('goaway', () => {
      this.lastError ??= 'GOAWAY';
    });
    this.session.on('close', () => {
      if (this.dead) return;
      this.dead = true;
      if (this.inFlight) {
        this.inFlight = false;
        events.onFailure(this.lastError ?? 'closed by server');
      }
      events.onClosed(this.connected ? undefined : this.connectError());
    });
  }

  send(): void {
    this.inFlight = true;
    const body = this.template.body;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.session.request(this.requestHeaders, { endStream: body === undefined });
    } catch (error) {
      // The session died since it was ready (its close event is still queued): never throw into
      // the engine; the close event reports this request's failure.
      this.lastError ??= errorKind(error);
      this.session.destroy();
      return;
    }
    let status = 0;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', () => {}); // read and drop the body
    stream.on('end', () => {
      if (this.dead || !this.inFlight) return;
      this.inFlight = false;
      this.events.onResponse(status, true);
    });
    stream.on('error', (error) => {
      if (this.dead || !this.inFlight) return;
      this.inFlight = false;
      this.events.onFailure(errorKind(error));
    });
    if (body !== undefined) stream.end(body);
  }

  destroy(): void {
    this.dead = true;
    this.session.destroy();
  }

  private connectError(): string {
    const kind = this.lastError ?? 'closed by server';
    return this.lastError === 'ERR_HTTP2_ERROR' ? `${kind} (no HTTP/2 from the server: is it HTTP/1 only?)` : kind;
  }
}

export function http2ConnectionFactory(template: RequestTemplate): (events: ConnectionEvents) => LoadConnection {
  const headers: http2.OutgoingHttpHeaders = { ':method': template.method, ':path': template.target.path, 'user-agent': 'weft-perf' };
  for (const [name, value] of template.headers) headers[name.toLowerCase()] = value;
  return (events) => new Http2Connection(template, headers, events);
}
