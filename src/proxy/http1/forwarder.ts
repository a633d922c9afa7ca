/**
 * The router's upstream half (Envoy's router filter): sends one request to a
 * cluster, with circuit breaking, retries (policy + budget), per-try and route
 * timeouts, and request mirroring; streams the response back to a ResponseSink.
 *
 * Body handling: while a retry is still possible the request body is kept for
 * replay, up to the listener's buffer limit (per_connection_buffer_limit_bytes,
 * 1 MiB by default, as Envoy uses it); past that, retries are off for this request
 * and the body streams through with backpressure only.
 *
 * Each try is an UpstreamAttempt on a pooled connection (upstream-attempt.ts).
 */
import type { Socket } from 'node:net';
import { WeftError } from '../../lib/errors.js';
import { Deadline } from '../../lib/timers.js';
import type { ForwardAction, WeightedCluster } from '../config/types.js';
import { createRetryState, type RetryState, type UpstreamOutcome } from '../router/retry-state.js';
import type { CompiledRoute } from '../router/route-table.js';
import type { Cluster, Host } from '../upstream/types.js';
import type { HcmContext } from './hcm-context.js';
import { UpstreamAttempt, type AttemptOwner, type AttemptRequest, type UpstreamResponse } from './upstream-attempt.js';
import { isInternalRequest } from './internal-request.js';
import { mirrorRequest } from './mirror.js';

export type { UpstreamResponse } from './upstream-attempt.js';


const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

const RETRY_ON_HEADER = 'x-envoy-retry-on';
const MAX_RETRIES_HEADER = 'x-envoy-max-retries';
const TIMEOUT_HEADER = 'x-envoy-upstream-rq-timeout-ms';
const PER_TRY_TIMEOUT_HEADER = 'x-envoy-upstream-rq-per-try-timeout-ms';

/** A millisecond header value as Envoy accepts it (decimal digits only; 0 disables); else undefined. */
function headerMs(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,10}$/.test(value) ? Number(value) : undefined;
}

export interface ResponseSink {
  /** `endpointName`: the EDS endpoint's hostname when it names one (the mesh puts the workload there), else ''. */
  onUpstreamAttempt(hostLabel: string, endpointName: string): void;
  pauseRequestBody(): void;
  resumeRequestBody(): void;
  onUpstreamHead(response: UpstreamResponse): void;
  /** false = the downstream is backed up; the forwarder pauses until resumeResponse(). */
  onUpstreamBody(chunk: Buffer): boolean;
  onUpstreamComplete(): void;
  /** End of one upstream read: write what it produced; false = the downstream is backed up. */
  flushResponse(): boolean;
  onUpstreamFailure(error: WeftError, flag?: string): void;
  /** The upstream switched protocols: returns bytes the client already sent past the request head. */
  onUpgraded(): Buffer;
  addResponseFlag(flag: string): void;
  readonly downstreamSocket: Socket;
}

/** What the upstream attempts send (path after prefix/regex rewrite), plus what picks the host. */
export interface ForwardRequest extends AttemptRequest {
  hash: number | undefined;
  weighted: WeightedCluster | undefined;
}

export class Forwarder implements AttemptOwner {
  readonly weighted: WeightedCluster | undefined;
  private readonly action: ForwardAction;
  private readonly retry: RetryState;
  private readonly routeDeadline: Deadline;
  /** The route's timeout and per_try_timeout, unless an internal request's x-envoy-upstream-rq-*-timeout-ms overrode them. */
  private timeoutMs: number;
  private perTryTimeoutMs: number;
  /** Created on the first retry only. */
  private backOffDeadline: Deadline | undefined;
  private attempt: UpstreamAttempt | undefined;
  private previousHost: Host | undefined;
  /** Body chunks kept for replay (retries) or until the first attempt has a connection. */
  private body: Buffer[] | undefined = [];
  private bodyBytes = 0;
  private requestComplete = false;
  private requestStarted = false;
  private retryInFlight = false;
  /** Whether the body must outlive the first connection (retries or mirrors may replay it). */
  private readonly keepBody: boolean;
  private responseStarted = false;
  private finished = false;

