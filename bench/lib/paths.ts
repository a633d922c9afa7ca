import { fileURLToPath } from 'node:url';

/** The repository root, from the compiled location dist/bench/lib/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
