/**
 * The control plane's REST API (fastify): resource routes for every kind,
 * watch streams, status conditions, `/openapi.json`, `/healthz` and the
 * connected proxies. Bodies are JSON or YAML up to 1 MiB; every failure is a
 * Kubernetes-style Status.
 */
import type pino from 'pino';
import { fastify, LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseYaml } from '../../proxy/config/yaml-document.js';
import { ConfigError } from '../../lib/errors.js';
import { WEFT_VERSION } from '../../cli/version.js';
import { findKind, KINDS } from '../model/kinds.js';
import type { Store } from '../store/store.js';
import { registerAuth, registerTokenRoutes } from './auth.js';
import type { MeshCa } from '../ca/mesh-ca.js';
import { registerCaRoutes } from './ca.js';
import { StatusConditions } from './conditions.js';
import { buildOpenApiDocument } from './openapi.js';
import { HEALTH_PATH, OPENAPI_PATH, PROXIES_PATH, WATCH_ALL_PATH } from './paths.js';
import { registerResourceRoutes, resumeRevision } from './resources.js';
import { ApiError, badRequest, notFound, toApiError } from './status.js';
import type { TokenAuthority } from './tokens.js';
import { WatchStreams } from './watch.js';
import { GoldenMetrics } from '../metrics/golden.js';
import { SeriesStore } from '../metrics/series-store.js';
import type { ProxyStatus } from '../xds/proxy-status.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import { registerPerfRoutes, type PerfEngine } from './perf-routes.js';
import { registerProxyRoutes } from './proxy-routes.js';
import { DEFAULT_UI_DIR, serveUi } from './static-ui.js';

/** Documents above this are refused with 413 (the issue's limit; also fastify's default). */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;
export const YAML_CONTENT_TYPES = ['application/yaml', 'application/x-yaml'];
/** Longest path segment the router accepts; above a name's 253 so the schemas, not the router, refuse long names. */
const MAX_PARAM_LENGTH = 1024;
/** fastify's error for a body above `bodyLimit`; its own message does not say what the limit is. */
const BODY_TOO_LARGE_CODE = 'FST_ERR_CTP_BODY_TOO_LARGE';
/** fastify's error for a body that does not parse (its message does not say where or why). */
const INVALID_JSON_CODE = 'FST_ERR_CTP_INVALID_JSON_BODY';

export interface ApiServerOptions {
  store: Store;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  log: pino.Logger;
  /** The connected proxies and their xDS state, for `GET /api/proxies`. */
  proxies?: () => unknown[];
  /** Whether this replica is the one doing leader-only work, for `GET /healthz`; default true (one replica). */
  isLeader?: () => boolean;
  /** Bearer tokens: every request but /healthz and the UI's files needs one (auth.ts). */
  tokens: TokenAuthority;
  /** Comment lines on idle watch streams; default 15 s. */
  heartbeatMs?: number;
  /** How long background condition re-checks are coalesced; default 100 ms. */
  recheckDelayMs?: number;
  /** Connected proxies with their xDS state, for the UI's `/api/v1/proxies` routes. */
  proxyStatuses?: () => ProxyStatus[];
  /** The scraped golden metrics (empty when not given). */
  metrics?: SeriesStore;
  /** The built web UI served at `/`; default dist/ui. */
  uiDir?: string;
  /** The load generator behind `/api/v1/perf/runs`; default src/perf, loaded on first use. */
  perf?: PerfEngine;
  /** The mesh CA, for `/api/ca` and `/api/identities`. */
  ca?: MeshCa;
  /** How long close() lets requests in flight finish before cutting them; default 10 s. */
  drainTimeoutMs?: number;
}

