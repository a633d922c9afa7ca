/**
 * `/openapi.json`: an OpenAPI 3.1 document generated from the kinds' TypeBox
 * schemas, so the reference can never drift from what the API validates.
 * One path set per kind, then the other routes; every failure is a `Status`.
 */
import { documentSchema } from '../model/document.js';
import type { KindInfo } from '../model/kinds.js';
import { CA_PATH, CA_ROTATE_PATH, HEALTH_PATH, IDENTITIES_PATH, OPENAPI_PATH, PROXIES_PATH, routePatterns, TOKENS_PATH, WATCH_ALL_PATH } from './paths.js';
import { TOKEN_ROLES } from './tokens.js';
import { uiOpenApiPaths } from './ui-schemas.js';

const STATUS_SCHEMA = {
  type: 'object',
  required: ['kind', 'status', 'reason', 'message', 'code'],
  properties: {
    kind: { const: 'Status' },
    apiVersion: { const: 'v1' },
    status: { const: 'Failure' },
    reason: { type: 'string' },
    message: { type: 'string' },
    code: { type: 'integer' },
    details: {
      type: 'object',
      properties: { causes: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } } },
    },
  },
};

/** Kubernetes' DeleteOptions, as far as a delete here honours it (resources.ts). */
const DELETE_OPTIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    kind: { const: 'DeleteOptions' },
    apiVersion: { type: 'string' },
    preconditions: { type: 'object', additionalProperties: false, properties: { resourceVersion: { type: 'string' }, uid: { type: 'string' } } },
    propagationPolicy: { type: 'string' },
    gracePeriodSeconds: { type: 'integer' },
  },
};

type Operation = Record<string, unknown>;

const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: unknown): Record<string, { schema: unknown }> => ({ 'application/json': { schema } });
const failure = (description: string): Operation => ({ description, content: jsonContent(ref('Status')) });

const NAMESPACE_PARAM = { name: 'namespace', in: 'path', required: true, schema: { type: 'string' } };
const NAME_PARAM = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const RESOURCE_VERSION_PARAM = { name: 'resourceVersion', in: 'query', required: false, schema: { type: 'string' } };
const WATCH_PARAM = { name: 'watch', in: 'query', required: false, schema: { type: 'boolean' }, description: 'Stream changes as server-sent events instead of listing; resumes after `resourceVersion` or Last-Event-ID.' };

/** fastify's `:param` -> OpenAPI's `{param}`. */
const openApiPath = (pattern: string): string => pattern.replace(/:([A-Za-z]+)/g, '{$1}');

/** TypeBox schemas carry symbol-keyed metadata; a JSON round trip leaves plain JSON Schema. */
const plainJson = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema)) as unknown;

function resourceSchema(kind: KindInfo): unknown {
  const schema = plainJson(documentSchema(kind)) as { properties: Record<string, unknown> };
  return { ...schema, required: ['apiVersion', 'kind', 'metadata', 'spec'], properties: { ...schema.properties, apiVersion: { const: kind.apiVersion }, kind: { const: kind.kind } } };
}

function listSchema(kind: KindInfo): unknown {
  return {
    type: 'object',
    properties: {
      apiVersion: { const: kind.apiVersion },
      kind: { const: `${kind.kind}List` },
      metadata: { type: 'object', properties: { resourceVersion: { type: 'string' } } },
      items: { type: 'array', items: ref(kind.kind) },
    },
  };
}

function kindPaths(kind: KindInfo): Record<string, Record<string, Operation>> {
  const patterns = routePatterns(kind);
  const scope = kind.namespaced ? [NAMESPACE_PARAM] : [];
  const body = { required: true, content: { 'application/json': { schema: ref(kind.kind) }, 'application/yaml': { schema: ref(kind.kind) } } };
  const one = (description: string): Operation => ({ description, content: jsonContent(ref(kind.kind)) });
  const list: Operation = {
    operationId: `list${kind.kind}`,
    parameters: [...scope, WATCH_PARAM, RESOURCE_VERSION_PARAM],
    responses: { 200: { description: `the ${kind.plural}, or a text/event-stream when watching`, content: { ...jsonContent(ref(`${kind.kind}List`)), 'text/event-stream': { schema: { type: 'string' } } } }, 400: failure('bad query') },
  };
  const paths: Record<string, Record<string, Operation>> = {
    [openApiPath(patterns.collection)]: {
      get: list,
      post: {
        operationId: `create${kind.kind}`,
        parameters: scope,
        requestBody: body,
        responses: { 201: one('created'), 400: failure('schema error, with field paths'), 409: failure('already exists'), 413: failure('document over 1 MiB'), 415: failure('not JSON or YAML') },
      },
    },
    [openApiPath(patterns.item)]: {
      get: { operationId: `read${kind.kind}`, parameters: [...scope, NAME_PARAM], responses: { 200: one('the resource'), 404: failure('not found') } },
      put: {
        operationId: `replace${kind.kind}`,
        parameters: [...scope, NAME_PARAM],
        requestBody: body,
        responses: { 200: one('replaced'), 400: failure('schema error, with field paths'), 404: failure('not found'), 409: failure('stale metadata.resourceVersion'), 413: failure('document over 1 MiB'), 415: failure('not JSON or YAML') },
      },
      delete: {
        operationId: `delete${kind.kind}`,
        parameters: [...scope, NAME_PARAM, RESOURCE_VERSION_PARAM],
        requestBody: { required: false, content: jsonContent(DELETE_OPTIONS_SCHEMA) },
        responses: { 200: one('the deleted resource'), 400: failure('a DeleteOptions field that is not supported'), 404: failure('not found'), 409: failure('resourceVersion or uid precondition failed') },
      },
    },
  };
  if (kind.namespaced) paths[openApiPath(patterns.allNamespaces)] = { get: { ...list, operationId: `list${kind.kind}AllNamespaces`, parameters: [WATCH_PARAM, RESOURCE_VERSION_PARAM] } };
  return paths;
}

