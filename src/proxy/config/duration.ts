/**
 * google.protobuf.Duration as Envoy configs write it: `"1.5s"`, `"0.250s"`, or
 * `{seconds, nanos}`. Parsed to whole milliseconds; a sub-millisecond remainder
 * rounds up so that a non-zero duration never becomes 0, which means "disabled".
 */

export type DurationInput = string | { seconds?: number; nanos?: number };

/** Node timers overflow above 2^31-1 ms (they then fire at once), so longer durations are rejected at load. */
export const MAX_DURATION_MS = 2_147_483_647;

const DURATION_STRING = /^(\d+)(?:\.(\d{1,9}))?s$/;
const MAX_NANOS = 999_999_999;

/** Milliseconds, or the reason `value` is not a valid duration. */
export function parseDuration(value: unknown): number | string {
  let seconds: number;
  let nanos: number;
  if (typeof value === 'string') {
    const match = DURATION_STRING.exec(value);
    if (match === null) {
      if (value.startsWith('-')) return `invalid duration "${value}": must not be negative`;
      return `invalid duration "${value}": expected seconds with an "s" suffix, e.g. "1.5s" or "0.250s"`;
    }
    seconds = Number(match[1]);
    nanos = Number((match[2] ?? '').padEnd(9, '0'));
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const fields = value as Record<string, unknown>;
    const unknown = Object.keys(fields).find((k) => k !== 'seconds' && k !== 'nanos');
    if (unknown !== undefined) return `invalid duration: unknown field "${unknown}" (expected seconds, nanos)`;
    const s = fields['seconds'] ?? 0;
    const n = fields['nanos'] ?? 0;
    if (!Number.isInteger(s) || (s as number) < 0) return 'invalid duration: seconds must be a non-negative integer';
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > MAX_NANOS) {
      return `invalid duration: nanos must be an integer in 0..${MAX_NANOS}`;
    }
    seconds = s as number;
    nanos = n as number;
  } else {
    return `invalid duration ${JSON.stringify(value)}: expected a string like "1.5s" or {seconds, nanos}`;
  }
  const ms = seconds * 1000 + Math.ceil(nanos / 1e6);
  if (ms > MAX_DURATION_MS) return `duration is too long: at most ${MAX_DURATION_MS / 1000}s is supported`;
  return ms;
}

/** Milliseconds of a duration the schema has already validated, or `defaultMs` when absent. */
export function durationMs(value: DurationInput | undefined, defaultMs: number): number {
  if (value === undefined) return defaultMs;
  const ms = parseDuration(value);
  if (typeof ms === 'string') throw new Error(`unvalidated duration reached normalization: ${ms}`);
  return ms;
}
