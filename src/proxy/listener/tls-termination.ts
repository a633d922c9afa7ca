/**
 * Server-side TLS for one filter chain (its DownstreamTlsContext).
 *
 * Accepted sockets are handed to a non-listening tls.Server, which runs the
 * handshake and computes `authorized` for client certificates. The server's
 * secure context is swapped (setSecureContext) when the chain's secrets
 * change: new handshakes use the new certificate, established connections keep
 * theirs. Verification is Weft's, after the handshake, so every refusal is
 * counted with Envoy's `ssl.*` stat and the peer never gets to send a request:
 *  - require_client_certificate and no certificate: fail_verify_no_cert;
 *  - a certificate the trusted CAs do not verify (expired, other CA): fail_verify_error;
 *  - a verified certificate whose SANs miss match_typed_subject_alt_names: fail_verify_san.
 */
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { nodeTls } from '../tls/node-tls.js';
import type { DownstreamTlsConfig } from '../config/types.js';
import type { SecretStore } from '../tls/secret-store.js';
import { alpnList, tlsFailureStat, watchTlsContext, type TlsContextHandle, type TlsMaterials, type TlsStats } from '../tls/tls-context.js';

/** Envoy closes a connection whose handshake has not finished by the listener's transport_socket_connect_timeout; Weft's default. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsTerminator {
  /** Runs the handshake on `socket`; the verified TLS socket goes to the terminator's `onSecure`, or is destroyed (and counted). */
  accept(socket: net.Socket): void;
  /** Warming: false while the chain's secrets have not all arrived. */
  readonly ready: boolean;
  close(): void;
}

export interface TlsTerminatorDeps {
  store: SecretStore;
  stats: TlsStats;
  /** For error messages: the chain's config path. */
  label: string;
  onError: (message: string) => void;
  /** Where verified connections go (the chain's HTTP connection manager or TCP proxy). */
  onSecure: (socket: tls.TLSSocket) => void;
}

class ChainTlsTerminator implements TlsTerminator {
  private readonly context: TlsContextHandle;
  private server: tls.Server | undefined;
  private applied: TlsMaterials | undefined;
  private closed = false;

  constructor(
    private readonly config: DownstreamTlsConfig,
    private readonly deps: TlsTerminatorDeps,
  ) {
    this.context = watchTlsContext(config, deps);
  }

  get ready(): boolean {
    return this.context.current() !== undefined;
  }

  accept(socket: net.Socket): void {
    const materials = this.context.current();
    if (materials === undefined || this.closed) {
      this.deps.stats.connection_error.inc();
      socket.destroy();
      return;
    }
    this.serverFor(materials).emit('connection', socket);
  }

  close(): void {
    this.closed = true;
    this.context.close();
  }

  /** One tls.Server per chain, never listening; its context follows the secrets (new handshakes only). */
  private serverFor(materials: TlsMaterials): tls.Server {
    if (this.server === undefined) {
      const alpn = alpnList(this.config.alpnProtocols);
      const server = nodeTls().createServer({
        ...materials.options,
        requestCert: materials.verify,
        // Verification is decided in onSecure, so each refusal is counted.
        rejectUnauthorized: false,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        ...(alpn !== undefined ? { ALPNProtocols: alpn } : {}),
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => this.onSecure(socket));
      server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
        this.deps.stats[tlsFailureStat(err.code)].inc();
        socket.destroy();
      });
      this.server = server;
    } else if (this.applied !== materials) {
      this.server.setSecureContext(materials.options);
    }
    this.applied = materials;
    return this.server;
  }

  private onSecure(socket: tls.TLSSocket): void {
    const { stats } = this.deps;
    if (this.closed) return refuse(socket, stats.connection_error);
    const materials = this.applied;
    if (materials?.verify === true) {
      const cert = socket.getPeerCertificate();
      const presented = cert !== null && Object.keys(cert).length > 0;
      if (!presented) {
        if (this.config.requireClientCertificate) return refuse(socket, stats.fail_verify_no_cert);
        stats.no_certificate.inc();
      } else if (!socket.authorized) {
        return refuse(socket, stats.fail_verify_error);
      } else if (!materials.checkSan(cert)) {
        return refuse(socket, stats.fail_verify_san);
      }
    }
    stats.handshake.inc();
    this.deps.onSecure(socket);
  }
}

function refuse(socket: tls.TLSSocket, counter: { inc(): void }): void {
  counter.inc();
  socket.destroy();
}

export function createTlsTerminator(config: DownstreamTlsConfig, deps: TlsTerminatorDeps): TlsTerminator {
  return new ChainTlsTerminator(config, deps);
}
