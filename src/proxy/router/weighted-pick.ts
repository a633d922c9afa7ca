/**
 * Weighted choice, compiled once per config: cumulative weights in an array,
 * then one random draw per pick. Used by weighted_clusters in routes and in
 * tcp_proxy. Items with weight 0 are never picked.
 */

/** Returns a picker taking a random number in [0,1), or undefined when no item has a positive weight. */
export function compileWeightedPick<T>(items: readonly T[], weightOf: (item: T) => number): ((random: number) => T) | undefined {
  const chosen: T[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const item of items) {
    const weight = weightOf(item);
    if (weight <= 0) continue;
    total += weight;
    chosen.push(item);
    cumulative.push(total);
  }
  if (total === 0) return undefined;
  const last = chosen[chosen.length - 1]!;
  return (random) => {
    const point = random * total;
    for (let i = 0; i < cumulative.length; i++) if (point < cumulative[i]!) return chosen[i]!;
    return last; // only reachable with random outside [0,1)
  };
}
