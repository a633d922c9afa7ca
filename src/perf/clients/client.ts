/**
 * The one interface the load engine drives: a connection that carries one
 * request at a time. Implementations: HTTP/1.1 (hand-written, http1.ts),
 * HTTP/2 (node:http2) and gRPC (@grpc/grpc-js).
 *
 * Per `send()`, exactly one of `onResponse` or `onFailure` follows. After a
 * failure, or after `onResponse(_, false)`, the connection is gone and
 * `onClosed` follows; the engine opens a new one.
 */
import type { LoadProtocol, Target } from '../options.js';

export interface ConnectionEvents {
  /** Connected and idle; fires once. */
  onReady(): void;
  /** A whole response arrived. `status` is the HTTP status, or the gRPC status code. `reusable` is false when the server closes the connection. */
  onResponse(status: number, reusable: boolean): void;
  /** The request in flight failed; `kind` is an error class (`ECONNRESET`, `protocol`, ...). */
  onFailure(kind: string): void;
  /** The connection is closed; `connectError` is set when it never connected. */
  onClosed(connectError: string | undefined): void;
}

export interface LoadConnection {
  send(): void;
  /** Closes the connection; no further events. */
  destroy(): void;
}

export interface RequestTemplate {
  target: Target;
  protocol: LoadProtocol;
  method: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | undefined;
}

export type ConnectionFactory = (events: ConnectionEvents) => LoadConnection;

/** A short error class for counting: the system error code when there is one. */
export function errorKind(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return error instanceof Error ? error.name : 'unknown';
}