const TOKEN_ID_PARAM = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const anyJson = (description: string): Operation => ({ description, content: jsonContent({ type: 'object' }) });

/** The routes that are not per kind: watch-all, proxies, tokens, the CA, /healthz and this document. */
function controlPlanePaths(): Record<string, Record<string, Operation>> {
  const forbidden = failure('needs an admin token');
  return {
    [WATCH_ALL_PATH]: { get: { operationId: 'watchAll', description: 'Every kind as server-sent events; resumes after `resourceVersion` or Last-Event-ID.', parameters: [RESOURCE_VERSION_PARAM], responses: { 200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 400: failure('not a resourceVersion'), 410: failure('the revision was compacted') } } },
    [PROXIES_PATH]: { get: { operationId: 'listConnectedProxies', responses: { 200: anyJson('{items}: the connected proxies and their xDS state') } } },
    [TOKENS_PATH]: {
      get: { operationId: 'listTokens', responses: { 200: anyJson('{items}: ids, roles and creation times, never secrets'), 403: forbidden } },
      post: { operationId: 'createToken', requestBody: { required: false, content: jsonContent({ type: 'object', properties: { role: { enum: [...TOKEN_ROLES] } } }) }, responses: { 201: anyJson('the token, shown this once'), 400: failure('unknown role'), 403: forbidden } },
    },
    [`${TOKENS_PATH}/{id}/rotate`]: { post: { operationId: 'rotateToken', parameters: [TOKEN_ID_PARAM], responses: { 200: anyJson('the new token, shown this once'), 403: forbidden, 404: failure('no such token') } } },
    [`${TOKENS_PATH}/{id}`]: { delete: { operationId: 'revokeToken', parameters: [TOKEN_ID_PARAM], responses: { 200: anyJson('{id, revoked}'), 403: forbidden, 404: failure('no such token') } } },
    [CA_PATH]: { get: { operationId: 'readCa', responses: { 200: anyJson('roots, trust bundle, trust domain, counters') } } },
    [CA_ROTATE_PATH]: { post: { operationId: 'rotateCa', requestBody: { required: false, content: jsonContent({ type: 'object', properties: { overlap: { type: 'string', description: 'duration, e.g. 24h' } } }) }, responses: { 200: anyJson('the CA after the rotation started'), 400: failure('bad overlap'), 403: forbidden, 409: failure('a rotation is under way') } } },
    [`${IDENTITIES_PATH}/{namespace}/{workload}`]: {
      get: {
        operationId: 'readIdentity',
        parameters: [NAMESPACE_PARAM, { name: 'workload', in: 'path', required: true, schema: { type: 'string' } }, { name: 'token', in: 'query', required: false, schema: { type: 'boolean' }, description: 'also the registration token (admin only)' }],
        responses: { 200: anyJson('SPIFFE ID, certificate chain and expiry'), 403: forbidden, 404: failure('no such workload') },
      },
    },
    [HEALTH_PATH]: { get: { operationId: 'health', security: [], responses: { 200: anyJson('{status, leader}') } } },
    [OPENAPI_PATH]: { get: { operationId: 'openApi', responses: { 200: anyJson('this document') } } },
  };
}

export function buildOpenApiDocument(kinds: readonly KindInfo[], version: string): unknown {
  const schemas: Record<string, unknown> = { Status: STATUS_SCHEMA };
  let paths: Record<string, Record<string, Operation>> = {};
  for (const kind of kinds) {
    schemas[kind.kind] = resourceSchema(kind);
    schemas[`${kind.kind}List`] = listSchema(kind);
    paths = { ...paths, ...kindPaths(kind) };
  }
  paths = { ...paths, ...uiOpenApiPaths(), ...controlPlanePaths() };
  return {
    openapi: '3.1.0',
    info: { title: 'Weft control plane API', version },
    // Every route but /healthz needs `Authorization: Bearer <token>` (auth.ts); 401 without one.
    security: [{ bearer: [] }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'weft_<id>_<secret>; read-only tokens may not write (403)' } } },
  };
}
