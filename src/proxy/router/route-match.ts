/**
 * A route's `match` block compiled into one predicate: path specifier first
 * (cheapest, most selective), then every header matcher, then every query
 * parameter matcher. Semantics are Envoy's (route_components.proto
 * RouteMatch / HeaderMatcher / QueryParameterMatcher).
 */
import type { HeaderMatcher, QueryParameterMatcher, RouteMatch } from '../config/types.js';
import { headerReader, queryParameterValue } from './request-values.js';
import type { RouteRequest } from './route-table.js';
import { compileRe2, compileStringMatch, regionMatchesIgnoreCase, type StringPredicate } from './string-match.js';

/** `pathEnd` is where the path part of `req.path` ends (first '?' or '#'), computed once per request by the caller. */
export type RouteMatcher = (req: RouteRequest, pathEnd: number) => boolean;
type PathPredicate = (path: string, pathEnd: number) => boolean;
export type RequestPredicate = (req: RouteRequest) => boolean;

/** `configPath` locates the route in the config for error messages, e.g. `virtual_hosts[0].routes[2]`. */
export function compileRouteMatch(match: RouteMatch, configPath: string): RouteMatcher {
  const pathMatches = compilePathMatch(match, `${configPath}.match`);
  const predicates: RequestPredicate[] = [
    ...match.headers.map((h, i) => compileHeaderMatcher(h, `${configPath}.match.headers[${i}]`)),
    ...match.queryParameters.map((q, i) => compileQueryParameterMatcher(q, `${configPath}.match.query_parameters[${i}]`)),
  ];
  if (predicates.length === 0) return (req, pathEnd) => pathMatches(req.path, pathEnd);
  return (req, pathEnd) => {
    if (!pathMatches(req.path, pathEnd)) return false;
    for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(req)) return false;
    return true;
  };
}

function startsWithPrefix(value: string, caseSensitive: boolean): (path: string) => boolean {
  if (caseSensitive) return (path) => path.startsWith(value);
  const lower = value.toLowerCase();
  return (path) => regionMatchesIgnoreCase(path, 0, lower);
}

function compilePathMatch(match: RouteMatch, configPath: string): PathPredicate {
  const spec = match.path;
  switch (spec.kind) {
    case 'prefix': {
      const len = spec.value.length;
      const starts = startsWithPrefix(spec.value, match.caseSensitive);
      return (path, pathEnd) => len <= pathEnd && starts(path);
    }
    case 'path': {
      const len = spec.value.length;
      const starts = startsWithPrefix(spec.value, match.caseSensitive);
      return (path, pathEnd) => pathEnd === len && starts(path);
    }
    case 'path_separated_prefix': {
      // The prefix must end at a segment boundary: end of path or '/' (query and fragment are already cut off).
      const len = spec.value.length;
      const starts = startsWithPrefix(spec.value, match.caseSensitive);
      return (path, pathEnd) => len <= pathEnd && (len === pathEnd || path.charCodeAt(len) === 47) && starts(path);
    }
    case 'regex': {
      // Envoy: the regex must match the whole path once the query string is removed; case_sensitive does not apply.
      const re = compileRe2(spec.regex, { fullMatch: true }, `${configPath}.safe_regex.regex`);
      return (path, pathEnd) => re.test(pathEnd === path.length ? path : path.slice(0, pathEnd));
    }
  }
}

/** absl::SimpleAtoi: optional surrounding whitespace and sign, decimal digits only. */
const INTEGER = /^\s*[+-]?\d+\s*$/;

export function compileHeaderMatcher(matcher: HeaderMatcher, configPath: string): RequestPredicate {
  const read = headerReader(matcher.name);
  // No specifier at all means "present" (Envoy's HeaderData default).
  const isPresenceMatch = matcher.match === undefined && matcher.range === undefined;
  const wantPresent = matcher.present ?? true;
  let test: StringPredicate;
  if (matcher.range !== undefined) {
    const { start, end } = matcher.range;
    test = (value) => {
      if (!INTEGER.test(value)) return false;
      const n = Number(value);
      return n >= start && n < end;
    };
  } else if (matcher.match !== undefined) {
    test = compileStringMatch(matcher.match, `${configPath}.string_match`);
  } else {
    test = () => wantPresent;
  }
  const { invert, treatMissingAsEmpty } = matcher;
  return (req) => {
    const value = read(req);
    if (value === undefined && !treatMissingAsEmpty) {
      // Envoy's HeaderUtility::matchHeaders on a missing header: only a presence
      // matcher can match, and invert flips which presence value does.
      return isPresenceMatch && (invert ? wantPresent : !wantPresent);
    }
    return test(value ?? '') !== invert;
  };
}

function compileQueryParameterMatcher(matcher: QueryParameterMatcher, configPath: string): RequestPredicate {
  const { name } = matcher;
  if (matcher.match === undefined) {
    const wantPresent = matcher.present ?? true;
    return (req) => (queryParameterValue(req.path, name) !== undefined) === wantPresent;
  }
  const test = compileStringMatch(matcher.match, `${configPath}.string_match`);
  return (req) => {
    const value = queryParameterValue(req.path, name);
    return value !== undefined && test(value);
  };
}
