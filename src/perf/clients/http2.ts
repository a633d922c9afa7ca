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

  constructor(
    private readonly template: RequestTemplate,
    private readonly requestHeaders: http2.OutgoingHttpHeaders,
    private readonly events: ConnectionEvents,
  ) {
    this.session = http2.connect(template.target.origin);
    this.session.on('connect', () => {
      this.connected = true;
      if (!this.dead) events.onReady();
    });
    let lastError: string | undefined;
    this.session.on('error', (error) => {
      lastError = errorKind(error);
    });
    this.session.on('goaway', () => {
      lastError ??= 'GOAWAY';
    });
    this.session.on('close', () => {
      if (this.dead) return;
      this.dead = true;
      if (this.inFlight) {
        this.inFlight = false;
        events.onFailure(lastError ?? 'closed by server');
      }
      events.onClosed(this.connected ? undefined : (lastError ?? 'closed by server'));
    });
  }

  send(): void {
    this.inFlight = true;
    const body = this.template.body;
    const stream = this.session.request(this.requestHeaders, { endStream: body === undefined });
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
}

export function http2ConnectionFactory(template: RequestTemplate): (events: ConnectionEvents) => LoadConnection {
  const headers: http2.OutgoingHttpHeaders = { ':method': template.method, ':path': template.target.path, 'user-agent': 'weft-perf' };
  for (const [name, value] of template.headers) headers[name.toLowerCase()] = value;
  return (events) => new Http2Connection(template, headers, events);
}
