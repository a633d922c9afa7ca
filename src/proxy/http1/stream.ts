/**
 * One request/response exchange on a downstream connection (Envoy's ActiveStream).
 *
 * Flow: head -> normalize (target form, hop-by-hop, x-forwarded-*, x-request-id)
 * -> route -> HTTP filters (may stop, delay, or reply locally) -> router
 * (direct response, redirect, or a Forwarder to an upstream cluster) -> response
 * written back with its own framing -> access log and stats.
 *
 * The stream is done when both directions are complete, or at the first reset.
 * Request body bytes that arrive before the forwarder exists are held (bounded
 * by the listener's buffer limit; past it the downstream socket pauses).
 */
import { randomUUID } from 'node:crypto';
import { WeftError } from '../../lib/errors.js';
import { Deadline } from '../../lib/timers.js';
import type { ForwardAction } from '../config/types.js';
import { FilterStatus, type FilterCallbacks, type FilterRequest, type HttpFilter } from '../filters/filter.js';
import { AccessLogEntry } from '../observe/access-log-entry.js';
import { redirectLocation } from '../router/redirect.js';
import type { CompiledRoute, RouteRequest } from '../router/route-table.js';
import { Framing, LAST_CHUNK, reasonPhrase, responseHead, stripHopByHop, WireWriter } from './codec.js';
import { statusClassCounter, type DownstreamConnection } from './connection.js';
import { Forwarder, type ResponseSink, type UpstreamResponse } from './forwarder.js';
import { HeaderMap } from './headers.js';
import { authorityHostLabel, peerLabel, SOURCE_WORKLOAD_HEADER, UNKNOWN, type HcmContext } from './hcm-context.js';
import { upstreamFailure } from './local-reply.js';
import type { HttpParseError, MessageHead } from './parser.js';

const NO_FILTERS: HttpFilter[] = [];
const CONTINUE_100 = 'HTTP/1.1 100 Continue\r\n\r\n';
const OVERLOADED: ReadonlyArray<readonly [string, string]> = [['x-envoy-overloaded', 'true']];

/** The stream is itself the request the router matches (no per-request RouteRequest copy). */
export class ActiveStream implements FilterCallbacks, FilterRequest, RouteRequest, ResponseSink {
  readonly method: string;
  readonly scheme = 'http';
  path: string;
  authority: string;
  readonly headers: HeaderMap;
  readonly remoteAddress: string;
  private readonly context: HcmContext;
  private readonly startedAt: number;
  private readonly startedAtEpoch: number;
  private readonly isUpgrade: boolean;
  private route: CompiledRoute | undefined;
  private filters: HttpFilter[] = NO_FILTERS;
  private filterIndex = 0;
  private iteratingFilters = false;
  private continueRequested = false;
  private forwarder: Forwarder | undefined;
  private pendingBody: Buffer[] | undefined;
  private pendingBytes = 0;
  private requestComplete = false;
  private requestCompletedAt = 0;
  private responseStarted = false;
  private responseComplete = false;
  private done = false;
  private responseFraming = Framing.None;
  private responseCode = 0;
  private responseDetails = '';
  private responseFlags = '';
  private extraResponseHeaders: Array<[string, string]> | undefined;
  private bytesReceived = 0;
  private bytesSent = 0;
  private upstreamCluster = '';
  private upstreamHost = '';
  /** The other side's workload: INBOUND, the source the peer sidecar named; otherwise the upstream endpoint's name. */
  private peerWorkload = UNKNOWN;
  private attempts = 0;
  private firstUpstreamByteAt = 0;
  private responseHeaders: HeaderMap | undefined;
  /** The response's bytes; flushed when the response ends or at the end of each upstream read. */
  private readonly out: WireWriter;
  private readonly idleDeadline: Deadline;
  /** The HCM's stream_idle_timeout, or the route's idle_timeout once a route forwards. */
  private idleTimeoutMs: number;
  /** Only when request_timeout is set (off by default): most streams never allocate it. */
  private requestDeadline: Deadline | undefined;

