/**
 * `weft proxy --config FILE [--concurrency N] [--drain-timeout S]`: runs the data
 * plane from an Envoy v3 bootstrap. Exits 1 with the field path when the
 * bootstrap is invalid; SIGTERM drains and exits 0; SIGHUP reloads.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { rootLogger } from '../lib/log.js';
import { runProxy } from '../proxy/run.js';

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run the proxy from an Envoy v3 bootstrap (YAML or JSON)')
    .requiredOption('-c, --config <file>', 'bootstrap file (Envoy v3 format)')
    .option('--concurrency <n>', 'worker processes sharing the listeners (default: all cores)', positiveInt)
    .option('--drain-timeout <seconds>', 'how long SIGTERM waits for in-flight requests', positiveInt, 15)
    .action(async (opts: { config: string; concurrency?: number; drainTimeout: number }) => {
      await runProxy({
        configPath: resolve(opts.config),
        concurrency: opts.concurrency ?? availableParallelism(),
        drainTimeoutMs: opts.drainTimeout * 1000,
        log: rootLogger.child({ component: 'proxy' }),
      });
    });
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
