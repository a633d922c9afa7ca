/** CPU time a process has used: see src/lib/process-usage.ts. */
export { cpuSeconds } from '../../src/lib/process-usage.js';
