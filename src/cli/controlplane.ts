/**
 * `weft controlplane [--data-dir D] [--xds-port N] [--xds-plaintext-address A] [--xds-tls-port N] [--xds-tls-address A] [--no-xds-tls]
 * [--api-port N] [--host A] [--store sqlite|etcd] [--etcd-endpoints URLS]`:
 * runs the control plane until SIGTERM/SIGINT, then stops serving and closes the store.
 * The first start prints the admin API token once and writes it to <data-dir>/admin-token.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '../controlplane/model/duration.js';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR } from '../controlplane/api/paths.js';
import { handleShutdownSignals } from '../lib/signals.js';
import { listenPort } from './flags.js';

export function registerControlPlaneCommand(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane: resource store, xDS (ADS) server and REST API')
    .option('--data-dir <dir>', 'where the embedded store keeps its data and the first admin API token (admin-token)', DEFAULT_DATA_DIR)
    .option('--xds-port <port>', 'xDS (ADS) gRPC port, plaintext', listenPort, 15010)
    .option('--xds-plaintext-address <address>', 'address plaintext xDS binds (loopback unless set explicitly)', '127.0.0.1')
    .option('--xds-tls-port <port>', 'xDS (ADS) and certificate service over mTLS, for proxies on other hosts', listenPort, 15012)
    .option('--xds-tls-address <address>', 'address the mTLS xDS port binds', '0.0.0.0')
    .option('--no-xds-tls', 'serve no mTLS xDS port')
    .option('--api-port <port>', 'REST API port', listenPort, 15080)
    .option('--host <address>', 'address the REST API binds', '127.0.0.1')
    .addOption(new Option('--store <kind>', 'resource store').choices(['sqlite', 'etcd']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs (with --store etcd)', 'http://127.0.0.1:2379')
    .option('--ca-cert <file>', "an operator's CA certificate (root or intermediate) the mesh CA signs with; default: a generated root kept in the store")
    .option('--ca-key <file>', 'the private key of --ca-cert (PEM)')
    .option('--ca-chain <file>', 'the certificates above --ca-cert, up to the root (PEM bundle)')
    .option('--cert-lifetime <duration>', 'workload certificate lifetime when the Mesh sets none (renewed at half)', '24h')
    .action(async (opts: ControlPlaneFlags) => {
      // Loaded here, not at the top: `weft proxy` shares this entry point and must not load gRPC, fastify, SQLite or pino.
      const { childLogger, rootLogger } = await import('../lib/log.js');
      const log = childLogger('controlplane');
      const { startControlPlane } = await import('../controlplane/server.js');
      const running = await startControlPlane({
        store: opts.store === 'sqlite' ? { kind: 'sqlite', dataDir: resolve(opts.dataDir) } : { kind: 'etcd', endpoints: opts.etcdEndpoints.split(',').map((s) => s.trim()) },
        xdsPort: opts.xdsPort,
        apiPort: opts.apiPort,
        host: opts.host,
        xdsHost: opts.xdsPlaintextAddress,
        ...(opts.xdsTls ? { xdsTls: { port: opts.xdsTlsPort, host: opts.xdsTlsAddress } } : {}),
        dataDir: resolve(opts.dataDir),
        log: rootLogger,
        ca: caOptions(opts),
      });
      if (running.bootstrapAdminToken !== undefined) {
        // Shown once, and only on a terminal: redirected output ends up in log files, and secrets never go there.
        process.stdout.write(process.stdout.isTTY
          ? `\nAdmin API token (shown once; also written to ${running.adminTokenFile}, mode 0600):\n  ${running.bootstrapAdminToken}\n\n`
          : `Admin API token written to ${running.adminTokenFile} (mode 0600)\n`);
      }
      handleShutdownSignals(log, () => running.close());
    });
}

interface ControlPlaneFlags {
  dataDir: string;
  xdsPort: number;
  xdsPlaintextAddress: string;
  xdsTlsPort: number;
  xdsTlsAddress: string;
  /** False with --no-xds-tls. */
  xdsTls: boolean;
  apiPort: number;
  host: string;
  store: 'sqlite' | 'etcd';
  etcdEndpoints: string;
  caCert?: string;
  caKey?: string;
  caChain?: string;
  certLifetime: string;
}

/** The CA flags, files read here (a missing file fails start-up with its name). */
function caOptions(opts: ControlPlaneFlags): { files?: { certificatePem: string; privateKeyPem: string; chainPem: string }; certificateLifetimeMs: number } {
  const lifetime = parseDuration(opts.certLifetime);
  if (typeof lifetime === 'string') throw new InvalidArgumentError(`--cert-lifetime: ${lifetime}`);
  if ((opts.caCert === undefined) !== (opts.caKey === undefined)) throw new InvalidArgumentError('--ca-cert and --ca-key go together');
  if (opts.caCert === undefined || opts.caKey === undefined) {
    if (opts.caChain !== undefined) throw new InvalidArgumentError('--ca-chain needs --ca-cert and --ca-key');
    return { certificateLifetimeMs: lifetime };
  }
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  return {
    files: { certificatePem: read('--ca-cert', opts.caCert), privateKeyPem: read('--ca-key', opts.caKey), chainPem: opts.caChain === undefined ? '' : read('--ca-chain', opts.caChain) },
    certificateLifetimeMs: lifetime,
  };
}
