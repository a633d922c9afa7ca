/** Exit codes of a load test (`weft perf run`, `weft perf profile run`): 0 done, 3 rate not reached, 130 interrupted. */
export const EXIT_RATE_NOT_REACHED = 3;
export const EXIT_INTERRUPTED = 130;

/** The exit code a finished (or interrupted) run reports. */
export function loadRunExitCode(result: { partial: boolean; rateReached: boolean | undefined }): number {
  if (result.partial) return EXIT_INTERRUPTED;
  return result.rateReached === false ? EXIT_RATE_NOT_REACHED : 0;
}
