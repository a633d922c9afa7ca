/**
 * The CA's API routes (any token reads; the registration token and rotation need an admin token):
 *   GET  /api/ca                                  root, pending/retired roots, trust domain, counters
 *   POST /api/ca/rotate  {"overlap": "24h"}       start a root rotation
 *   GET  /api/identities/{namespace}/{workload}[?token=true]   SPIFFE ID, chain, expiry (and the registration token)
 * Nothing here ever returns a private key: CaStatus and IdentityStatus carry certificates only.
 */
import type { FastifyInstance } from 'fastify';
import { CaRequestError, type MeshCa } from '../ca/mesh-ca.js';
import { parseDuration } from '../model/duration.js';
import { requireAdmin } from './auth.js';
import { CA_PATH, CA_ROTATE_PATH, IDENTITIES_PATH } from './paths.js';
import { ApiError, badRequest, notFound } from './status.js';

const NAME = { type: 'string', minLength: 1, maxLength: 253 } as const;

export function registerCaRoutes(app: FastifyInstance, ca: MeshCa): void {
  app.get(CA_PATH, () => ca.status());

  app.post<{ Body: { overlap?: string } | undefined }>(CA_ROTATE_PATH, async (request) => {
    const overlap = request.body?.overlap;
    let overlapMs: number | undefined;
    if (overlap !== undefined) {
      const parsed = typeof overlap === 'string' ? parseDuration(overlap) : 'must be a duration string';
      if (typeof parsed === 'string') throw badRequest(`overlap: ${parsed}`, [{ field: 'overlap', message: parsed }]);
      overlapMs = parsed;
    }
    try {
      return await ca.rotate(overlapMs);
    } catch (err) {
      throw new ApiError(409, 'Conflict', `cannot rotate the CA: ${(err as Error).message}`);
    }
  });

  app.get<{ Params: { namespace: string; workload: string }; Querystring: { token?: boolean } }>(
    `${IDENTITIES_PATH}/:namespace/:workload`,
    { schema: { params: { type: 'object', properties: { namespace: NAME, workload: NAME } }, querystring: { type: 'object', properties: { token: { type: 'boolean' } } } } },
    async (request) => {
      // A registration token gets the workload a certificate: a read-only token must not lead to one.
      if (request.query.token === true) requireAdmin(request, 'reading a registration token');
      try {
        return await ca.identity(request.params.namespace, request.params.workload, request.query.token === true);
      } catch (err) {
        if (err instanceof CaRequestError && err.rejection === 'unknown_workload') throw notFound(err.message);
        throw err;
      }
    },
  );
}