export interface ApiServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { store, log } = options;
  const sendError = (err: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const apiError = (err as { code?: unknown }).code === BODY_TOO_LARGE_CODE ? bodyTooLarge() : toApiError(err);
    if (apiError.code >= 500) log.error({ err, method: request.method, url: request.url }, 'API request failed');
    void reply.code(apiError.code).type('application/json').send(apiError.toStatus());
  };
  const app = fastify({
    // Typed as fastify's base logger so routes see the default FastifyInstance type.
    loggerInstance: log as FastifyBaseLogger,
    // No per-request lines: the error handler logs failures, and watch clients would flood the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_DOCUMENT_BYTES,
    // On close, idle keep-alive connections go at once; requests in flight finish (see close()).
    forceCloseConnections: 'idle',
    // fastify's default (100) is below the 253 characters a DNS-1123 name may have: such a resource
    // could be created but not read or deleted. Route schemas hold names to 253.
    maxParamLength: MAX_PARAM_LENGTH,
    // The router's own refusals (an undecodable URL, an over-long segment) are Statuses too.
    frameworkErrors: sendError,
  });
  const watches = new WatchStreams(store, options.heartbeatMs ?? 15_000, log);
  const conditions = new StatusConditions(store, log, options.recheckDelayMs ?? 100);

  // JSON (fastify's own parser, with the reason when it refuses) and YAML only: anything else is 415.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    parseJson(request, body as string, (err, value) => {
      if (err === null || (err as { code?: unknown }).code !== INVALID_JSON_CODE) return done(err, value);
      const reason = `invalid JSON: ${jsonProblem(body as string)}`;
      done(badRequest(`request body: ${reason}`, [{ field: 'request body', message: reason }]), undefined);
    });
  });
  app.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseYaml(body as string, 'request body'));
    } catch (err) {
      done(err instanceof ConfigError ? badRequest(err.message, [{ field: err.path, message: err.reason }]) : toApiError(err), undefined);
    }
  });

  app.setErrorHandler(sendError);
  const uiDir = options.uiDir ?? DEFAULT_UI_DIR;
  app.setNotFoundHandler(async (request, reply) => {
    if (await serveUi(uiDir, request, reply)) return reply;
    const error = request.url.startsWith('/apis/')
      ? notFound(`no kind is served at ${request.method} ${request.url.split('?')[0]}; known kinds: ${KINDS.map((k) => `${k.apiVersion} ${k.plural}`).join(', ')}`)
      : notFound(`no route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(404).type('application/json').send(error.toStatus());
  });

  registerAuth(app, options.tokens);
  registerTokenRoutes(app, options.tokens);
  registerResourceRoutes(app, KINDS, { store, conditions, watches });

  app.get<{ Querystring: { resourceVersion?: string } }>(
    WATCH_ALL_PATH,
    { schema: { querystring: { type: 'object', properties: { resourceVersion: { type: 'string' } } } } },
    (request, reply) => {
      // Mesh resources only: internal records (API tokens, the CA's) never leave the control plane.
      watches.serve(reply, { matches: (resource) => findKind(resource.kind) !== undefined, fromRevision: resumeRevision(request) });
      return reply;
    },
  );

  const openApi = JSON.stringify(buildOpenApiDocument(KINDS, WEFT_VERSION));
  app.get(OPENAPI_PATH, (_request, reply) => reply.type('application/json').send(openApi));
  app.get(HEALTH_PATH, () => ({ status: 'ok', leader: options.isLeader?.() ?? true }));
  app.get(PROXIES_PATH, () => ({ items: options.proxies?.() ?? [] }));
  const series = options.metrics ?? new SeriesStore();
  registerMetricsRoutes(app, { store, golden: new GoldenMetrics(series) });
  registerProxyRoutes(app, { proxies: options.proxyStatuses ?? (() => []), series });
  const perf = registerPerfRoutes(app, options.perf);
  if (options.ca !== undefined) registerCaRoutes(app, options.ca);

  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new ApiError(500, 'InternalError', `API server bound to an unexpected address ${String(address)}`);
  log.info({ port: address.port }, 'API server listening');

  return {
    port: address.port,
    close: async () => {
      perf.close();
      watches.closeAll();
      // Stop accepting, let the requests in flight (a slow upload, a store write) answer, and only
      // then cut what is left: a write the client sent in full is never lost to a SIGTERM.
      const cut = setTimeout(() => app.server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      // After the requests: a write that finished while draining still schedules its re-check.
      await conditions.close();
    },
  };
}

/** Why fastify's parser refused `text`: JSON.parse's message (with the position), or the key it will not take. */
function jsonProblem(text: string): string {
  try {
    JSON.parse(text);
    return 'a "__proto__" or "constructor.prototype" key, which is refused';
  } catch (err) {
    return (err as Error).message;
  }
}

function bodyTooLarge(): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `request body is larger than ${MAX_DOCUMENT_BYTES} bytes (1 MiB), the most one document may take`);
}
