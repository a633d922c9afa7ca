/**
 * `weft controlplane [--data-dir D] [--xds-port N] [--xds-plaintext-address A] [--api-port N] [--host A] [--store sqlite|etcd] [--etcd-endpoints URLS]`:
 * runs the control plane until SIGTERM/SIGINT, then stops serving and closes the store.
 * The first start prints the admin API token once and writes it to <data-dir>/admin-token.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DATA_DIR } from '../controlplane/api/paths.js';
import { childLogger, rootLogger } from '../lib/log.js';
import { handleShutdownSignals } from '../lib/signals.js';

export function registerControlPlaneCommand(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane: resource store, xDS (ADS) server and REST API')
    .option('--data-dir <dir>', 'where the embedded store keeps its data and the first admin API token (admin-token)', DEFAULT_DATA_DIR)
    .option('--xds-port <port>', 'xDS (ADS) gRPC port, plaintext', port, 15010)
    .option('--xds-plaintext-address <address>', 'address plaintext xDS binds (loopback unless set explicitly)', '127.0.0.1')
    .option('--api-port <port>', 'REST API port', port, 15080)
    .option('--host <address>', 'address the REST API binds', '127.0.0.1')
    .addOption(new Option('--store <kind>', 'resource store').choices(['sqlite', 'etcd']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs (with --store etcd)', 'http://127.0.0.1:2379')
    .action(async (opts: { dataDir: string; xdsPort: number; xdsPlaintextAddress: string; apiPort: number; host: string; store: 'sqlite' | 'etcd'; etcdEndpoints: string }) => {
      const log = childLogger('controlplane');
      // Loaded here, not at the top: `weft proxy` shares this entry point and must not load gRPC, fastify or SQLite.
      const { startControlPlane } = await import('../controlplane/server.js');
      const running = await startControlPlane({
        store: opts.store === 'sqlite' ? { kind: 'sqlite', dataDir: resolve(opts.dataDir) } : { kind: 'etcd', endpoints: opts.etcdEndpoints.split(',').map((s) => s.trim()) },
        xdsPort: opts.xdsPort,
        apiPort: opts.apiPort,
        host: opts.host,
        xdsHost: opts.xdsPlaintextAddress,
        dataDir: resolve(opts.dataDir),
        log: rootLogger,
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

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}
