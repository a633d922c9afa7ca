/**
 * What every BookInfo service shares: a JSON/HTML answer, the tracing headers
 * a service must copy from its request to the calls it makes (the mesh can only
 * join spans that the application propagates, as in Istio's BookInfo), and the
 * client that calls another service through the sidecar, and the server.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Istio's list, minus vendor-specific tracers: request id, W3C trace context, B3, and the user. */
export const PROPAGATED_HEADERS = [
  'x-request-id',
  'traceparent',
  'tracestate',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'end-user',
  'user-agent',
] as const;

export function propagatedHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const name of PROPAGATED_HEADERS) {
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

/** `/details/0` -> 0; `/details/x` -> undefined (the services answer 400 then, as BookInfo's do). */
export function productIdFrom(path: string, prefix: string): number | undefined {
  const rest = path.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/**
 * Where a service's calls go. `service` is the destination as the app names it
 * (`http://details:9080`: the Host header the sidecar routes on); `via`, when
 * set, is the sidecar's outbound listener the connection is made to, the way
 * iptables would redirect `details:9080` to 127.0.0.1:15001 in a pod. Without
 * `via` the call goes straight to `service` (tests, or running without a mesh).
 */
export interface Upstream {
  service: URL;
  via?: URL;
}

export interface UpstreamResponse {
  status: number;
  body: unknown;
}

/** One keep-alive pool per process: the sidecar is the only peer when `via` is set. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** GETs `path` from `upstream` with the propagated headers; rejects on a network error, a timeout or a non-JSON body. */
export function getJson(upstream: Upstream, path: string, headers: OutgoingHttpHeaders, timeoutMs: number): Promise<UpstreamResponse> {
  const target = upstream.via ?? upstream.service;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port === '' ? 80 : Number(target.port),
        method: 'GET',
        path,
        headers: { ...headers, host: upstream.service.host, accept: 'application/json' },
        timeout: timeoutMs,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch {
            reject(new Error(`GET ${upstream.service.host}${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 100)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${upstream.service.host}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`GET ${upstream.service.host}${path} via ${target.host}: ${err.message}`, { cause: err })));
    req.end();
  });
}

export interface RunningService {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on host:port (0 picks a free port). A handler that throws or
 * rejects answers 500 instead of taking the process down.
 */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port: number, host = '127.0.0.1'): Promise<RunningService> {
  const server = createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy(err as Error);
      else sendJson(res, 500, { error: (err as Error).message });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
