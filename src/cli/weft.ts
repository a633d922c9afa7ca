#!/usr/bin/env -S node --max-semi-space-size=1
// The V8 flag: a proxy allocates short-lived objects at a high rate; V8's default lets the young
// generation grow to 3x16 MiB under load. 1 MiB semi-spaces keep a sidecar's RSS ~30 MiB lower at
// a small scavenge cost (measured in docs/benchmarks.md). Spawn the bin itself to get it.
/**
 * The `weft` command. Each subcommand lives in its own file and only parses
 * flags before calling a module; failures print one line and exit non-zero.
 */
import { Command } from 'commander';
import { registerApplyCommand } from './apply.js';
import { registerControlPlaneCommand } from './controlplane.js';
import { registerDeleteCommand } from './delete.js';
import { registerDemoCommand } from './demo.js';
import { registerGetCommand } from './get.js';
import { registerPerfCommand } from './perf.js';
import { registerProxiesCommand } from './proxies.js';
import { registerProxyCommand } from './proxy.js';
import { registerTokenCommands } from './token.js';
import { WEFT_VERSION } from './version.js';
import { registerCaCommands } from './ca.js';

const program = new Command();
program.name('weft').description('Weft service mesh: data plane, control plane and management plane in one CLI.').version(WEFT_VERSION, '-v, --version');
registerProxyCommand(program);
registerControlPlaneCommand(program);
registerDemoCommand(program);
registerApplyCommand(program);
registerGetCommand(program);
registerDeleteCommand(program);
registerProxiesCommand(program);
registerTokenCommands(program);
registerPerfCommand(program);
registerCaCommands(program);
program
  .command('version')
  .description('print the version')
  .action(() => {
    process.stdout.write(`weft ${WEFT_VERSION} (node ${process.version})\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`weft: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
