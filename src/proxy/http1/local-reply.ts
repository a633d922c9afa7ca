/**
 * Locally generated responses: the one place that turns a failure into an HTTP
 * answer (STYLE.md 11). Bodies are short plain text, like Envoy's.
 */
import { WeftError, type WeftErrorCode } from '../../lib/errors.js';
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

const FAILURES: Record<WeftErrorCode, Omit<UpstreamFailure, 'body'> & { body?: string }> = {
  WEFT_ERR_CONFIG: { status: 500, details: 'config_error', flag: '' },
  WEFT_ERR_NO_ROUTE: { status: 404, details: 'route_not_found', flag: 'NR', body: '' },
  WEFT_ERR_NO_CLUSTER: { status: 503, details: 'cluster_not_found', flag: 'NC' },
  WEFT_ERR_NO_HEALTHY_UPSTREAM: { status: 503, details: 'no_healthy_upstream', flag: 'UH', body: 'no healthy upstream' },
  WEFT_ERR_UPSTREAM_CONNECT: { status: 503, details: 'upstream_reset_before_response_started{connection_failure}', flag: 'UF' },
  WEFT_ERR_UPSTREAM_RESET: { status: 503, details: 'upstream_reset_before_response_started{connection_termination}', flag: 'UC' },
  WEFT_ERR_UPSTREAM_TIMEOUT: { status: 504, details: 'upstream_response_timeout', flag: 'UT', body: 'upstream request timeout' },
  WEFT_ERR_UPSTREAM_PROTOCOL: { status: 502, details: 'upstream_reset_before_response_started{protocol_error}', flag: 'UPE' },
  WEFT_ERR_UPSTREAM_OVERFLOW: { status: 503, details: 'upstream_reset_before_response_started{overflow}', flag: 'UO' },
  WEFT_ERR_HTTP_PARSE: { status: 400, details: 'http1.codec_error', flag: 'DPE' },
};

/** Maps an error to the response Envoy would give, with its access-log flag and details. */
export function upstreamFailure(error: WeftError): UpstreamFailure {
  const entry = FAILURES[error.code];
  const body = entry.body ?? (error.code === 'WEFT_ERR_UPSTREAM_CONNECT' || error.code === 'WEFT_ERR_UPSTREAM_RESET' || error.code === 'WEFT_ERR_UPSTREAM_OVERFLOW' || error.code === 'WEFT_ERR_UPSTREAM_PROTOCOL'
    ? `upstream connect error or disconnect/reset before headers. reset reason: ${resetReason(error.code)}`
    : error.message);
  return { status: entry.status, body, details: entry.details, flag: entry.flag };
}

function resetReason(code: WeftErrorCode): string {
  switch (code) {
    case 'WEFT_ERR_UPSTREAM_CONNECT':
      return 'connection failure';
    case 'WEFT_ERR_UPSTREAM_OVERFLOW':
      return 'overflow';
    case 'WEFT_ERR_UPSTREAM_PROTOCOL':
      return 'protocol error';
    default:
      return 'connection termination';
  }
}

export { WeftError };
