/**
 * Request mirroring (Envoy's `request_mirror_policies`): a fire-and-forget copy
 * of the request to another cluster, with `-shadow` appended to the host as
 * Envoy does. The shadow's response is read and dropped; its failures never
 * touch the original request. Requests whose body was too large to keep are
 * not mirrored.
 */
import type { WeftError } from '../../lib/errors.js';
import type { Cluster } from '../upstream/types.js';
import type { HcmContext } from './hcm-context.js';
import { HeaderMap } from './headers.js';
import { UpstreamAttempt, type AttemptOwner, type AttemptRequest } from './upstream-attempt.js';

export function mirrorRequest(context: HcmContext, cluster: Cluster, request: AttemptRequest, body: readonly Buffer[] | undefined): void {
  const hasBody = request.chunked || request.contentLength > 0;
  if (hasBody && body === undefined) return;
  const host = cluster.chooseHost({});
  if (host === undefined) return;
  const headers = new HeaderMap();
  request.headers.forEach((name, value, lower) => headers.add(name, lower === 'host' ? `${value}-shadow` : value));
  cluster.stats.upstream_rq_total.inc();
  const owner = new ShadowOwner(body ?? []);
  new UpstreamAttempt(owner, context, host, { ...request, headers, upgrade: false }, 0).start();
}

class ShadowOwner implements AttemptOwner {
  constructor(private readonly body: readonly Buffer[]) {}

  onAttemptConnected(attempt: UpstreamAttempt): void {
    for (const chunk of this.body) attempt.sendBody(chunk);
    attempt.endBody();
  }

  onAttemptDrained(): void {}

  onAttemptResponseHead(attempt: UpstreamAttempt): boolean {
    attempt.host.onRequestEnd();
    return true;
  }

  onAttemptResponseBody(): boolean {
    return true;
  }

  onAttemptComplete(): void {}

  onAttemptFailed(attempt: UpstreamAttempt, _outcome: unknown, _error: WeftError): void {
    attempt.host.onRequestEnd();
  }
}