  constructor(
    private readonly connection: DownstreamConnection,
    private readonly head: MessageHead,
  ) {
    const context = connection.context;
    this.context = context;
    this.startedAt = context.now();
    this.startedAtEpoch = Date.now();
    this.method = head.method;
    this.path = head.target;
    this.authority = head.host;
    this.remoteAddress = connection.remoteIp;
    this.headers = HeaderMap.fromRaw(head.rawHeaders);
    this.isUpgrade = head.upgrade && isAllowedUpgrade(this.headers.get('upgrade'), context.config.upgradeTypes);
    this.out = new WireWriter(connection.socket);
    this.idleDeadline = new Deadline(context.wheel, () => this.onStreamIdleTimeout());
    this.idleTimeoutMs = context.config.streamIdleTimeoutMs;
  }

  // --- request side ----------------------------------------------------------

  start(): void {
    const { stats, config } = this.context;
    stats.downstream_rq_total.inc();
    stats.downstream_rq_http1_total.inc();
    stats.downstream_rq_active.inc();
    this.idleDeadline.arm(this.idleTimeoutMs);
    if (config.requestTimeoutMs > 0) {
      this.requestDeadline = new Deadline(this.context.wheel, () => this.onRequestTimeout());
      this.requestDeadline.arm(config.requestTimeoutMs);
    }
    if (!this.head.keepAlive) this.connection.markCloseAfterResponse();
    if (this.method === 'CONNECT') {
      this.connection.markCloseAfterResponse();
      this.sendLocalReply(501, 'CONNECT is not supported', [], 'connect_not_supported');
      return;
    }
    if (!this.normalizeTarget()) return;
    this.prepareRequestHeaders();
    if (this.head.expectContinue) this.connection.socket.write(CONTINUE_100);

    this.route = this.context.routes.match(this);
    if (this.route === undefined) {
      stats.no_route.inc();
      this.fail(new WeftError('WEFT_ERR_NO_ROUTE', 'no route'));
      return;
    }
    if (this.context.filters.length > 0) this.filters = this.context.filters.map((factory) => factory.create(this));
    this.runFilters();
  }

