/**
 * Weft's error catalogue: stable codes, a message, and `cause` for context.
 * One place maps these to HTTP responses (src/proxy/http1/local-reply.ts).
 */
export type WeftErrorCode =
  | 'WEFT_ERR_CONFIG'
  | 'WEFT_ERR_NO_ROUTE'
  | 'WEFT_ERR_NO_CLUSTER'
  | 'WEFT_ERR_NO_HEALTHY_UPSTREAM'
  | 'WEFT_ERR_UPSTREAM_CONNECT'
  | 'WEFT_ERR_UPSTREAM_RESET'
  | 'WEFT_ERR_UPSTREAM_TIMEOUT'
  | 'WEFT_ERR_UPSTREAM_PROTOCOL'
  | 'WEFT_ERR_UPSTREAM_OVERFLOW'
  | 'WEFT_ERR_HTTP_PARSE';

export class WeftError extends Error {
  constructor(
    readonly code: WeftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WeftError';
  }
}

/** A rejected configuration: `path` is the field's location, e.g. `static_resources.listeners[0].address.socket_address.port_value`. */
export class ConfigError extends WeftError {
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('WEFT_ERR_CONFIG', `${path}: ${reason}`, options);
    this.name = 'ConfigError';
  }
}
