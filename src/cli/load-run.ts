/**
 * One load run as `weft perf run` and `weft perf profile run` show it: a live
 * progress bar on a terminal (plain lines otherwise), the human table at the
 * end, and SIGINT ending the run early with a partial result (a second Ctrl-C
 * leaves at once). What happens to the result is the caller's.
 */
import type { LoadOptions } from '../perf/options.js';
import type { LoadProgress, LoadResult } from '../perf/run.js';
import { EXIT_INTERRUPTED } from './perf-exit.js';

export async function runLoadInteractively(options: Partial<LoadOptions> & { url: string }, showProgress: boolean): Promise<LoadResult> {
  const stop = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(EXIT_INTERRUPTED); // a second Ctrl-C: leave now
    interrupted = true;
    process.stderr.write('\nweft perf: stopping, keeping the partial result (Ctrl-C again to quit)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const [{ runLoad }, { formatProgressLine, formatResult, resultWarnings }] = await Promise.all([import('../perf/run.js'), import('../perf/report.js')]);
  const progress = showProgress ? await progressReporter(formatProgressLine) : undefined;
  try {
    const result = await runLoad(options, { signal: stop.signal, ...(progress ? { onProgress: progress.update } : {}) });
    progress?.stop();
    process.stdout.write(formatResult(result));
    // Errors are in the table already; the verdicts are repeated on stderr.
    for (const warning of resultWarnings(result, false)) process.stderr.write(`weft perf: ${warning}\n`);
    return result;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** A live bar (rate and p99) on a terminal; one plain line per second otherwise. */
async function progressReporter(formatProgressLine: (p: LoadProgress) => string): Promise<{ update: (p: LoadProgress) => void; stop: () => void }> {
  if (!process.stderr.isTTY) return { update: (p) => process.stderr.write(`${formatProgressLine(p)}\n`), stop: () => {} };
  const { SingleBar } = await import('cli-progress');
  const bar = new SingleBar({
    stream: process.stderr,
    format: '{bar} {secs}/{total_s}s {phase}| {rps} rps | p99 {p99} ms | {errors} errors',
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update: (p) => {
      const payload = { total_s: (p.totalMs / 1000).toFixed(0), secs: (p.elapsedMs / 1000).toFixed(0), phase: p.phase === 'warmup' ? 'warm-up ' : '', rps: p.rps.toFixed(0), p99: p.p99Ms.toFixed(2), errors: p.errors };
      if (!started) {
        bar.start(p.totalMs, Math.min(p.elapsedMs, p.totalMs), payload);
        started = true;
      } else bar.update(Math.min(p.elapsedMs, p.totalMs), payload);
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
