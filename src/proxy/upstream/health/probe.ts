/**
 * One health check attempt against one host. A probe reports exactly once:
 * 'success'; 'active-failure' when the host answered wrongly (an HTTP status
 * outside expected_statuses), which marks it unhealthy at once as Envoy does;
 * 'network-failure' for refused, reset, closed or timed out, which counts
 * toward unhealthy_threshold.
 */
import * as net from 'node:net';
import { isTlsSocket } from '../../tls/node-tls.js';

export type ProbeResult = 'success' | 'active-failure' | 'network-failure';

export interface ProbeTarget {
  address: string;
  port: number;
}

/** Opens a probe's connection to a host (plain TCP, or the cluster's TLS transport socket). */
export type ProbeConnect = (address: string, port: number) => net.Socket;

export const plainConnect: ProbeConnect = (address, port) => net.connect({ host: address, port });

/** The event after which a probe's connection carries bytes: the TLS handshake's end for a TLS socket. */
export const readyEvent = (socket: net.Socket): 'secureConnect' | 'connect' => (isTlsSocket(socket) ? 'secureConnect' : 'connect');

/** Starts a probe; the returned function aborts it (no report follows). */
export type Probe = (target: ProbeTarget, timeoutMs: number, report: (result: ProbeResult) => void) => () => void;

/**
 * Shared plumbing: runs `attempt` with a timeout and a once-only report, and
 * returns the abort function. `attempt` gets `finish` and returns its cleanup.
 */
export function runProbe(
  timeoutMs: number,
  report: (result: ProbeResult) => void,
  attempt: (finish: (result: ProbeResult) => void) => () => void,
): () => void {
  let done = false;
  let cleanup: () => void = () => {};
  const finish = (result: ProbeResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    cleanup();
    report(result);
  };
  const timer = setTimeout(() => finish('network-failure'), timeoutMs);
  try {
    cleanup = attempt(finish);
  } catch {
    // E.g. a header value http.request refuses: the check fails, the process lives.
    finish('network-failure');
  }
  return () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    cleanup();
  };
}
