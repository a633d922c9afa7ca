/**
 * Envoy's StringMatcher and RE2 regexes, compiled once into predicates.
 * Case-insensitive comparisons fold ASCII only (as absl's *IgnoreCase do) and
 * never allocate: patterns are lower-cased at compile time and compared
 * character by character against the input.
 */
import { ConfigError } from '../../lib/errors.js';
import type { StringMatch } from '../config/types.js';

export type StringPredicate = (value: string) => boolean;

function lowerAscii(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code;
}

/** Whether `s` holds `lowerPattern` at `offset`, ignoring ASCII case. `lowerPattern` must be lower-case. */
export function regionMatchesIgnoreCase(s: string, offset: number, lowerPattern: string): boolean {
  if (offset < 0 || offset + lowerPattern.length > s.length) return false;
  for (let i = 0; i < lowerPattern.length; i++) {
    if (lowerAscii(s.charCodeAt(offset + i)) !== lowerPattern.charCodeAt(i)) return false;
  }
  return true;
}

function containsIgnoreCase(s: string, lowerPattern: string): boolean {
  const last = s.length - lowerPattern.length;
  for (let offset = 0; offset <= last; offset++) {
    if (regionMatchesIgnoreCase(s, offset, lowerPattern)) return true;
  }
  return false;
}

/**
 * Compiles RE2 syntax (as written in Envoy config) to a JS RegExp with the `u`
 * flag. Translates the two RE2 spellings JS lacks and configs commonly use:
 * `(?P<name>` named groups and a leading `(?i)`. `fullMatch` anchors the whole
 * pattern (Envoy's safe_regex matches are full matches).
 */
export function compileRe2(regex: string, options: { fullMatch: boolean; global?: boolean }, path: string): RegExp {
  let source = regex.replace(/(?<!\\)\(\?P</g, '(?<');
  let flags = options.global ? 'gu' : 'u';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags += 'i';
  }
  if (options.fullMatch) source = `^(?:${source})$`;
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new ConfigError(path, `invalid regex ${JSON.stringify(regex)}: ${(err as Error).message}`, { cause: err });
  }
}

export function compileStringMatch(match: StringMatch, path: string): StringPredicate {
  if (match.kind === 'regex') {
    const re = compileRe2(match.regex, { fullMatch: true }, `${path}.safe_regex.regex`);
    return (value) => re.test(value);
  }
  const pattern = match.value;
  if (match.ignoreCase) {
    const lower = pattern.toLowerCase();
    switch (match.kind) {
      case 'exact':
        return (value) => value.length === lower.length && regionMatchesIgnoreCase(value, 0, lower);
      case 'prefix':
        return (value) => regionMatchesIgnoreCase(value, 0, lower);
      case 'suffix':
        return (value) => regionMatchesIgnoreCase(value, value.length - lower.length, lower);
      case 'contains':
        return (value) => containsIgnoreCase(value, lower);
    }
  }
  switch (match.kind) {
    case 'exact':
      return (value) => value === pattern;
    case 'prefix':
      return (value) => value.startsWith(pattern);
    case 'suffix':
      return (value) => value.endsWith(pattern);
    case 'contains':
      return (value) => value.includes(pattern);
  }
}
