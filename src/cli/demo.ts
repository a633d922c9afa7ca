/**
 * `weft demo [--port-base N] [--rps N] [--data-dir D] [--static]` (what `npm start`
 * runs): BookInfo on the mesh (control plane, six services each with a sidecar,
 * a gateway, STRICT mTLS, a 50/50 TrafficSplit of reviews, a trickle of requests), or the data plane
 * alone with `--static`. Prints what runs where; Ctrl-C stops everything.
 */
import type { Command } from 'commander';
import { positiveInteger, positiveNumber } from './flags.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo: BookInfo on the mesh, every service with a weft proxy sidecar')
    .option('--port-base <n>', 'every BookInfo demo port is derived from this (default 15000: API on base+80, xDS on base+10)', positiveInteger)
    .option('--rps <n>', 'requests per second sent to productpage', positiveNumber, 2)
    .option('--data-dir <dir>', 'store, logs and sidecar bootstraps (wiped at start)', '.weft/demo')
    .option('--static', 'the data plane alone: two sample services behind one proxy from a static bootstrap', false)
    .action(async (opts: { portBase?: number; rps: number; dataDir: string; static: boolean }) => {
      // Loaded on use: the entry point (shared with `weft proxy`) must stay small.
      const { runDemo } = await import('../../samples/demo/run.js');
      await runDemo({ static: opts.static, dataDir: opts.dataDir, portBase: opts.portBase, requestsPerSecond: opts.rps });
    });
}
