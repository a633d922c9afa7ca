/**
 * One access log record: what the HTTP connection manager (or the TCP proxy)
 * knows about a finished request or connection. A plain class with fixed fields,
 * filled once per request and handed to every access logger; formatters read
 * fields, so a record holds no closures.
 */
import type { HeaderMap } from '../http1/headers.js';

export type AccessLogProtocol = 'HTTP/1.1' | 'HTTP/1.0' | 'TCP';

export class AccessLogEntry {
  /** Epoch milliseconds when the first byte of the request (or the connection) arrived. */
  startTimeMs = 0;
  protocol: AccessLogProtocol = 'HTTP/1.1';
  method = '';
  /** The path as received, before any rewrite (`%REQ(:PATH)%`). */
  path = '';
  authority = '';
  /** `scheme` of the request as the proxy saw it (`%REQ(:SCHEME)%`). */
  scheme = 'http';
  /** The values the HCM forwarded in `user-agent`, `x-request-id` and `x-forwarded-for` ('' = absent). */
  userAgent = '';
  requestId = '';
  forwardedFor = '';
  /** "ip:port" ("[v6]:port" for IPv6). */
  remoteAddress = '';
  localAddress = '';
  /** 0 = no response was sent. */
  responseCode = 0;
  responseCodeDetails = '';
  /** Envoy short codes joined with ',' (e.g. 'UF,URX'); '' = none. */
  responseFlags = '';
  bytesReceived = 0;
  bytesSent = 0;
  durationMs = 0;
  /** Start to last request byte. */
  requestDurationMs: number | undefined = undefined;
  /** Start to first upstream response byte. */
  responseDurationMs: number | undefined = undefined;
  /** What the router put in `x-envoy-upstream-service-time`. */
  upstreamServiceTimeMs: number | undefined = undefined;
  /** "ip:port" of the upstream host that served the last attempt; '' = none. */
  upstreamHost = '';
  upstreamCluster = '';
  upstreamLocalAddress = '';
  routeName = '';
  upstreamTransportFailureReason = '';
  connectionId = 0;
  /** Upstream request attempts (1 + retries); 0 = never sent upstream. */
  attempts = 0;
  requestHeaders: HeaderMap | undefined = undefined;
  responseHeaders: HeaderMap | undefined = undefined;
  responseTrailers: HeaderMap | undefined = undefined;
}
