/**
 * Request mirroring (Envoy's `request_mirror_policies`): a fire-and-forget copy
 * of the request to another cluster, with `-shadow` appended to the host name
 * (before any port) as Envoy does. The shadow's response is read and dropped;
 * its failures never touch the original request, and it is abandoned at the
 * route's timeout. Requests whose body was too large to keep are not mirrored,
 * nor are requests past the shadow cluster's max_requests.
 */
import type { WeftError } from '../../lib/errors.js';
import { Deadline } from '../../lib/timers.js';
import type { Cluster } from '../upstream/types.js';
import type { HcmContext } from './hcm-context.js';
import { HeaderMap } from './headers.js';
import { UpstreamAttempt, type AttemptOwner, type AttemptRequest } from './upstream-attempt.js';

export function mirrorRequest(context: HcmContext, cluster: Cluster, request: AttemptRequest, body: readonly Buffer[] | undefined, timeoutMs: number): void {
  const hasBody = request.chunked || request.contentLength > 0;
  if (hasBody && body === undefined) return;
  const host = cluster.chooseHost({});
  if (host === undefined) return;
  // Envoy sends shadows through a router, so the shadow cluster's max_requests bounds them too.
  if (!cluster.resources.tryStartRequest()) {
    cluster.stats.upstream_rq_pending_overflow.inc();
    return;
  }
  const headers = new HeaderMap();
  request.headers.forEach((name, value, lower) => headers.add(name, lower === 'host' ? shadowHost(value) : value));
  cluster.stats.upstream_rq_total.inc();
  const owner = new ShadowOwner(body ?? [], context, cluster, timeoutMs);
  owner.start(new UpstreamAttempt(owner, context, host, { ...request, headers, upgrade: false }, 0));
}

/** Envoy's shadowAppendedHost: `-shadow` goes before the port, `[v6]:port` included. */
function shadowHost(host: string): string {
  const portStart = host.lastIndexOf(':');
  if (portStart < 0 || host.lastIndexOf(']') > portStart) return `${host}-shadow`;
  return `${host.slice(0, portStart)}-shadow${host.slice(portStart)}`;
}

/**
 * Drives one shadow request to its end: complete, failed, or abandoned at the
 * route's timeout (Envoy gives shadows the route's global timeout), so a
 * shadow that never answers cannot hold a connection forever.
 */
class ShadowOwner implements AttemptOwner {
  private attempt: UpstreamAttempt | undefined;
  private readonly deadline: Deadline;

  constructor(
    private readonly body: readonly Buffer[],
    context: HcmContext,
    private readonly cluster: Cluster,
    private readonly timeoutMs: number,
  ) {
    this.deadline = new Deadline(context.wheel, () => this.onTimeout());
  }

  start(attempt: UpstreamAttempt): void {
    this.attempt = attempt;
    this.deadline.arm(this.timeoutMs);
    attempt.start();
  }

  onAttemptConnected(attempt: UpstreamAttempt): void {
    for (const chunk of this.body) attempt.sendBody(chunk);
    attempt.endBody();
  }

  onAttemptDrained(): void {}

  onAttemptReadEnd(): boolean {
    return true;
  }

  onAttemptResponseHead(): boolean {
    return true;
  }

  onAttemptResponseBody(): boolean {
    return true;
  }

  onAttemptComplete(): void {
    this.end();
  }

  onAttemptFailed(_attempt: UpstreamAttempt, _outcome: unknown, _error: WeftError): void {
    this.end();
  }

  private onTimeout(): void {
    if (this.attempt === undefined) return;
    this.cluster.stats.upstream_rq_timeout.inc();
    this.attempt.abort();
    this.end();
  }

  /** Exactly once per shadow request: the host's active request count goes back down. */
  private end(): void {
    const attempt = this.attempt;
    if (attempt === undefined) return;
    this.attempt = undefined;
    this.deadline.disarm();
    attempt.host.onRequestEnd();
    this.cluster.resources.endRequest();
  }
}
