/**
 * The load generator's library API, for the CLI and the control plane's
 * performance profiles: `runLoad(options, { onProgress, signal })` resolves to
 * a LoadResult; `toSmpResult(result, context)` makes it an SMP document;
 * `formatResult` prints it for people. Design notes: docs/performance.md.
 */
export { runLoad, toLoadResult, RATE_TOLERANCE, type LoadResult, type LoadProgress, type RunHooks } from './run.js';
export { toSmpResult, SMP_VERSION, type SmpDocument, type SmpContext } from './smp.js';
export { resolveLoadOptions, parseDuration, parseHeader, LoadOptionError, LOAD_DEFAULTS, LOAD_PROTOCOLS, type LoadOptions, type LoadProtocol } from './options.js';
export { formatResult, resultWarnings } from './report.js';
export { decodeHistogram, mergeEncoded, summarize, type LatencySummaryMs } from './histogram.js';
export { startPerfAgent, type PerfAgent } from './agent.js';