  constructor(
    private readonly sink: ResponseSink,
    private readonly context: HcmContext,
    route: CompiledRoute,
    private readonly cluster: Cluster,
    readonly request: ForwardRequest,
  ) {
    this.weighted = request.weighted;
    this.action = route.action as ForwardAction;
    this.timeoutMs = this.action.timeoutMs;
    this.perTryTimeoutMs = route.retryPolicy?.perTryTimeoutMs ?? 0;
    const headers = request.headers;
    const retryHeaders = headers.has(RETRY_ON_HEADER) || headers.has(MAX_RETRIES_HEADER);
    const timeoutHeaders = headers.has(TIMEOUT_HEADER) || headers.has(PER_TRY_TIMEOUT_HEADER);
    // Envoy strips these from external requests: an outside client may neither multiply its own load nor hold upstreams longer.
    const trusted = (retryHeaders || timeoutHeaders) && isInternalRequest(headers, context.config, sink.downstreamSocket.remoteAddress);
    this.retry = createRetryState(route.retryPolicy, trusted && retryHeaders ? headers : undefined);
    this.keepBody = (route.retryPolicy?.numRetries ?? 0) > 0 || (trusted && retryHeaders) || this.action.requestMirrorPolicies.length > 0;
    if (retryHeaders) {
      headers.remove(RETRY_ON_HEADER);
      headers.remove(MAX_RETRIES_HEADER);
    }
    if (timeoutHeaders) {
      if (trusted) {
        this.timeoutMs = headerMs(headers.get(TIMEOUT_HEADER)) ?? this.timeoutMs;
        this.perTryTimeoutMs = headerMs(headers.get(PER_TRY_TIMEOUT_HEADER)) ?? this.perTryTimeoutMs;
      }
      // The router consumes them: they never reach the upstream.
      headers.remove(TIMEOUT_HEADER);
      headers.remove(PER_TRY_TIMEOUT_HEADER);
    }
    this.routeDeadline = new Deadline(context.wheel, () => this.onRouteTimeout());
  }

  start(): void {
    if (!this.cluster.resources.tryStartRequest()) {
      this.cluster.stats.upstream_rq_pending_overflow.inc();
      this.finishWithFailure(new WeftError('WEFT_ERR_UPSTREAM_OVERFLOW', `cluster ${this.cluster.name}: max_requests reached`), 'UO');
      return;
    }
    this.requestStarted = true;
    this.startAttempt();
  }

  // --- request body ------------------------------------------------------------

  onRequestBody(chunk: Buffer): void {
    if (this.finished) return;
    const connected = this.attempt?.connected === true;
    if (this.body !== undefined) {
      this.body.push(chunk);
      this.bodyBytes += chunk.length;
      if (this.bodyBytes > this.context.bufferLimitBytes) {
        // Too large to replay: no retries or mirrors for this request. Until a
        // connection takes the kept chunks, stop reading instead of buffering more.
        if (connected) this.body = undefined;
        else this.sink.pauseRequestBody();
      }
    }
    if (connected && !this.attempt!.sendBody(chunk)) this.sink.pauseRequestBody();
  }

  onRequestComplete(): void {
    if (this.finished) return;
    this.requestComplete = true;
    this.routeDeadline.arm(this.timeoutMs);
    if (this.attempt?.connected) this.attempt.endBody();
    this.mirror();
  }

  /** The downstream is gone or the stream ended early: abandon the upstream request. */
  cancel(): void {
    if (this.finished) return;
    this.cluster.stats.upstream_rq_cancelled.inc();
    this.attempt?.abort();
    this.finishAttempt();
    this.finish();
  }

  resumeResponse(): void {
    this.attempt?.resumeResponse();
  }

  // --- AttemptOwner ------------------------------------------------------------------

  onAttemptConnected(attempt: UpstreamAttempt): void {
    if (this.body !== undefined) for (const chunk of this.body) attempt.sendBody(chunk);
    if (!this.keepBody || this.bodyBytes > this.context.bufferLimitBytes) this.body = undefined;
    if (this.requestComplete) attempt.endBody();
    this.sink.resumeRequestBody();
  }

  onAttemptDrained(): void {
    this.sink.resumeRequestBody();
  }

  onAttemptResponseHead(attempt: UpstreamAttempt, response: UpstreamResponse): boolean {
    const status = response.statusCode;
    attempt.host.reportStatus(status);
    this.countStatus(status);
    if (!response.upgrade && this.shouldRetry({ kind: 'response', status })) return false;
    if (this.retryInFlight && status < 500) this.cluster.stats.upstream_rq_retry_success.inc();
    this.responseStarted = true;
    this.sink.onUpstreamHead(response);
    if (response.upgrade) {
      this.finishAttempt();
      this.finish();
      attempt.tunnel(this.sink.downstreamSocket, this.sink.onUpgraded());
    }
    return true;
  }

  onAttemptResponseBody(chunk: Buffer): boolean {
    return this.sink.onUpstreamBody(chunk);
  }

  onAttemptReadEnd(): boolean {
    return this.sink.flushResponse();
  }

  onAttemptComplete(): void {
    this.finishAttempt();
    this.finish();
    this.sink.onUpstreamComplete();
  }

  onAttemptFailed(attempt: UpstreamAttempt, outcome: UpstreamOutcome | undefined, error: WeftError, flag: string): void {
    // A pool overflow (max_pending_requests) is neither retriable nor the host's fault, as in Envoy.
    if (outcome === undefined) {
      this.finishWithFailure(error, flag);
      return;
    }
    if (outcome.kind === 'reset') this.cluster.stats.upstream_rq_rx_reset.inc();
    if (flag === 'UPE') this.cluster.stats.upstream_cx_protocol_error.inc();
    if (outcome.kind === 'timeout') this.cluster.stats.upstream_rq_per_try_timeout.inc();
    if (outcome.kind !== 'connect-failure') attempt.host.reportLocalFailure(outcome.kind === 'timeout' ? 'timeout' : 'reset');
    if (!this.responseStarted) {
      const staleConnection = outcome.kind === 'reset' && attempt.reusedConnection && !attempt.receivedBytes && IDEMPOTENT.has(this.request.method);
      if (staleConnection && this.keepingBodyForRetries() && this.retryStaleConnection()) return;
      if (this.shouldRetry(outcome)) return;
    }
    this.finishWithFailure(error, flag);
  }

