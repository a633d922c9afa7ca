/** Resident memory of a process tree: see src/lib/process-usage.ts. */
export { processTreeRssBytes } from '../../src/lib/process-usage.js';
