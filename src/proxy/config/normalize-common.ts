/**
 * Normalization helpers shared by the route, listener and cluster steps: Envoy
 * oneofs, regexes, string matchers and header mutations. Input is already
 * structurally valid (validator.ts); these add the checks a schema cannot express.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../../lib/errors.js';
import type { HeaderMutations, HeaderValueOption, SocketAddress, StringMatch } from './types.js';
import { fieldPath, indexPath } from './path.js';
import type { RawHeaderMutations, RawHeaderValueOption, RawStringMatcher } from './schema-common.js';

/**
 * The one field of an Envoy oneof that is set. With `required`, none set is an
 * error; otherwise undefined is returned.
 */
/** Envoy's default per-connection buffer limit and its one-hour idle timeouts. */
export const ONE_MIB = 1024 * 1024;
export const ONE_HOUR_MS = 3_600_000;

export function oneOf<T extends object, K extends keyof T & string>(raw: T, keys: readonly K[], path: string, required = true): K | undefined {
  const set = keys.filter((k) => raw[k] !== undefined);
  if (set.length > 1) throw new ConfigError(path, `only one of ${set.join(', ')} may be set`);
  if (set.length === 0 && required) throw new ConfigError(path, `exactly one of ${keys.join(', ')} is required`);
  return set[0];
}

/** A listener's or the admin's address: Envoy resolves no names where it binds, so it must be an IP literal. */
export function bindAddress(socket: { address: string; port_value: number }, path: string): SocketAddress {
  if (isIP(socket.address) === 0) {
    throw new ConfigError(fieldPath(path, 'address'), `must be an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1, ::), got ${JSON.stringify(socket.address)}`);
  }
  return { address: socket.address, port: socket.port_value };
}

/** Checks that an RE2 regex also compiles as a JavaScript `u` regex, the engine Weft matches with. */
export function checkRegex(regex: string, path: string): string {
  try {
    new RegExp(regex, 'u');
  } catch (err) {
    throw new ConfigError(path, `invalid regex ${JSON.stringify(regex)}: ${(err as Error).message}`);
  }
  return regex;
}

const STRING_MATCH_KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const;

export function normalizeStringMatch(raw: RawStringMatcher, path: string): StringMatch {
  const kind = oneOf(raw, STRING_MATCH_KINDS, path)!;
  const ignoreCase = raw.ignore_case ?? false;
  if (kind === 'safe_regex') {
    if (raw.ignore_case !== undefined) throw new ConfigError(fieldPath(path, 'ignore_case'), 'has no effect with safe_regex; use a case-insensitive pattern');
    return { kind: 'regex', regex: checkRegex(raw.safe_regex!.regex, fieldPath(fieldPath(path, 'safe_regex'), 'regex')) };
  }
  return { kind, value: raw[kind]!, ignoreCase };
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_HEADER_VALUE = /[\r\n\0]/;

/** A header name Weft may add or remove: a valid token, not a pseudo-header, not `host` (as Envoy). */
function checkMutableHeaderName(name: string, path: string): void {
  if (name.startsWith(':')) throw new ConfigError(path, `${JSON.stringify(name)} is a pseudo-header, which cannot be added or removed`);
  if (!HEADER_NAME.test(name)) throw new ConfigError(path, `invalid header name ${JSON.stringify(name)}`);
  if (name.toLowerCase() === 'host') throw new ConfigError(path, 'the host header cannot be modified here; use host_rewrite_literal');
}

/**
 * Envoy header values are format strings. Only literal text is supported yet, so
 * `%%` becomes `%` and any `%OPERATOR%` is rejected.
 */
function literalHeaderValue(value: string, path: string): string {
  if (FORBIDDEN_HEADER_VALUE.test(value)) throw new ConfigError(path, 'header values must not contain CR, LF or NUL');
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch !== '%') {
      out += ch;
    } else if (value[i + 1] === '%') {
      out += '%';
      i++;
    } else {
      const operator = /^%[^%\s]*%?/.exec(value.slice(i))![0];
      throw new ConfigError(path, `Envoy substitution ${operator} is not supported yet; only literal values are (write a literal % as %%)`);
    }
  }
  return out;
}

/** Header value options; entries with an empty value are dropped unless `keep_empty_value`, as Envoy does. */
export function normalizeHeaderValueOptions(raw: RawHeaderValueOption[] | undefined, path: string): HeaderValueOption[] {
  const out: HeaderValueOption[] = [];
  (raw ?? []).forEach((option, i) => {
    const at = indexPath(path, i);
    const headerPath = fieldPath(at, 'header');
    checkMutableHeaderName(option.header.key, fieldPath(headerPath, 'key'));
    const value = literalHeaderValue(option.header.value ?? '', fieldPath(headerPath, 'value'));
    if (option.append !== undefined && option.append_action !== undefined) {
      throw new ConfigError(fieldPath(at, 'append'), 'set append_action or the deprecated append, not both');
    }
    if (value === '' && option.keep_empty_value !== true) return;
    const appendAction =
      option.append_action ?? (option.append === false ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD');
    out.push({ key: option.header.key, value, appendAction });
  });
  return out;
}

function normalizeHeadersToRemove(raw: string[] | undefined, path: string): string[] {
  return (raw ?? []).map((name, i) => {
    checkMutableHeaderName(name, indexPath(path, i));
    return name.toLowerCase();
  });
}

export function normalizeHeaderMutations(raw: RawHeaderMutations, path: string): HeaderMutations {
  return {
    requestHeadersToAdd: normalizeHeaderValueOptions(raw.request_headers_to_add, fieldPath(path, 'request_headers_to_add')),
    requestHeadersToRemove: normalizeHeadersToRemove(raw.request_headers_to_remove, fieldPath(path, 'request_headers_to_remove')),
    responseHeadersToAdd: normalizeHeaderValueOptions(raw.response_headers_to_add, fieldPath(path, 'response_headers_to_add')),
    responseHeadersToRemove: normalizeHeadersToRemove(raw.response_headers_to_remove, fieldPath(path, 'response_headers_to_remove')),
  };
}

/** Milliseconds of a duration that must be positive (Envoy's `gt: {}` rule). */
export function positive(ms: number, path: string): number {
  if (ms <= 0) throw new ConfigError(path, 'must be greater than 0s');
  return ms;
}
