/**
 * `prefix_rewrite` and `regex_rewrite`, compiled once per route. Both rewrite
 * only the path part; the query string (and fragment) is carried over as is.
 */
import { ConfigError } from '../../lib/errors.js';
import type { RouteMatch } from '../config/types.js';
import { pathEnd } from './request-values.js';
import { compileRe2 } from './string-match.js';

export type PathRewriter = (path: string) => string;

const identity: PathRewriter = (path) => path;

export function compilePathRewrite(
  match: RouteMatch,
  prefixRewrite: string | undefined,
  regexRewrite: { regex: string; substitution: string } | undefined,
  configPath: string,
): PathRewriter {
  if (prefixRewrite !== undefined && regexRewrite !== undefined) {
    throw new ConfigError(`${configPath}.route`, 'prefix_rewrite and regex_rewrite are mutually exclusive');
  }
  if (prefixRewrite !== undefined) return compilePrefixRewrite(match, prefixRewrite);
  if (regexRewrite !== undefined) return compileRegexRewrite(regexRewrite, `${configPath}.route.regex_rewrite`);
  return identity;
}

/**
 * Swaps the matched prefix for `rewrite`. For `path` and `safe_regex` routes
 * the "matched prefix" is the whole path (Envoy's matched_path), so the path
 * is replaced and the query kept. The router only calls this on a path the
 * route matched, so the prefix is known to be there (in any letter case).
 */
function compilePrefixRewrite(match: RouteMatch, rewrite: string): PathRewriter {
  const spec = match.path;
  if (spec.kind === 'prefix' || spec.kind === 'path_separated_prefix') {
    const len = spec.value.length;
    return (path) => rewrite + path.slice(len);
  }
  return (path) => rewrite + path.slice(pathEnd(path));
}

type SubstitutionPart = string | number;

/**
 * RE2::GlobalReplace semantics: every non-overlapping match in the path is
 * replaced; in the substitution `\0`..`\9` are capture groups (`\0` the whole
 * match) and `\\` is a backslash. Anything else after a backslash, or a group
 * the pattern does not have, is rejected as RE2 does.
 */
function compileRegexRewrite(rewrite: { regex: string; substitution: string }, configPath: string): PathRewriter {
  const re = compileRe2(rewrite.regex, { fullMatch: false, global: true }, `${configPath}.pattern.regex`);
  // An alternation with the empty string always matches; its exec length reveals the group count.
  const groupCount = new RegExp(`${re.source}|`, re.flags.replace('g', '')).exec('')!.length - 1;
  const parts = parseSubstitution(rewrite.substitution, groupCount, `${configPath}.substitution`);
  const replacer = (...args: unknown[]): string => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      out += typeof part === 'string' ? part : ((args[part] as string | undefined) ?? '');
    }
    return out;
  };
  return (path) => {
    const end = pathEnd(path);
    const rewritten = path.slice(0, end).replace(re, replacer);
    return end === path.length ? rewritten : rewritten + path.slice(end);
  };
}

function parseSubstitution(substitution: string, groupCount: number, configPath: string): SubstitutionPart[] {
  const parts: SubstitutionPart[] = [];
  let literal = '';
  for (let i = 0; i < substitution.length; i++) {
    const c = substitution[i]!;
    if (c !== '\\') {
      literal += c;
      continue;
    }
    const next = substitution[++i];
    if (next === '\\') {
      literal += '\\';
    } else if (next !== undefined && next >= '0' && next <= '9') {
      const group = next.charCodeAt(0) - 48;
      if (group > groupCount) throw new ConfigError(configPath, `\\${group} refers to a capture group the pattern does not have`);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(group);
    } else {
      throw new ConfigError(configPath, `invalid escape ${JSON.stringify(`\\${next ?? ''}`)}: use \\0-\\9 or \\\\`);
    }
  }
  if (literal !== '') parts.push(literal);
  return parts;
}