  // --- attempts -------------------------------------------------------------------------

  private startAttempt(): void {
    if (this.finished) return;
    const host = this.cluster.chooseHost({ hash: this.request.hash, avoid: this.previousHost });
    if (host === undefined) {
      this.finishWithFailure(new WeftError('WEFT_ERR_NO_HEALTHY_UPSTREAM', `cluster ${this.cluster.name} has no healthy host`), 'UH');
      return;
    }
    this.previousHost = host;
    this.cluster.stats.upstream_rq_total.inc();
    this.sink.onUpstreamAttempt(host.label, host.hostname === host.address ? '' : host.hostname);
    this.attempt = new UpstreamAttempt(this, this.context, host, this.request, this.perTryTimeoutMs);
    this.attempt.start();
  }

  /** Decides on a retry for a failed try; true when one was scheduled. */
  private shouldRetry(outcome: UpstreamOutcome): boolean {
    if (!this.retry.wouldRetry(outcome) || !this.keepingBodyForRetries()) return false;
    const stats = this.cluster.stats;
    // As Envoy's RetryStateImpl::shouldRetry: the retry that led here stops counting against
    // the circuit breaker, then the policy's limit is checked, then the breaker (or budget).
    this.endRetryInFlight();
    const backOffMs = this.retry.nextBackOffMs(this.context.random());
    if (backOffMs === undefined) {
      stats.upstream_rq_retry_limit_exceeded.inc();
      return false;
    }
    if (!this.cluster.resources.tryStartRetry()) {
      stats.upstream_rq_retry_overflow.inc();
      this.sink.addResponseFlag('UO');
      return false;
    }
    stats.upstream_rq_retry.inc();
    this.sink.addResponseFlag('URX');
    this.attempt?.abort();
    this.finishAttempt();
    this.retryInFlight = true;
    this.backOffDeadline ??= new Deadline(this.context.wheel, () => this.startAttempt());
    this.backOffDeadline.arm(Math.max(1, backOffMs));
    return true;
  }

  /** A pooled keep-alive connection the server had already closed: one immediate, free retry. */
  private retryStaleConnection(): boolean {
    const previous = this.attempt;
    this.finishAttempt();
    if (previous === undefined || previous.retriedStale) return false;
    this.startAttempt();
    if (this.attempt !== undefined) this.attempt.retriedStale = true;
    return true;
  }

  /** Whether the request can be sent again: it had no body, or its body is still kept. */
  private keepingBodyForRetries(): boolean {
    return this.body !== undefined || (this.request.contentLength <= 0 && !this.request.chunked);
  }

  private finishAttempt(): void {
    const attempt = this.attempt;
    this.attempt = undefined;
    if (attempt === undefined) return;
    attempt.host.onRequestEnd();
    this.endRetryInFlight();
  }

  private endRetryInFlight(): void {
    if (!this.retryInFlight) return;
    this.retryInFlight = false;
    this.cluster.resources.endRetry();
  }

  private onRouteTimeout(): void {
    if (this.finished) return;
    this.cluster.stats.upstream_rq_timeout.inc();
    const attempt = this.attempt;
    // As Envoy's onResponseTimeout: only a host that never answered is blamed; its status was already counted.
    if (!this.responseStarted) attempt?.host.reportLocalFailure('timeout');
    attempt?.abort();
    this.finishWithFailure(new WeftError('WEFT_ERR_UPSTREAM_TIMEOUT', `upstream request timeout after ${this.timeoutMs} ms`), 'UT');
  }

  /** The flag names the cause even when the response already started (the sink then resets), as Envoy's router does. */
  private finishWithFailure(error: WeftError, flag: string): void {
    this.finishAttempt();
    this.finish();
    this.sink.onUpstreamFailure(error, flag);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.routeDeadline.disarm();
    this.backOffDeadline?.disarm();
    // A request abandoned during back-off still holds its retry slot (max_retries / budget).
    this.endRetryInFlight();
    this.body = undefined;
    if (this.requestStarted) this.cluster.resources.endRequest();
  }

  private countStatus(status: number): void {
    const stats = this.cluster.stats;
    this.cluster.upstreamRqCode(status).inc();
    if (status < 300) stats.upstream_rq_2xx.inc();
    else if (status < 400) stats.upstream_rq_3xx.inc();
    else if (status < 500) stats.upstream_rq_4xx.inc();
    else stats.upstream_rq_5xx.inc();
  }

  private mirror(): void {
    const policies = this.action.requestMirrorPolicies;
    if (policies.length === 0) return;
    for (const policy of policies) {
      if (policy.fraction < 1 && this.context.random() >= policy.fraction) continue;
      const cluster = this.context.clusters.get(policy.cluster);
      if (cluster !== undefined) mirrorRequest(this.context, cluster, this.request, this.body, this.timeoutMs);
    }
  }
}
