/**
 * Go-style durations as mesh resources write them (`"250ms"`, `"5s"`, `"1m30s"`;
 * units ns, us/µs, ms, s, m, h), the same syntax Kubernetes' `format: duration` accepts.
 * Negative durations mean nothing in a policy and are rejected.
 */

/** Node timers overflow above 2^31-1 ms (they then fire at once), so the proxy rejects longer durations; so do we. */
export const MAX_DURATION_MS = 2_147_483_647;

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const COMPONENT = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds (possibly fractional below 1 ms), or the reason `text` is not a valid duration. */
export function parseDuration(text: string): number | string {
  const expected = `invalid duration ${JSON.stringify(text)}: expected a Go-style duration such as "250ms", "5s" or "1m30s"`;
  if (text === '0') return 0;
  if (text.startsWith('-')) return `invalid duration ${JSON.stringify(text)}: must not be negative`;
  if (text === '') return expected;
  let ms = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < text.length) {
    const match = COMPONENT.exec(text);
    if (match === null) return expected;
    ms += Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number);
  }
  if (ms > MAX_DURATION_MS) return `duration ${JSON.stringify(text)} is too long: at most ${MAX_DURATION_MS / 1000}s is supported`;
  return ms;
}

/** Milliseconds of a duration the schema has already validated. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (typeof ms === 'string') throw new Error(`unvalidated duration reached a consumer: ${ms}`);
  return ms;
}
