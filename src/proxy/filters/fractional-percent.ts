/**
 * Envoy's `type.v3.FractionalPercent` and `config.core.v3.RuntimeFractionalPercent`,
 * shared by the built-in filters' config parsers: the schema and the normalized
 * form (the per-request draw is in fraction.ts).
 */
import { type Static } from '@sinclair/typebox';
import { FRACTION_DENOMINATORS } from '../config/schema-route.js';
import { Enum, Obj, Opt, Str, UInt } from '../config/schema-common.js';
import type { Fraction } from './fraction.js';

export const FractionalPercent = Obj({
  numerator: Opt(UInt()),
  denominator: Opt(Enum(Object.keys(FRACTION_DENOMINATORS) as Array<keyof typeof FRACTION_DENOMINATORS>)),
});

/**
 * `runtime_key` is accepted: Weft has no runtime layer, and Envoy uses `default_value`
 * whenever the key has no runtime override, so the behaviour is the same.
 */
export const RuntimeFractionalPercent = Obj({
  default_value: FractionalPercent,
  runtime_key: Opt(Str()),
});

export type RawFractionalPercent = Static<typeof FractionalPercent>;
export type RawRuntimeFractionalPercent = Static<typeof RuntimeFractionalPercent>;

/** Proto3 defaults: an absent message or field is 0 / HUNDRED, i.e. 0%. */
export function toFraction(raw: RawFractionalPercent | undefined): Fraction {
  return {
    numerator: raw?.numerator ?? 0,
    denominator: FRACTION_DENOMINATORS[raw?.denominator ?? 'HUNDRED'],
  };
}
