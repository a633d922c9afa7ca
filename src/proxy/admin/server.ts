/**
 * The admin HTTP server (Envoy's admin interface, the endpoints Weft supports).
 * Not on the request hot path, so it uses node:http. The proxy supplies
 * everything through AdminHooks; this module only routes, formats and sets
 * content types. Mutating endpoints require POST, as in Envoy.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../lib/json-log.js';
import type { SocketAddress } from '../config/types.js';
import type { StatsStore } from '../observe/stats-store.js';

export type ServerState = 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING' | 'INITIALIZING';

export interface AdminHooks {
  /** The stats to render (the primary passes a merged view of its workers). */
  stats(): StatsStore;
  /** LIVE and initialized. */
  ready(): boolean;
  state(): ServerState;
  /** Envoy's /config_dump JSON shape. */
  configDump(): unknown;
  /** Envoy's /clusters text, or its `?format=json` object. */
  clusters(format: 'text' | 'json'): string | unknown;
  /** Envoy's /certs JSON (certs.ts): certificates only, never keys. */
  certs(): unknown;
  drainListeners(graceful: boolean): Promise<void>;
  /** Called after the /quitquitquit response is sent. */
  quit(): void;
  serverInfo(): unknown;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=UTF-8';
const JSON_TYPE = 'application/json';
const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';

interface Reply {
  status: number;
  contentType: string;
  body: string;
  /** Runs once the response has been flushed (e.g. quitting). */
  afterSend?: () => void;
}

const text = (body: string, status = 200): Reply => ({ status, contentType: TEXT, body });
const json = (value: unknown, status = 200): Reply => ({ status, contentType: JSON_TYPE, body: `${JSON.stringify(value, null, 2)}\n` });

class BadRequest extends Error {}

interface Endpoint {
  readonly help: string;
  readonly mutates: boolean;
  handle(query: URLSearchParams, hooks: AdminHooks): Reply | Promise<Reply>;
}

/** An Envoy stats filter: RE2 syntax, matched unanchored; JS regex is close enough for the common subset. */
function statsFilter(query: URLSearchParams): RegExp | undefined {
  const source = query.get('filter');
  if (source === null || source === '') return undefined;
  try {
    return new RegExp(source, 'u');
  } catch {
    throw new BadRequest(`Invalid regex: ${source}\n`);
  }
}

function renderStats(query: URLSearchParams, stats: StatsStore, format: string | null): Reply {
  const filter = statsFilter(query);
  switch (format) {
    case null:
    case 'text':
      return text(stats.renderText(filter));
    case 'json':
      return json(stats.renderJson(filter));
    case 'prometheus':
      return { status: 200, contentType: PROMETHEUS, body: stats.renderPrometheus(filter) };
    default:
      throw new BadRequest(`usage: /stats?format=(json|prometheus|text)&filter=regex\n`);
  }
}

const ENDPOINTS: ReadonlyMap<string, Endpoint> = new Map<string, Endpoint>([
  ['/help', { help: 'print out list of admin commands', mutates: false, handle: () => text(helpText()) }],
  [
    '/ready',
    {
      help: 'print server state, return 200 if LIVE, otherwise return 503',
      mutates: false,
      handle: (_q, hooks) => text(`${hooks.state()}\n`, hooks.ready() ? 200 : 503),
    },
  ],
  [
    '/stats',
    {
      help: 'print server stats (params: filter=regex, format=json|prometheus|text)',
      mutates: false,
      handle: (q, hooks) => renderStats(q, hooks.stats(), q.get('format')),
    },
  ],
  [
    '/stats/prometheus',
    {
      help: 'print server stats in prometheus format (params: filter=regex)',
      mutates: false,
      handle: (q, hooks) => renderStats(q, hooks.stats(), 'prometheus'),
    },
  ],
  ['/config_dump', { help: 'dump current Envoy configs', mutates: false, handle: (_q, hooks) => json(hooks.configDump()) }],
  [
    '/clusters',
    {
      help: 'upstream cluster status (params: format=json|text)',
      mutates: false,
      handle: (q, hooks) => {
        const format = q.get('format') ?? 'text';
        if (format === 'json') return json(hooks.clusters('json'));
        if (format === 'text') return text(String(hooks.clusters('text')));
        throw new BadRequest('usage: /clusters?format=(json|text)\n');
      },
    },
  ],
  ['/certs', { help: 'print certs on machine', mutates: false, handle: (_q, hooks) => json(hooks.certs()) }],
  ['/server_info', { help: 'print server version/status information', mutates: false, handle: (_q, hooks) => json(hooks.serverInfo()) }],
  ['/memory', { help: 'print current allocation/heap usage, in bytes', mutates: false, handle: () => json(memoryReport()) }],
  [
    '/drain_listeners',
    {
      help: 'drain listeners (params: graceful)',
      mutates: true,
      handle: async (q, hooks) => {
        await hooks.drainListeners(q.has('graceful'));
        return text('OK\n');
      },
    },
  ],
  ['/quitquitquit', { help: 'exit the server', mutates: true, handle: (_q, hooks) => ({ ...text('OK\n'), afterSend: () => hooks.quit() }) }],
]);

/** Envoy's /memory keys, filled from this process's V8 heap and RSS (strings, as Envoy prints uint64). */
function memoryReport(): Record<string, string> {
  const usage = process.memoryUsage();
  return {
    allocated: String(usage.heapUsed),
    heap_size: String(usage.heapTotal),
    resident: String(usage.rss),
    external: String(usage.external),
    array_buffers: String(usage.arrayBuffers),
  };
}

function helpText(): string {
  let out = 'admin commands are:\n';
  for (const [path, endpoint] of ENDPOINTS) out += `  ${path}${endpoint.mutates ? ' (POST)' : ''}: ${endpoint.help}\n`;
  return out;
}

async function dispatch(req: IncomingMessage, hooks: AdminHooks): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const endpoint = ENDPOINTS.get(url.pathname);
  if (endpoint === undefined) return text(`invalid path. ${helpText()}`, 404);
  if (endpoint.mutates && req.method !== 'POST') {
    return text(`Method ${req.method ?? ''} not allowed, POST required.\n`, 405);
  }
  try {
    return await endpoint.handle(url.searchParams, hooks);
  } catch (err) {
    if (err instanceof BadRequest) return text(err.message, 400);
    throw err;
  }
}

function send(res: ServerResponse, reply: Reply, method: string | undefined): void {
  res.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    'cache-control': 'no-cache, max-age=0',
    'x-content-type-options': 'nosniff',
  });
  if (reply.afterSend !== undefined) res.once('finish', reply.afterSend);
  res.end(method === 'HEAD' ? undefined : reply.body);
}

export function startAdminServer(address: SocketAddress, hooks: AdminHooks, log: Logger): Promise<AdminServer> {
  const server = createServer((req, res) => {
    // The request body is never used; drain it so keep-alive connections stay usable.
    req.resume();
    dispatch(req, hooks).then(
      (reply) => send(res, reply, req.method),
      (err: unknown) => {
        log.error({ err, url: req.url }, 'admin request failed');
        send(res, text('internal error\n', 500), req.method);
      },
    );
  });
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => reject(new Error(`admin: cannot listen on ${address.address}:${address.port}: ${err.message}`, { cause: err }));
    server.once('error', fail);
    server.listen(address.port, address.address, () => {
      server.off('error', fail);
      server.on('error', (err) => log.error({ err }, 'admin server error'));
      const port = (server.address() as AddressInfo).port;
      log.info({ address: address.address, port }, 'admin server listening');
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
