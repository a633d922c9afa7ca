/**
 * The per-request draw for Envoy's fractional percentages (`featureEnabled`:
 * `random % denominator < numerator`). Runtime only; the schema lives in
 * fractional-percent.ts, which the config loader uses.
 */
export interface Fraction {
  readonly numerator: number;
  readonly denominator: number;
}

/** One draw: true for `numerator / denominator` of calls. A numerator >= denominator always hits. */
export function fractionHit(numerator: number, denominator: number, random: () => number): boolean {
  if (numerator === 0) return false;
  return Math.floor(random() * denominator) < numerator;
}
