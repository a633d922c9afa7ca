/**
 * Client-side TLS for a cluster (its UpstreamTlsContext): each new upstream
 * connection is a TLS connection made with the context's current secure
 * context (a rotated client certificate is used from the next connection on).
 *
 * With a validation context the server's chain must verify against the trusted
 * CAs, and its SANs must satisfy match_typed_subject_alt_names (the SPIFFE ID
 * expected for the destination); host names are not checked otherwise, as in
 * Envoy. A failure is a connect failure of the pool (503, reset reason
 * "connection failure" with the TLS reason) and bumps `cluster.<name>.ssl.*`.
 */
import * as net from 'node:net';
import { nodeTls } from '../tls/node-tls.js';
import type { UpstreamTlsConfig } from '../config/types.js';
import type { SecretStore } from '../tls/secret-store.js';
import { alpnList, tlsFailureStat, watchTlsContext, type TlsContextHandle, type TlsStats } from '../tls/tls-context.js';

/** Marks a socket error as a TLS failure, for the local reply's "transport failure reason". */
export const TLS_FAILURE = Symbol('weft.tlsFailure');
export type TlsFailureError = Error & { [TLS_FAILURE]?: string };

export interface UpstreamTlsConnector {
  connect(address: string, port: number): net.Socket;
  close(): void;
}

export function createTlsConnector(
  config: UpstreamTlsConfig,
  deps: { store: SecretStore; stats: TlsStats; label: string; onError: (message: string) => void },
): UpstreamTlsConnector {
  const context: TlsContextHandle = watchTlsContext(config, deps);
  const { stats } = deps;
  const alpn = alpnList(config.alpnProtocols);
  return {
    connect(address, port) {
      const materials = context.current();
      if (materials === undefined) {
        // Warming: the secrets have not arrived. Fail like a refused connection.
        stats.connection_error.inc();
        const socket = new net.Socket();
        process.nextTick(() => socket.destroy(tlsError('TLS context not ready: waiting for secrets (SDS)', 'secrets not ready')));
        return socket;
      }
      let sanFailed = false;
      const socket = nodeTls().connect({
        host: address,
        port,
        secureContext: materials.secureContext,
        ...(config.sni !== undefined ? { servername: config.sni } : {}),
        ...(alpn !== undefined ? { ALPNProtocols: alpn } : {}),
        rejectUnauthorized: materials.verify,
        checkServerIdentity: (_host, cert) => {
          if (!materials.verify || materials.checkSan(cert)) return undefined;
          sanFailed = true;
          return tlsError(`the server certificate's SANs (${cert.subjectaltname ?? 'none'}) do not match the expected identity`, 'SAN mismatch');
        },
      });
      let handshaken = false;
      socket.once('secureConnect', () => {
        handshaken = true;
        stats.handshake.inc();
      });
      socket.once('error', (err: NodeJS.ErrnoException & TlsFailureError) => {
        // After the handshake, or a TCP-level failure (ECONNREFUSED...): not a TLS failure.
        if (handshaken || (err.syscall !== undefined && !sanFailed)) return;
        if (sanFailed) stats.fail_verify_san.inc();
        else stats[tlsFailureStat(err.code)].inc();
        err[TLS_FAILURE] ??= `TLS error: ${err.code ?? err.message}`;
      });
      return socket;
    },
    close: () => context.close(),
  };
}

function tlsError(message: string, reason: string): TlsFailureError {
  const err: TlsFailureError = new Error(message);
  err[TLS_FAILURE] = `TLS error: ${reason}`;
  return err;
}
