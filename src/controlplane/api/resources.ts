/**
 * The resource routes, registered per kind from the model's kind table:
 * list (or watch), get, create, replace, delete. Bodies are admitted by the
 * model's validator (the one that also generates the CRDs), so the API accepts
 * exactly what the schemas say; route schemas cover params and query strings.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KindInfo } from '../model/kinds.js';
import { describeKey, type Resource, type ResourceKey } from '../model/resource.js';
import { validateResource } from '../model/validate.js';
import type { Store } from '../store/store.js';
import type { StatusConditions } from './conditions.js';
import { routePatterns } from './paths.js';
import { ApiError, badRequest, notFound } from './status.js';
import type { WatchStreams } from './watch.js';
import { isRecord } from '../../lib/is-record.js';

export interface ResourceRouteDeps {
  store: Store;
  conditions: StatusConditions;
  watches: WatchStreams;
}

interface ScopeParams {
  namespace?: string;
  name?: string;
}

interface ListQuery {
  watch?: boolean;
  resourceVersion?: string;
}

const NAME = { type: 'string', minLength: 1, maxLength: 253 } as const;
const LIST_QUERY = { type: 'object', properties: { watch: { type: 'boolean' }, resourceVersion: { type: 'string' } } } as const;
const PRECONDITION_QUERY = { type: 'object', properties: { resourceVersion: { type: 'string', minLength: 1 } } } as const;

/** Cluster-scoped kinds have no namespace: '' in metadata and store keys (the model's rule). */
const CLUSTER_SCOPE_NAMESPACE = '';

export function registerResourceRoutes(app: FastifyInstance, kinds: readonly KindInfo[], deps: ResourceRouteDeps): void {
  for (const kind of kinds) registerKind(app, kind, deps);
}

function registerKind(app: FastifyInstance, kind: KindInfo, { store, conditions, watches }: ResourceRouteDeps): void {
  const patterns = routePatterns(kind);
  const params = { type: 'object', properties: { namespace: NAME, name: NAME } } as const;
  const namespaceOf = (p: ScopeParams): string => (kind.namespaced ? p.namespace! : CLUSTER_SCOPE_NAMESPACE);
  const keyOf = (p: ScopeParams): ResourceKey => ({ kind: kind.kind, namespace: namespaceOf(p), name: p.name! });

  const list = async (request: FastifyRequest<{ Params: ScopeParams; Querystring: ListQuery }>, reply: FastifyReply, namespace: string | undefined): Promise<unknown> => {
    refuseUnsupported(request.query, SELECTORS, 'list everything and filter on the client');
    if (request.query.watch === true) {
      watches.serve(reply, {
        matches: (r) => r.kind === kind.kind && (namespace === undefined || r.metadata.namespace === namespace),
        fromRevision: resumeRevision(request),
      });
      return reply;
    }
    // Revision first: a watch from it may repeat an item, but never misses a change.
    const revision = await store.revision();
    const items = await store.list({ kind: kind.kind, ...(namespace === undefined ? {} : { namespace }) });
    return { apiVersion: kind.apiVersion, kind: `${kind.kind}List`, metadata: { resourceVersion: revision }, items };
  };

  app.get<{ Params: ScopeParams; Querystring: ListQuery }>(patterns.collection, { schema: { params, querystring: LIST_QUERY } }, (request, reply) =>
    list(request, reply, kind.namespaced ? request.params.namespace : undefined),
  );
  if (kind.namespaced) {
    app.get<{ Params: ScopeParams; Querystring: ListQuery }>(patterns.allNamespaces, { schema: { querystring: LIST_QUERY } }, (request, reply) => list(request, reply, undefined));
  }

  // A verb the path does not serve is 405 with Allow (as Kubernetes answers), not "no kind is served".
  refuseOtherMethods(app, patterns.collection, ['GET', 'POST']);
  refuseOtherMethods(app, patterns.item, ['GET', 'PUT', 'DELETE']);
  if (kind.namespaced) refuseOtherMethods(app, patterns.allNamespaces, ['GET']);

  app.get<{ Params: ScopeParams }>(patterns.item, { schema: { params } }, async (request) => {
    const key = keyOf(request.params);
    const found = await store.get(key);
    if (found === undefined) throw notFound(`${describeKey(key)} not found`);
    return found;
  });

  app.post<{ Params: ScopeParams }>(patterns.collection, { schema: { params }, ...NO_DRY_RUN }, async (request, reply) => {
    const resource = admit(kind, request.body, { namespace: namespaceOf(request.params) });
    const stored = await store.put(resource, '');
    conditions.existenceChanged();
    reply.code(201);
    return conditions.settle(stored);
  });

  app.put<{ Params: ScopeParams }>(patterns.item, { schema: { params }, ...NO_DRY_RUN }, async (request) => {
    const key = keyOf(request.params);
    const resource = admit(kind, request.body, { namespace: key.namespace, name: key.name });
    const current = await store.get(key);
    if (current === undefined) throw notFound(`${describeKey(key)} not found (create it with POST)`);
    // Without a resourceVersion the client replaces whatever is there; pinning the version we read
    // still turns a concurrent delete into a clean 409 instead of a silent re-create.
    const stored = await store.put(resource, resource.metadata.resourceVersion ?? current.metadata.resourceVersion);
    return conditions.settle(stored);
  });

  app.delete<{ Params: ScopeParams; Querystring: { resourceVersion?: string } }>(patterns.item, { schema: { params, querystring: PRECONDITION_QUERY }, ...NO_DRY_RUN }, async (request) => {
    const key = keyOf(request.params);
    const preconditions = deletePreconditions(request.body, request.query.resourceVersion);
    let expected = preconditions.resourceVersion;
    if (preconditions.uid !== undefined) {
      const current = await store.get(key);
      if (current === undefined) throw notFound(`${describeKey(key)} not found`);
      if (current.metadata.uid !== preconditions.uid) throw new ApiError(409, 'Conflict', `${describeKey(key)}: uid ${preconditions.uid} does not match the stored ${current.metadata.uid ?? '(none)'}`);
      // Pinned to the version whose uid was checked: a re-create in between is a 409, not a deleted stranger.
      expected ??= current.metadata.resourceVersion;
    }
    const deleted = await store.delete(key, expected);
    if (deleted === undefined) throw notFound(`${describeKey(key)} not found`);
    conditions.existenceChanged();
    return deleted;
  });
}

