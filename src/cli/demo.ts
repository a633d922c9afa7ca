/**
 * `weft demo` (what `npm start` runs): until the control plane exists, two sample
 * HTTP services and one proxy in front of them from samples/demo/bootstrap.yaml.
 * Prints what runs where; Ctrl-C stops everything cleanly.
 */
import type { Command } from 'commander';
import { runDemo } from '../../samples/demo/run.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the demo: sample services behind a weft proxy')
    .action(async () => {
      await runDemo();
    });
}
