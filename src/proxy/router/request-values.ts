/**
 * Reading values out of a routed request the way Envoy's matchers and hash
 * policies see them: pseudo-headers, multi-valued headers joined with ',',
 * the path without its query, query parameters and cookies. All readers scan
 * the original strings; they allocate only the value they return (and only
 * when it is not already a substring the caller holds).
 */
import type { HeaderMap } from '../http1/headers.js';
import type { RouteRequest } from './route-table.js';

export type RequestValueReader = (req: RouteRequest) => string | undefined;

/** Index where the path part of `path` ends: the first '?' or '#', else its length. */
export function pathEnd(path: string): number {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
  }
  return path.length;
}

/**
 * All values of header `name` (lower-case) joined with ',' as Envoy's header
 * matchers do, or undefined when absent. No allocation for a single value.
 */
export function joinedHeaderValue(headers: HeaderMap, name: string): string | undefined {
  return headers.getJoined(name, ',');
}

/** A reader for a header matcher / hash policy name; ':authority', ':method', ':path', ':scheme' read the request line. */
export function headerReader(name: string): RequestValueReader {
  switch (name) {
    case ':authority':
      return (req) => req.authority;
    case ':method':
      return (req) => req.method;
    case ':path':
      return (req) => req.path;
    case ':scheme':
      return (req) => req.scheme;
    default:
      return (req) => joinedHeaderValue(req.headers, name);
  }
}

function decodeComponent(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Malformed escapes are compared as written rather than failing the request.
    return raw;
  }
}

/**
 * First value of query parameter `name` in `path` (percent-decoded; '+' is kept
 * as is, like Envoy), '' for a key without '=', undefined when absent.
 */
export function queryParameterValue(path: string, name: string): string | undefined {
  const queryStart = path.indexOf('?');
  if (queryStart === -1) return undefined;
  let end = path.indexOf('#', queryStart);
  if (end === -1) end = path.length;
  let start = queryStart + 1;
  while (start <= end) {
    let pairEnd = path.indexOf('&', start);
    if (pairEnd === -1 || pairEnd > end) pairEnd = end;
    let eq = path.indexOf('=', start);
    if (eq === -1 || eq > pairEnd) eq = pairEnd;
    if (keyEquals(path, start, eq, name)) return eq === pairEnd ? '' : decodeComponent(path.slice(eq + 1, pairEnd));
    start = pairEnd + 1;
  }
  return undefined;
}

function keyEquals(path: string, start: number, end: number, name: string): boolean {
  if (end - start === name.length && path.startsWith(name, start)) return true;
  // An encoded key ("a%5Bb%5D") is rare; decode only then.
  const percent = path.indexOf('%', start);
  return percent !== -1 && percent < end && decodeComponent(path.slice(start, end)) === name;
}

/**
 * Value of cookie `name` from the request's Cookie header(s), surrounding
 * double quotes removed (RFC 6265 4.1.1), or undefined. Mirrors Envoy's
 * `Http::Utility::parseCookieValue`: pairs split on ';', leading spaces skipped,
 * pairs without '=' ignored.
 */
export function cookieValue(headers: HeaderMap, name: string): string | undefined {
  let found: string | undefined;
  headers.forEach((_name, value, lowerName) => {
    if (found !== undefined || lowerName !== 'cookie') return;
    found = cookieFromHeader(value, name);
  });
  return found;
}

function cookieFromHeader(header: string, name: string): string | undefined {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    while (start < end && header.charCodeAt(start) === 32) start++;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && eq - start === name.length && header.startsWith(name, start)) {
      let valueStart = eq + 1;
      let valueEnd = end;
      if (valueEnd - valueStart >= 2 && header.charCodeAt(valueStart) === 34 && header.charCodeAt(valueEnd - 1) === 34) {
        valueStart++;
        valueEnd--;
      }
      return header.slice(valueStart, valueEnd);
    }
    start = end + 1;
  }
  return undefined;
}