/**
 * Query parameters Kubernetes clients send whose effect this API does not have. Ignoring one
 * would do something else than asked: a list's selectors would hand over every item as if it
 * matched (a cleanup loop would delete them all), a write's dryRun would be carried out for real.
 */
const SELECTORS = ['labelSelector', 'fieldSelector'];
const DRY_RUN = ['dryRun'];

function refuseUnsupported(query: object, names: readonly string[], instead: string): void {
  const given = names.filter((s) => s in query);
  if (given.length > 0) throw badRequest(`${given.join(' and ')} ${given.length > 1 ? 'are' : 'is'} not supported: ${instead}`, given.map((s) => ({ field: `query.${s}`, message: 'not supported' })));
}

/** Route option for the writes: refused before the body is parsed, so before anything is stored. */
const NO_DRY_RUN = {
  onRequest: async (request: FastifyRequest): Promise<void> => refuseUnsupported(request.query as object, DRY_RUN, 'without it the write would be carried out for real'),
};

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

function refuseOtherMethods(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const method = WRITE_METHODS.filter((m) => !allowed.includes(m));
  app.route({
    method,
    url,
    // Before the body is parsed: a PATCH's merge-patch content type would otherwise answer 415.
    onRequest: async (request, reply) => {
      void reply.header('allow', allowed.join(', '));
      throw new ApiError(405, 'MethodNotAllowed', `${request.method} is not supported on ${request.url.split('?', 1)[0]}; allowed: ${allowed.join(', ')}`);
    },
    handler: async () => undefined,
  });
}

/** DeleteOptions fields a delete here can honour; `propagationPolicy` and `gracePeriodSeconds` change nothing (no dependents, no grace). */
const DELETE_OPTIONS_FIELDS = ['kind', 'apiVersion', 'preconditions', 'propagationPolicy', 'gracePeriodSeconds'];
const PRECONDITION_FIELDS = ['resourceVersion', 'uid'];

/**
 * The preconditions of a DELETE: `?resourceVersion=` and, as Kubernetes clients send them, a
 * DeleteOptions body's `preconditions`. Ignoring the body would delete what the client meant to
 * protect, so a field that would change the delete's meaning (dryRun, ...) is a 400.
 */
