/**
 * Alternating rounds: the machine's load moves under a benchmark, so targets
 * compared with each other are measured in turn, several times, and each one's
 * median run is the one reported (every round stays in the record).
 */

/** The run with the median value of `key` (the upper median for an even count). */
export function median<T>(runs: readonly T[], key: (run: T) => number): T {
  if (runs.length === 0) throw new Error('median of no runs');
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)]!;
}

/**
 * Runs each measurement once per round, in the given order, for `rounds` rounds.
 * Returns every run by measurement name, in round order.
 */
export async function alternate<T>(rounds: number, measurements: ReadonlyArray<readonly [name: string, run: (round: number) => Promise<T>]>): Promise<Map<string, T[]>> {
  const runs = new Map<string, T[]>(measurements.map(([name]) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, run] of measurements) runs.get(name)!.push(await run(round));
  }
  return runs;
}
