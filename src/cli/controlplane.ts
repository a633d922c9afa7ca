/**
 * `weft controlplane [--data-dir D] [--xds-port N] [--api-port N] [--store sqlite|etcd] [--etcd-endpoints URLS]`:
 * runs the control plane until SIGTERM/SIGINT, then stops serving and closes the store.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { handleShutdownSignals } from '../lib/signals.js';

export function registerControlPlaneCommand(program: Command): void {
  program
    .command('controlplane')
    .description('run the control plane: resource store, xDS (ADS) server and REST API')
    .option('--data-dir <dir>', 'where the embedded store keeps its data', '.weft/data')
    .option('--xds-port <port>', 'xDS (ADS) gRPC port, plaintext, loopback', port, 15010)
    .option('--api-port <port>', 'REST API port', port, 15080)
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .addOption(new Option('--store <kind>', 'resource store').choices(['sqlite', 'etcd']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'comma-separated etcd client URLs (with --store etcd)', 'http://127.0.0.1:2379')
    .action(async (opts: { dataDir: string; xdsPort: number; apiPort: number; host: string; store: 'sqlite' | 'etcd'; etcdEndpoints: string }) => {
      // Loaded here, not at the top: `weft proxy` shares this entry point and must not load gRPC, fastify, SQLite or pino.
      const { childLogger, rootLogger } = await import('../lib/log.js');
      const log = childLogger('controlplane');
      const { startControlPlane } = await import('../controlplane/server.js');
      const running = await startControlPlane({
        store: opts.store === 'sqlite' ? { kind: 'sqlite', dataDir: resolve(opts.dataDir) } : { kind: 'etcd', endpoints: opts.etcdEndpoints.split(',').map((s) => s.trim()) },
        xdsPort: opts.xdsPort,
        apiPort: opts.apiPort,
        host: opts.host,
        log: rootLogger,
      });
      handleShutdownSignals(log, () => running.close());
    });
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}