function deletePreconditions(body: unknown, queryVersion: string | undefined): { resourceVersion?: string; uid?: string } {
  const fromQuery = queryVersion === undefined ? {} : { resourceVersion: queryVersion };
  if (body === undefined || body === null) return fromQuery;
  const unknownFields = (value: Record<string, unknown>, known: readonly string[], prefix: string): void => {
    const causes = Object.keys(value).filter((f) => !known.includes(f)).map((f) => ({ field: `${prefix}${f}`, message: `unknown field; known fields: ${known.join(', ')}` }));
    if (causes.length > 0) throw badRequest(`DeleteOptions: ${causes[0]!.field}: ${causes[0]!.message}`, causes);
  };
  if (!isRecord(body)) throw badRequest('a DELETE body must be a DeleteOptions object', [{ field: '', message: 'expected an object' }]);
  unknownFields(body, DELETE_OPTIONS_FIELDS, '');
  const given = body['preconditions'];
  if (given === undefined || given === null) return fromQuery;
  if (!isRecord(given)) throw badRequest('DeleteOptions: preconditions must be an object', [{ field: 'preconditions', message: 'expected an object' }]);
  unknownFields(given, PRECONDITION_FIELDS, 'preconditions.');
  const { resourceVersion, uid } = given;
  for (const [field, value] of Object.entries({ resourceVersion, uid })) {
    if (value !== undefined && typeof value !== 'string') throw badRequest(`DeleteOptions: preconditions.${field} must be a string`, [{ field: `preconditions.${field}`, message: 'expected a string' }]);
  }
  if (resourceVersion !== undefined && queryVersion !== undefined && resourceVersion !== queryVersion) {
    throw badRequest(`the query's resourceVersion ${queryVersion} and the body's ${String(resourceVersion)} disagree`, [{ field: 'preconditions.resourceVersion', message: `must be ${queryVersion} or absent` }]);
  }
  return { ...fromQuery, ...(resourceVersion === undefined ? {} : { resourceVersion: resourceVersion as string }), ...(uid === undefined ? {} : { uid: uid as string }) };
}

/** Where a watch resumes: the SSE reconnect header wins over the query (it is newer). */
export function resumeRevision(request: FastifyRequest<{ Querystring: ListQuery }>): string | undefined {
  const header = request.headers['last-event-id'];
  const lastEventId = Array.isArray(header) ? header[0] : header;
  if (lastEventId !== undefined && lastEventId !== '') return lastEventId;
  const fromQuery = request.query.resourceVersion;
  return fromQuery === undefined || fromQuery === '' ? undefined : fromQuery;
}

/**
 * A request body -> the resource to store: validated by the model, matching the
 * URL's kind, namespace and name, and without client-supplied status (the server owns it).
 */
function admit(kind: KindInfo, body: unknown, target: { namespace: string; name?: string }): Resource {
  const result = validateResource(kind.namespaced ? withDefaultNamespace(body, target.namespace) : body);
  if (!result.ok) {
    const causes = result.errors.map((e) => ({ field: e.path, message: e.message }));
    const first = causes[0];
    throw new ApiError(400, 'Invalid', `${kind.kind} is invalid${first === undefined ? '' : `: ${first.field}: ${first.message}`}`, causes);
  }
  const resource = result.resource;
  if (resource.apiVersion !== kind.apiVersion || resource.kind !== kind.kind) {
    throw badRequest(`the document is a ${resource.apiVersion} ${resource.kind}, but this URL serves ${kind.apiVersion} ${kind.kind}`, [{ field: 'kind', message: `must be ${kind.kind}` }]);
  }
  if (kind.namespaced && resource.metadata.namespace !== target.namespace) {
    throw badRequest(`metadata.namespace ${resource.metadata.namespace} does not match the URL's namespace ${target.namespace}`, [{ field: 'metadata.namespace', message: `must be ${target.namespace}` }]);
  }
  if (target.name !== undefined && resource.metadata.name !== target.name) {
    throw badRequest(`metadata.name ${resource.metadata.name} does not match the URL's name ${target.name}`, [{ field: 'metadata.name', message: `must be ${target.name}` }]);
  }
  const { status: _serverOwned, ...rest } = resource;
  return rest;
}

/** A document without metadata.namespace takes the URL's (as kubectl does). */
function withDefaultNamespace(body: unknown, namespace: string): unknown {
  if (!isRecord(body) || !isRecord(body['metadata']) || body['metadata']['namespace'] !== undefined) return body;
  return { ...body, metadata: { ...body['metadata'], namespace } };
}

