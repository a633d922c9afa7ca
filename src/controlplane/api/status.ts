/**
 * Kubernetes-style `Status` bodies for every failed API call, and the one
 * mapping from thrown errors (ours, the store's, fastify's) to them.
 */
import { InvalidResourceKeyError, InvalidRevisionError, RevisionCompactedError } from '../store/errors.js';
import { ConflictError } from '../store/store.js';
import { describeKey } from '../model/resource.js';

export interface StatusCause {
  /** Field path in the submitted document, e.g. `spec.ports[0].port`; '' for the whole request. */
  field: string;
  message: string;
}

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'Invalid'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'BadGateway'
  | 'ServiceUnavailable'
  | 'InternalError';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  status: 'Failure';
  reason: StatusReason;
  message: string;
  code: number;
  details: { causes: StatusCause[] };
}

/** An API failure with its HTTP code; thrown by handlers, rendered by the error handler. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusBody {
    return { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: this.reason, message: this.message, code: this.code, details: { causes: this.causes } };
  }
}

export const badRequest = (message: string, causes: StatusCause[] = []): ApiError => new ApiError(400, 'BadRequest', message, causes);
export const notFound = (message: string): ApiError => new ApiError(404, 'NotFound', message);

/** The shape fastify gives its own errors (body parsing, schema validation). */
interface FastifyLikeError {
  statusCode?: number;
  message: string;
  validation?: Array<{ instancePath: string; message?: string }>;
  validationContext?: string;
}

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ConflictError) {
    if (err.expected === '' && err.actual !== undefined) return new ApiError(409, 'AlreadyExists', `${describeKey(err.key)} already exists`);
    if (err.actual === undefined) return notFound(`${describeKey(err.key)} not found`);
    return new ApiError(409, 'Conflict', err.message);
  }
  if (err instanceof RevisionCompactedError) return new ApiError(410, 'Expired', err.message);
  if (err instanceof InvalidRevisionError) return badRequest(err.message, [{ field: 'resourceVersion', message: 'not a store revision' }]);
  if (err instanceof InvalidResourceKeyError) return badRequest(err.message, [{ field: err.field === 'kind' ? 'kind' : `metadata.${err.field}`, message: err.message }]);
  if (err instanceof Error) {
    const fastifyError = err as FastifyLikeError;
    const code = fastifyError.statusCode;
    if (code !== undefined && code >= 400 && code < 500) {
      // Route schemas cover params and query strings only (bodies go through the model's validator).
      const causes = (fastifyError.validation ?? []).map((v) => ({
        field: `${fastifyError.validationContext ?? ''}${v.instancePath.replace(/\//g, '.')}`,
        message: v.message ?? 'invalid',
      }));
      return new ApiError(code, REASON_BY_CODE[code] ?? 'BadRequest', err.message, causes);
    }
  }
  return new ApiError(500, 'InternalError', err instanceof Error ? err.message : String(err));
}