  onRequestBody(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    // The idle deadline was already extended for this read (onDownstreamActivity).
    if (this.done) return;
    if (this.forwarder !== undefined) {
      this.forwarder.onRequestBody(chunk);
      return;
    }
    (this.pendingBody ??= []).push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > this.context.bufferLimitBytes) this.connection.socket.pause();
  }

  onRequestComplete(): void {
    this.requestComplete = true;
    this.requestCompletedAt = this.context.now();
    if (this.done) return;
    this.forwarder?.onRequestComplete();
    this.maybeFinish();
  }

  onRequestError(err: HttpParseError): void {
    if (this.done) return;
    this.forwarder?.cancel();
    this.forwarder = undefined;
    this.connection.markCloseAfterResponse();
    if (this.responseStarted) this.reset('DPE');
    else this.sendLocalReply(err.status, `${reasonPhrase(err.status)}: ${err.code}`, [], err.code);
  }

  onDownstreamActivity(): void {
    if (!this.done) this.idleDeadline.extend(this.idleTimeoutMs);
  }

  onDownstreamReset(): void {
    if (this.done) return;
    this.context.stats.downstream_rq_rx_reset.inc();
    this.addResponseFlag('DC');
    this.forwarder?.cancel();
    this.finish(false);
  }

  onDownstreamDrain(): void {
    this.forwarder?.resumeResponse();
  }

  // --- filter chain ------------------------------------------------------------

  private runFilters(): void {
    this.iteratingFilters = true;
    do {
      this.continueRequested = false;
      while (this.filterIndex < this.filters.length) {
        const status = this.filters[this.filterIndex++]!.decodeHeaders(this, this.requestComplete && this.bytesReceived === 0);
        if (this.done || this.responseStarted) {
          this.iteratingFilters = false;
          return;
        }
        if (status === FilterStatus.StopIteration && !this.continueRequested) {
          this.iteratingFilters = false;
          return;
        }
      }
    } while (this.continueRequested && this.filterIndex < this.filters.length);
    this.iteratingFilters = false;
    this.routeRequestToAction();
  }

  continueDecoding(): void {
    if (this.done || this.responseStarted) return;
    if (this.iteratingFilters) {
      this.continueRequested = true;
      return;
    }
    this.runFilters();
  }

  addResponseFlag(flag: string): void {
    if (this.responseFlags === '') this.responseFlags = flag;
    else if (!this.responseFlags.split(',').includes(flag)) this.responseFlags += `,${flag}`;
  }

  addResponseHeader(name: string, value: string): void {
    (this.extraResponseHeaders ??= []).push([name, value]);
  }

  now(): number {
    return this.context.now();
  }

  // --- router ------------------------------------------------------------------

  private routeRequestToAction(): void {
    const route = this.route!;
    const action = route.action;
    const { stats } = this.context;
    if (action.kind === 'direct') {
      stats.rq_direct_response.inc();
      const body = action.body ?? EMPTY;
      this.sendResponse(action.status, body, action.body === undefined ? [] : [['content-type', 'text/plain']], 'direct_response');
      return;
    }
    if (action.kind === 'redirect') {
      stats.rq_redirect.inc();
      this.sendResponse(action.responseCode, EMPTY, [['location', redirectLocation(action, this, route.rewritePath(this.path))]], 'redirect');
      return;
    }
    this.forward(route, action);
  }

  private forward(route: CompiledRoute, action: ForwardAction): void {
    const picked = route.pickCluster(this, this.context.random());
    const cluster = picked === undefined ? undefined : this.context.clusters.get(picked.cluster);
    if (picked === undefined || cluster === undefined) {
      this.context.stats.no_cluster.inc();
      this.upstreamCluster = picked?.cluster ?? '';
      this.fail(new WeftError('WEFT_ERR_NO_CLUSTER', `cluster ${picked?.cluster ?? '(from header)'} not found`));
      return;
    }
    this.upstreamCluster = cluster.name;
    if (action.idleTimeoutMs !== undefined) {
      // Envoy: the route's idle_timeout replaces the HCM's stream_idle_timeout from here on (0 disables).
      this.idleTimeoutMs = action.idleTimeoutMs;
      this.idleDeadline.arm(this.idleTimeoutMs);
    }
    route.mutateRequestHeaders(this.headers, picked!.weighted);
    if (action.hostRewriteLiteral !== undefined) this.headers.set('host', action.hostRewriteLiteral);
    const upstreamPath = route.rewritePath(this.path);
    const hash = route.computeHash(this);
    this.forwarder = new Forwarder(this, this.context, route, cluster, {
      method: this.method,
      path: upstreamPath,
      headers: this.headers,
      contentLength: this.head.contentLength,
      chunked: this.head.chunked,
      upgrade: this.isUpgrade,
      hash,
      weighted: picked!.weighted,
    });
    this.forwarder.start();
    if (this.pendingBody !== undefined) {
      for (const chunk of this.pendingBody) this.forwarder.onRequestBody(chunk);
      this.pendingBody = undefined;
      if (this.connection.socket.isPaused()) this.connection.socket.resume();
    }
    if (this.requestComplete) this.forwarder.onRequestComplete();
  }

  // --- ResponseSink (the forwarder's side) ------------------------------------

  onUpstreamAttempt(host: string, endpointName: string): void {
    this.attempts++;
    this.upstreamHost = host;
    // A source report's destination workload: the endpoint's name, as the control plane's EDS gives it.
    if (this.context.metrics.reporter === 'source') this.peerWorkload = endpointName === '' ? UNKNOWN : peerLabel(endpointName);
  }

  pauseRequestBody(): void {
    this.connection.socket.pause();
  }

  resumeRequestBody(): void {
    if (!this.done) this.connection.socket.resume();
  }

  onUpstreamHead(response: UpstreamResponse): void {
    if (this.done) return;
    this.firstUpstreamByteAt = this.context.now();
    this.idleDeadline.extend(this.idleTimeoutMs);
    const headers = response.headers;
    stripHopByHop(headers, response.connectionTokens, response.upgrade);
    this.route!.mutateResponseHeaders(headers, this.forwarder?.weighted);
    this.applyCommonResponseHeaders(headers);
    headers.set('x-envoy-upstream-service-time', String(Math.round(this.firstUpstreamByteAt - (this.requestCompletedAt || this.startedAt))));

    const status = response.statusCode;
    const bodyless = this.method === 'HEAD' || status === 204 || status === 304 || status < 200;
    let framing: Framing;
    let connection: 'keep-alive' | 'close' | 'upgrade' | '' = '';
    if (response.upgrade) {
      framing = Framing.None;
      connection = 'upgrade';
    } else if (bodyless) {
      framing = response.contentLength >= 0 && status !== 204 ? Framing.ContentLength : Framing.None;
    } else if (response.contentLength >= 0) {
      framing = Framing.ContentLength;
    } else if (this.head.versionMinor === 1) {
      framing = Framing.Chunked;
    } else {
      framing = Framing.Close;
      this.connection.markCloseAfterResponse();
    }
    if (!response.upgrade) {
      if (this.connection.willClose || !this.head.keepAlive) connection = 'close';
      else if (this.head.versionMinor === 0) connection = 'keep-alive';
    }
    this.responseFraming = bodyless ? Framing.None : framing;
    this.writeHead(status, response.reason, headers, framing, response.contentLength, connection);
    // The tunnel writes to the socket directly from here on.
    if (response.upgrade) this.out.flush();
  }

  onUpstreamBody(chunk: Buffer): boolean {
    if (this.done) return true;
    this.idleDeadline.extend(this.idleTimeoutMs);
    return this.writeBody(chunk);
  }

  /** The end of one upstream read: what it produced leaves in one write. */
  flushResponse(): boolean {
    return this.out.flush();
  }

  onUpstreamComplete(): void {
    if (this.done) return;
    this.endBody();
    this.forwarder = undefined;
    this.maybeFinish();
  }

  onUpstreamFailure(error: WeftError, flag?: string): void {
    if (this.done) return;
    this.forwarder = undefined;
    if (this.responseStarted) {
      this.context.stats.downstream_rq_tx_reset.inc();
      // Envoy's details for a reset mid-response: upstream_reset_after_response_started{reason}.
      this.responseDetails = upstreamFailure(error, true).details;
      this.reset(flag ?? 'UR');
      return;
    }
    this.fail(error, flag);
  }

  /** The upstream answered 101: the two sockets become a raw tunnel. */
  onUpgraded(): Buffer {
    const { stats } = this.context;
    stats.downstream_cx_upgrades_total.inc();
    this.responseComplete = true;
    this.requestComplete = true;
    const leftover = this.connection.detachForUpgrade();
    this.finish(false);
    return leftover;
  }

  get downstream(): DownstreamConnection['downstream'] {
    return this.connection.downstream;
  }

  get downstreamSocket(): DownstreamConnection['socket'] {
    return this.connection.socket;
  }

  // --- local replies ------------------------------------------------------------

  sendLocalReply(status: number, body: string, headers: ReadonlyArray<readonly [string, string]>, details: string): void {
    if (this.done) return;
    if (this.responseStarted) {
      this.reset('');
      return;
    }
    const bytes = body === '' ? EMPTY : Buffer.from(body);
    this.sendResponse(status, bytes, body === '' ? headers : [['content-type', 'text/plain'], ...headers], details);
  }

  private fail(error: WeftError, flagOverride?: string): void {
    const failure = upstreamFailure(error);
    const flag = flagOverride ?? failure.flag;
    if (flag !== '') this.addResponseFlag(flag);
    // Envoy's router marks requests dropped by circuit breaking (onUpstreamAbort's `dropped`).
    this.sendLocalReply(failure.status, failure.body, error.code === 'WEFT_ERR_UPSTREAM_OVERFLOW' ? OVERLOADED : [], failure.details);
  }

  private sendResponse(status: number, body: Buffer, extra: ReadonlyArray<readonly [string, string]>, details: string): void {
    this.forwarder?.cancel();
    this.forwarder = undefined;
    this.responseDetails = details;
    const headers = new HeaderMap();
    for (const [name, value] of extra) headers.add(name, value);
    this.route?.mutateResponseHeaders(headers);
    this.applyCommonResponseHeaders(headers);
    if (!this.requestComplete) this.connection.markCloseAfterResponse();
    const connection = this.connection.willClose || !this.head.keepAlive ? 'close' : this.head.versionMinor === 0 ? 'keep-alive' : '';
    const bodyless = this.method === 'HEAD' || status === 204 || status === 304;
    this.responseFraming = bodyless ? Framing.None : Framing.ContentLength;
    this.writeHead(status, '', headers, status === 204 ? Framing.None : Framing.ContentLength, body.length, connection);
    if (!bodyless && body.length > 0) this.writeBody(body);
    this.endBody();
    this.maybeFinish();
  }

  private applyCommonResponseHeaders(headers: HeaderMap): void {
    if (this.extraResponseHeaders !== undefined) for (const [name, value] of this.extraResponseHeaders) headers.add(name, value);
    const { serverName, serverHeaderTransformation } = this.context.config;
    if (serverHeaderTransformation === 'OVERWRITE') headers.set('server', serverName);
    else if (serverHeaderTransformation === 'APPEND_IF_ABSENT' && !headers.has('server')) headers.add('server', serverName);
  }

  // --- writing ------------------------------------------------------------------

  private writeHead(status: number, reason: string, headers: HeaderMap, framing: Framing, contentLength: number, connection: 'keep-alive' | 'close' | 'upgrade' | ''): void {
    this.responseStarted = true;
    this.responseCode = status;
    this.responseHeaders = headers;
    const head = responseHead(status, reason, headers, framing, contentLength, connection);
    // %BYTES_SENT% is body bytes, as in Envoy; only an upgrade's response counts its header bytes.
    if (connection === 'upgrade') this.bytesSent += head.length;
    this.out.text(head);
  }

  private writeBody(chunk: Buffer): boolean {
    this.bytesSent += chunk.length;
    switch (this.responseFraming) {
      case Framing.None:
        return true;
      case Framing.Chunked:
        return this.out.chunk(chunk);
      default:
        return this.out.bytes(chunk);
    }
  }

  /** Flushes: the next stream on this connection (or its close) must come after these bytes. */
  private endBody(): void {
    this.responseComplete = true;
    if (this.responseFraming === Framing.Chunked) this.out.text(LAST_CHUNK);
    this.out.flush();
  }

  // --- ends -----------------------------------------------------------------------

  private maybeFinish(): void {
    if (this.done || !this.responseComplete) return;
    if (!this.requestComplete) {
      // Responded before the client finished sending: the rest of its body is never read.
      this.connection.markCloseAfterResponse();
    }
    this.finish(true);
  }

  private reset(flag: string): void {
    if (flag !== '') this.addResponseFlag(flag);
    this.out.discard();
    this.forwarder?.cancel();
    this.forwarder = undefined;
    this.finish(false);
    this.connection.destroy();
  }

  private onStreamIdleTimeout(): void {
    if (this.done) return;
    this.context.stats.downstream_rq_idle_timeout.inc();
    this.connection.markCloseAfterResponse();
    this.addResponseFlag('SI');
    // Envoy's maybeRequestTimeoutCode: 504 once the whole request was received, 408 before.
    if (this.responseStarted) this.reset('');
    else this.sendLocalReply(this.requestComplete ? 504 : 408, 'stream timeout', [], 'stream_idle_timeout');
  }

  private onRequestTimeout(): void {
    if (this.done || this.requestComplete) return;
    this.context.stats.downstream_rq_timeout.inc();
    this.connection.markCloseAfterResponse();
    if (this.responseStarted) this.reset('');
    else this.sendLocalReply(408, 'request timeout', [], 'request_overall_timeout');
  }

  private finish(reusable: boolean): void {
    if (this.done) return;
    this.done = true;
    this.idleDeadline.disarm();
    this.requestDeadline?.disarm();
    for (const filter of this.filters) filter.onDestroy();
    const { stats } = this.context;
    stats.downstream_rq_active.dec();
    if (this.responseCode !== 0) {
      stats[statusClassCounter(this.responseCode)].inc();
      stats.downstream_rq_completed.inc();
    }
    const durationMs = this.context.now() - this.startedAt;
    stats.downstream_rq_time.record(durationMs);
    this.recordRequestMetrics(durationMs);
    if (this.context.accessLoggers.length > 0) this.writeAccessLog(durationMs);
    this.connection.onStreamDone(this, reusable && this.requestComplete);
  }

  private recordRequestMetrics(durationMs: number): void {
    const { metrics } = this.context;
    // An inbound listener's virtual hosts are named after ports; the service is the one the client addressed.
    const service = metrics.reporter === 'destination' ? authorityHostLabel(this.authority) : (this.route?.virtualHost.name ?? UNKNOWN);
    const series = metrics.series(this.peerWorkload, service, this.upstreamCluster || UNKNOWN, this.responseCode, this.responseFlags);
    series.requests.inc();
    series.duration.record(durationMs / 1000);
  }

  private writeAccessLog(durationMs: number): void {
    const entry = new AccessLogEntry();
    entry.startTimeMs = this.startedAtEpoch;
    entry.protocol = this.head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    entry.method = this.method;
    entry.path = this.head.target;
    entry.authority = this.authority;
    entry.userAgent = this.headers.get('user-agent') ?? '';
    entry.requestId = this.headers.get('x-request-id') ?? '';
    entry.forwardedFor = this.headers.get('x-forwarded-for') ?? '';
    entry.remoteAddress = this.connection.remoteAddress;
    entry.localAddress = this.connection.localAddress;
    entry.responseCode = this.responseCode;
    entry.responseCodeDetails = this.responseDetails || (this.responseCode !== 0 ? 'via_upstream' : '');
    entry.responseFlags = this.responseFlags;
    entry.bytesReceived = this.bytesReceived;
    entry.bytesSent = this.bytesSent;
    entry.durationMs = Math.round(durationMs);
    if (this.requestComplete) entry.requestDurationMs = Math.round(this.requestCompletedAt - this.startedAt);
    if (this.firstUpstreamByteAt !== 0) {
      entry.responseDurationMs = Math.round(this.firstUpstreamByteAt - this.startedAt);
      entry.upstreamServiceTimeMs = Math.round(this.firstUpstreamByteAt - (this.requestCompletedAt || this.startedAt));
    }
    entry.upstreamHost = this.upstreamHost;
    entry.upstreamCluster = this.upstreamCluster;
    entry.routeName = this.route?.name ?? '';
    entry.connectionId = this.connection.id;
    entry.attempts = this.attempts;
    entry.requestHeaders = this.headers;
    entry.responseHeaders = this.responseHeaders;
    for (const logger of this.context.accessLoggers) logger.log(entry);
  }

  // --- request normalization ---------------------------------------------------

  /** origin-form stays; absolute-form's authority replaces Host (RFC 9112 3.2.2); asterisk-form is kept for OPTIONS. */
  private normalizeTarget(): boolean {
    const target = this.head.target;
    if (target.charCodeAt(0) === 47 /* / */ || target === '*') return true;
    const schemeEnd = target.indexOf('://');
    const authorityStart = schemeEnd + 3;
    let pathStart = target.indexOf('/', authorityStart);
    const queryStart = target.indexOf('?', authorityStart);
    if (pathStart === -1 || (queryStart !== -1 && queryStart < pathStart)) pathStart = queryStart;
    const authority = target.slice(authorityStart, pathStart === -1 ? undefined : pathStart);
    if (schemeEnd <= 0 || authority === '' || authority.includes('@')) {
      this.connection.markCloseAfterResponse();
      this.sendLocalReply(400, 'Bad Request: invalid absolute-form target', [], 'http1.invalid_url');
      return false;
    }
    this.context.stats.downstream_rq_non_relative_path.inc();
    this.authority = authority;
    this.headers.set('host', authority);
    const rest = pathStart === -1 ? '/' : target.slice(pathStart);
    this.path = rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
    return true;
  }

  private prepareRequestHeaders(): void {
    const { config } = this.context;
    const headers = this.headers;
    stripHopByHop(headers, this.head.connectionTokens, this.isUpgrade);
    if (this.head.expectContinue) headers.remove('expect');
    if (config.useRemoteAddress && !config.skipXffAppend) {
      const xff = headers.getJoined('x-forwarded-for');
      headers.set('x-forwarded-for', xff === undefined ? this.remoteAddress : `${xff}, ${this.remoteAddress}`);
    }
    if (config.useRemoteAddress || !headers.has('x-forwarded-proto')) headers.set('x-forwarded-proto', 'http');
    if (config.generateRequestId && !headers.has('x-request-id')) headers.add('x-request-id', randomUUID());
    const direction = this.context.trafficDirection;
    if (direction === 'OUTBOUND') headers.set(SOURCE_WORKLOAD_HEADER, this.context.metrics.workload);
    else if (direction === 'INBOUND') {
      this.peerWorkload = peerLabel(headers.get(SOURCE_WORKLOAD_HEADER));
      headers.remove(SOURCE_WORKLOAD_HEADER);
    }
  }
}

const EMPTY = Buffer.alloc(0);

function isAllowedUpgrade(value: string | undefined, allowed: readonly string[]): boolean {
  if (value === undefined) return false;
  const type = value.trim().toLowerCase();
  return allowed.includes(type);
}
