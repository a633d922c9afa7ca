/**
 * Locally generated responses: the one place that turns a failure into an HTTP
 * answer (STYLE.md 11). Bodies are short plain text, like Envoy's.
 */
import { WeftError, type WeftErrorCode } from '../../lib/errors.js';
import { TLS_FAILURE, type TlsFailureError } from '../upstream/tls-connector.js';
import { reasonPhrase } from './codec.js';

/** A complete `connection: close` response for errors found before any stream exists (parse errors, header timeouts). */
export function localReplyBytes(status: number, details: string, serverName: string): string {
  const body = `${reasonPhrase(status)}: ${details}\n`;
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n` +
    `server: ${serverName}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
    `connection: close\r\n\r\n${body}`
  );
}

export interface UpstreamFailure {
  status: number;
  body: string;
  /** %RESPONSE_CODE_DETAILS% */
  details: string;
  /** Envoy response flag. */
  flag: string;
}

/**
 * How each failure answers. Upstream resets carry Envoy's reset reason, from which
 * both the details (`upstream_reset_before_response_started{connection_failure}`)
 * and the body derive; the others have fixed details, and a fixed body or the
 * error's own message.
 */
type FailureKind =
  | { status: number; flag: string; resetReason: string }
  | { status: number; flag: string; details: string; body?: string };

const FAILURES: Record<WeftErrorCode, FailureKind> = {
  WEFT_ERR_CONFIG: { status: 500, details: 'config_error', flag: '' },
  WEFT_ERR_NO_ROUTE: { status: 404, details: 'route_not_found', flag: 'NR', body: '' },
  WEFT_ERR_NO_CLUSTER: { status: 503, details: 'cluster_not_found', flag: 'NC' },
  WEFT_ERR_NO_HEALTHY_UPSTREAM: { status: 503, details: 'no_healthy_upstream', flag: 'UH', body: 'no healthy upstream' },
  WEFT_ERR_UPSTREAM_CONNECT: { status: 503, flag: 'UF', resetReason: 'connection failure' },
  WEFT_ERR_UPSTREAM_RESET: { status: 503, flag: 'UC', resetReason: 'connection termination' },
  WEFT_ERR_UPSTREAM_TIMEOUT: { status: 504, details: 'upstream_response_timeout', flag: 'UT', body: 'upstream request timeout' },
  WEFT_ERR_UPSTREAM_PROTOCOL: { status: 502, flag: 'UPE', resetReason: 'protocol error' },
  WEFT_ERR_UPSTREAM_OVERFLOW: { status: 503, flag: 'UO', resetReason: 'overflow' },
  WEFT_ERR_HTTP_PARSE: { status: 400, details: 'http1.codec_error', flag: 'DPE' },
};

/**
 * Maps an error to the response Envoy would give, with its access-log flag and
 * details; `afterResponseStarted` gives a reset Envoy's `upstream_reset_after_response_started{...}` details.
 */
export function upstreamFailure(error: WeftError, afterResponseStarted = false): UpstreamFailure {
  const entry = FAILURES[error.code];
  if ('resetReason' in entry) {
    const when = afterResponseStarted ? 'after' : 'before';
    // A failed TLS handshake or verification says why, as Envoy's "transport failure reason".
    const transport = (error.cause as TlsFailureError | undefined)?.[TLS_FAILURE];
    const reason = transport === undefined ? entry.resetReason : `${entry.resetReason}, transport failure reason: ${transport}`;
    return {
      status: entry.status,
      flag: entry.flag,
      details: `upstream_reset_${when}_response_started{${reason.replaceAll(' ', '_')}}`,
      body: `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
    };
  }
  return { status: entry.status, flag: entry.flag, details: entry.details, body: entry.body ?? error.message };
}

export { WeftError };
