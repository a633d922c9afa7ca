#!/usr/bin/env -S node --max-semi-space-size=1
// The V8 flag: a proxy allocates short-lived objects at a high rate; V8's default lets the young
// generation grow to 3x16 MiB under load. 1 MiB semi-spaces keep a sidecar's RSS ~30 MiB lower at
// a small scavenge cost (measured in docs/benchmarks.md). Spawn the bin itself to get it.
/**
 * The `weft` command. Each subcommand lives in its own file and only parses
 * flags before calling a module; failures print one line and exit non-zero.
 */
import { Command } from 'commander';
import { WEFT_VERSION } from './version.js';

type Register = (program: Command) => void;

/**
 * Each top-level command's module, loaded on demand: `weft proxy` runs every
 * sidecar, and the other commands' modules would cost it ~0.8 MB RSS
 * (docs/benchmarks.md). A run names its command first, so only that module
 * loads; help, `--version` and unknown commands load them all.
 */
const COMMANDS: ReadonlyArray<readonly [names: readonly string[], load: () => Promise<Register>]> = [
  [['proxy'], async () => (await import('./proxy.js')).registerProxyCommand],
  [['controlplane'], async () => (await import('./controlplane.js')).registerControlPlaneCommand],
  [['demo'], async () => (await import('./demo.js')).registerDemoCommand],
  [['apply'], async () => (await import('./apply.js')).registerApplyCommand],
  [['get'], async () => (await import('./get.js')).registerGetCommand],
  [['delete'], async () => (await import('./delete.js')).registerDeleteCommand],
  [['proxies'], async () => (await import('./proxies.js')).registerProxiesCommand],
  [['token'], async () => (await import('./token.js')).registerTokenCommands],
  [['perf'], async () => (await import('./perf.js')).registerPerfCommand],
  [['ca', 'identity'], async () => (await import('./ca.js')).registerCaCommands],
];

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command();
  program.name('weft').description('Weft service mesh: data plane, control plane and management plane in one CLI.').version(WEFT_VERSION, '-v, --version');
  const named = COMMANDS.find(([names]) => names.includes(argv[2] ?? ''));
  for (const [, load] of named === undefined ? COMMANDS : [named]) (await load())(program);
  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`weft ${WEFT_VERSION} (node ${process.version})\n`);
    });
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  process.stderr.write(`weft: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
