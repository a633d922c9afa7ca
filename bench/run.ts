/**
 * `npm run bench -- <name> [args...]`: runs bench/<name>.ts.
 * Each benchmark compares weft against a reference measured in the same run.
 */
import type { Benchmark } from './lib/benchmark.js';

/** Loaded on demand so one benchmark's imports cannot break another. */
const benchmarks: Record<string, () => Promise<Benchmark>> = {
  http1: async () => (await import('./http1.js')).benchmark,
  xds: async () => (await import('./xds.js')).benchmark,
  loadgen: async () => (await import('./loadgen.js')).benchmark,
  mtls: async () => (await import('./mtls.js')).benchmark,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  const load = name === undefined ? undefined : benchmarks[name];
  if (!load) {
    console.error(name === undefined ? 'usage: npm run bench -- <name> [args...]' : `unknown benchmark: ${name}`);
    console.error('benchmarks:');
    for (const [known, loadKnown] of Object.entries(benchmarks)) console.error(`  ${known.padEnd(10)} ${(await loadKnown()).description}`);
    return 2;
  }
  return (await load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
