/**
 * The API's door: every request carries `Authorization: Bearer <token>` except
 * the public ones (`/healthz`, and the UI's static files: GETs outside `/api`,
 * `/apis` and `/openapi.json`). No or an unknown token: 401 with
 * `WWW-Authenticate: Bearer`. A read-only token may only read (GET, HEAD,
 * watches); writing with it is 403. Tokens are checked before the body is
 * parsed, and never logged.
 *
 * The token routes (`/api/tokens`, admin only): list (no secrets), create,
 * rotate, revoke. Create and rotate answer with the token, the only time it is
 * shown.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HEALTH_PATH, OPENAPI_PATH, TOKENS_PATH } from './paths.js';
import { ApiError, badRequest, notFound } from './status.js';
import { TOKEN_ROLES, type TokenAuthority, type TokenInfo, type TokenRole } from './tokens.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's token, set by the auth hook on every non-public request. */
    caller?: TokenInfo;
  }
}

/**
 * Needs a token: every route but /healthz, and every write wherever it goes.
 * Decided by the route the router matched, not by the raw URL: the router
 * decodes `%61pis` to `apis`, so a prefix test on the raw URL let such a GET
 * through unauthenticated. Unmatched GETs (the UI's files, 404s) go by their
 * decoded path.
 */
function isProtected(request: FastifyRequest): boolean {
  if (!READ_METHODS.has(request.method)) return true;
  const route = request.routeOptions.url;
  if (route !== undefined) return route !== HEALTH_PATH;
  const path = decodedPath(request.url);
  return path === undefined || path === OPENAPI_PATH || path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/');
}

/** The URL's path, percent-decoded; undefined when it does not decode. */
function decodedPath(url: string): string | undefined {
  try {
    return decodeURIComponent(url.split('?', 1)[0]!);
  } catch {
    return undefined;
  }
}

const unauthorized = (message: string): ApiError => new ApiError(401, 'Unauthorized', message);
const forbidden = (message: string): ApiError => new ApiError(403, 'Forbidden', message);

export function registerAuth(app: FastifyInstance, tokens: TokenAuthority): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isProtected(request)) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (match === null) {
      void reply.header('www-authenticate', 'Bearer realm="weft"');
      throw unauthorized(header === undefined
        ? 'authentication required: send Authorization: Bearer <token> (weft: --token, WEFT_TOKEN or <data-dir>/admin-token)'
        : 'the Authorization header must be "Bearer <token>"');
    }
    const caller = await tokens.authenticate(match[1]!);
    if (caller === undefined) {
      void reply.header('www-authenticate', 'Bearer realm="weft", error="invalid_token"');
      throw unauthorized('invalid or revoked token');
    }
    if (caller.role !== 'admin' && !READ_METHODS.has(request.method)) {
      throw forbidden(`token ${caller.id} is ${caller.role}: ${request.method} needs an admin token`);
    }
    request.caller = caller;
  });
}

/** For reads only an admin may make; `what` says what needs it ("managing tokens"). */
export function requireAdmin(request: FastifyRequest, what: string): void {
  if (request.caller?.role !== 'admin') throw forbidden(`token ${request.caller?.id ?? '(none)'} is ${request.caller?.role ?? 'unknown'}: ${what} needs an admin token`);
}

export function registerTokenRoutes(app: FastifyInstance, tokens: TokenAuthority): void {
  app.get(TOKENS_PATH, async (request) => {
    requireAdmin(request, 'managing tokens');
    return { items: await tokens.list() };
  });
  app.post<{ Body: { role?: unknown } | undefined }>(TOKENS_PATH, async (request, reply) => {
    requireAdmin(request, 'managing tokens');
    const role = request.body?.role ?? 'read-only';
    if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role)) {
      throw badRequest(`role must be one of ${TOKEN_ROLES.join(', ')}`, [{ field: 'role', message: `unsupported value ${JSON.stringify(role)}` }]);
    }
    const issued = await tokens.create(role as TokenRole);
    request.log.info({ tokenId: issued.id, role: issued.role, by: request.caller?.id }, 'API token created');
    return reply.code(201).send(issued);
  });
  app.post<{ Params: { id: string } }>(`${TOKENS_PATH}/:id/rotate`, async (request) => {
    requireAdmin(request, 'managing tokens');
    const issued = await tokens.rotate(request.params.id);
    if (issued === undefined) throw notFound(`no token ${request.params.id}`);
    request.log.info({ tokenId: issued.id, by: request.caller?.id }, 'API token rotated');
    return issued;
  });
  app.delete<{ Params: { id: string } }>(`${TOKENS_PATH}/:id`, async (request) => {
    requireAdmin(request, 'managing tokens');
    if (!(await tokens.revoke(request.params.id))) throw notFound(`no token ${request.params.id}`);
    request.log.info({ tokenId: request.params.id, by: request.caller?.id }, 'API token revoked');
    return { id: request.params.id, revoked: true };
  });
}
