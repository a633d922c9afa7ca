/**
 * Envoy's access log format strings (SubstitutionFormatString), compiled once at
 * config load into a function from an AccessLogEntry to one log line.
 *
 * Command operators: %START_TIME% and %START_TIME(fmt)%, %REQ(X?Y):Z%,
 * %RESP(X?Y):Z%, %TRAILER(X?Y):Z%, %PROTOCOL%, %RESPONSE_CODE%,
 * %RESPONSE_CODE_DETAILS%, %RESPONSE_FLAGS%, %BYTES_RECEIVED%, %BYTES_SENT%,
 * %DURATION%, %REQUEST_DURATION%, %RESPONSE_DURATION%, %UPSTREAM_HOST%,
 * %UPSTREAM_CLUSTER%, %UPSTREAM_LOCAL_ADDRESS%, %UPSTREAM_TRANSPORT_FAILURE_REASON%,
 * %DOWNSTREAM_REMOTE_ADDRESS[_WITHOUT_PORT]%, %DOWNSTREAM_LOCAL_ADDRESS[_WITHOUT_PORT]%,
 * %ROUTE_NAME%, %CONNECTION_ID%, %HOSTNAME%, %UPSTREAM_REQUEST_ATTEMPT_COUNT%,
 * and %% for a literal '%'.
 *
 * Missing values print '-' in text; in JSON a key whose template is exactly one
 * operator keeps the operator's type (numbers stay numbers) and a missing value
 * is `null`. Text lines get a trailing '\n' when the template has none.
 *
 * %START_TIME(fmt)% specifiers (always UTC): %Y %y %m %d %e %H %M %S %j %s %z %Z
 * %% and %1f..%9f / %f (fraction of the second, %f = 9 digits; Weft's clock has
 * millisecond resolution, later digits are 0). Without a format: ISO 8601 with
 * milliseconds (`2024-05-01T12:00:00.123Z`), Envoy's default.
 */
import { hostname } from 'node:os';
import { ConfigError } from '../../lib/errors.js';
import type { AccessLogConfig } from '../config/types.js';
import type { AccessLogEntry } from './access-log-entry.js';

type Value = string | number | undefined;
type Extractor = (e: AccessLogEntry) => Value;
export type LogFormatter = (e: AccessLogEntry) => string;

/**
 * Weft's default JSON access log: the keys of Envoy's default format, named after
 * the command operators, as Istio's JSON access log does.
 */
export const DEFAULT_JSON_FORMAT: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  route_name: '%ROUTE_NAME%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
};

/** The line formatter for one access log config: its json_format, its text format, or DEFAULT_JSON_FORMAT. */
export function compileAccessLogFormat(config: Pick<AccessLogConfig, 'jsonFormat' | 'textFormat'>, path: string): LogFormatter {
  if (config.textFormat !== undefined) return compileFormat(config.textFormat, `${path}.text_format_source.inline_string`);
  return compileJsonFormat(config.jsonFormat ?? DEFAULT_JSON_FORMAT, `${path}.json_format`);
}

/** Compiles a text format; the result always ends with '\n'. */
export function compileFormat(template: string, path: string): LogFormatter {
  return compileFormatSegments(parseTemplate(template.endsWith('\n') ? template : `${template}\n`, path));
}

/** Compiles Envoy's `json_format` (flat): one JSON object per line. */
export function compileJsonFormat(format: Readonly<Record<string, string>>, path: string): LogFormatter {
  const fields = Object.entries(format).map(([key, template]): LogFormatter => {
    const prefix = `${JSON.stringify(key)}:`;
    const fieldPath = `${path}.${key}`;
    const segments = parseTemplate(template, fieldPath);
    const only = segments.length === 1 ? segments[0]! : undefined;
    if (typeof only === 'function') {
      return (e) => {
        const value = only(e);
        return prefix + (value === undefined ? 'null' : typeof value === 'number' ? String(value) : jsonString(value));
      };
    }
    if (segments.every((s) => typeof s === 'string')) {
      const constant = prefix + JSON.stringify(segments.join(''));
      return () => constant;
    }
    const text = compileFormatSegments(segments);
    return (e) => prefix + jsonString(text(e));
  });
  return (e) => {
    let out = '{';
    for (let i = 0; i < fields.length; i++) out += (i === 0 ? '' : ',') + fields[i]!(e);
    return `${out}}\n`;
  };
}

function compileFormatSegments(segments: ReadonlyArray<string | Extractor>): LogFormatter {
  return (e) => {
    let out = '';
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      out += typeof segment === 'string' ? segment : (segment(e) ?? '-');
    }
    return out;
  };
}

/** Characters JSON.stringify would escape (incl. lone surrogates); most log values have none. */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(value: string): string {
  return NEEDS_JSON_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

// ---------------------------------------------------------------------------
// Parsing

/** Envoy's operator grammar: `%NAME%`, `%NAME(arg)%`, `%NAME(arg):max%`. */
const OPERATOR = /%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::(\d+))?%/y;

function parseTemplate(template: string, path: string): Array<string | Extractor> {
  const segments: Array<string | Extractor> = [];
  let literal = '';
  let i = 0;
  while (i < template.length) {
    const percent = template.indexOf('%', i);
    if (percent === -1) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, percent);
    if (template[percent + 1] === '%') {
      literal += '%';
      i = percent + 2;
      continue;
    }
    OPERATOR.lastIndex = percent;
    const match = OPERATOR.exec(template);
    if (match === null) {
      throw new ConfigError(path, `malformed command operator at offset ${percent} in '${template}' (use %% for a literal '%')`);
    }
    if (literal !== '') segments.push(literal);
    literal = '';
    const maxLength = match[3] === undefined ? undefined : Number(match[3]);
    segments.push(compileOperator(match[1]!, match[2], maxLength, path));
    i = OPERATOR.lastIndex;
  }
  if (literal !== '') segments.push(literal);
  return segments;
}

const nonEmpty = (s: string): string | undefined => (s === '' ? undefined : s);

function withoutPort(address: string): string | undefined {
  if (address === '') return undefined;
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.lastIndexOf(':');
  return colon === -1 ? address : address.slice(0, colon);
}

/** Operators without arguments. */
const SIMPLE_OPERATORS: Readonly<Record<string, Extractor>> = {
  PROTOCOL: (e) => (e.protocol === 'TCP' ? undefined : e.protocol),
  RESPONSE_CODE: (e) => e.responseCode,
  RESPONSE_CODE_DETAILS: (e) => nonEmpty(e.responseCodeDetails),
  RESPONSE_FLAGS: (e) => nonEmpty(e.responseFlags),
  BYTES_RECEIVED: (e) => e.bytesReceived,
  BYTES_SENT: (e) => e.bytesSent,
  DURATION: (e) => Math.trunc(e.durationMs),
  REQUEST_DURATION: (e) => (e.requestDurationMs === undefined ? undefined : Math.trunc(e.requestDurationMs)),
  RESPONSE_DURATION: (e) => (e.responseDurationMs === undefined ? undefined : Math.trunc(e.responseDurationMs)),
  UPSTREAM_HOST: (e) => nonEmpty(e.upstreamHost),
  UPSTREAM_CLUSTER: (e) => nonEmpty(e.upstreamCluster),
  UPSTREAM_LOCAL_ADDRESS: (e) => nonEmpty(e.upstreamLocalAddress),
  UPSTREAM_TRANSPORT_FAILURE_REASON: (e) => nonEmpty(e.upstreamTransportFailureReason),
  DOWNSTREAM_REMOTE_ADDRESS: (e) => nonEmpty(e.remoteAddress),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: (e) => withoutPort(e.remoteAddress),
  DOWNSTREAM_LOCAL_ADDRESS: (e) => nonEmpty(e.localAddress),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: (e) => withoutPort(e.localAddress),
  ROUTE_NAME: (e) => nonEmpty(e.routeName),
  CONNECTION_ID: (e) => e.connectionId,
  UPSTREAM_REQUEST_ATTEMPT_COUNT: (e) => e.attempts,
};

function compileOperator(name: string, arg: string | undefined, maxLength: number | undefined, path: string): Extractor {
  if (name === 'REQ' || name === 'RESP' || name === 'TRAILER') return compileHeaderOperator(name, arg, maxLength, path);
  if (maxLength !== undefined) throw new ConfigError(path, `%${name}% does not take a max length`);
  if (name === 'START_TIME') return arg === undefined ? isoStartTime() : compileStrftime(arg, path);
  if (arg !== undefined) throw new ConfigError(path, `%${name}% takes no argument`);
  if (name === 'HOSTNAME') {
    const host = hostname();
    return () => host;
  }
  if (!Object.hasOwn(SIMPLE_OPERATORS, name)) throw new ConfigError(path, `unknown command operator %${name}%`);
  return SIMPLE_OPERATORS[name]!;
}

/**
 * Request headers the HCM also records as entry fields: reading the field avoids
 * a header scan and covers the pseudo-headers, which HTTP/1.1 has no header for.
 */
const REQUEST_FIELDS: Readonly<Record<string, Extractor>> = {
  ':method': (e) => nonEmpty(e.method),
  ':path': (e) => nonEmpty(e.path),
  ':authority': (e) => nonEmpty(e.authority),
  host: (e) => nonEmpty(e.authority),
  ':scheme': (e) => nonEmpty(e.scheme),
  'user-agent': (e) => nonEmpty(e.userAgent),
  'x-request-id': (e) => nonEmpty(e.requestId),
  'x-forwarded-for': (e) => nonEmpty(e.forwardedFor),
};

const RESPONSE_FIELDS: Readonly<Record<string, Extractor>> = {
  ':status': (e) => (e.responseCode === 0 ? undefined : String(e.responseCode)),
  'x-envoy-upstream-service-time': (e) => (e.upstreamServiceTimeMs === undefined ? undefined : String(Math.trunc(e.upstreamServiceTimeMs))),
};

function headerExtractor(kind: 'REQ' | 'RESP' | 'TRAILER', header: string): Extractor {
  if (kind === 'REQ') return Object.hasOwn(REQUEST_FIELDS, header) ? REQUEST_FIELDS[header]! : (e) => e.requestHeaders?.get(header);
  if (kind === 'RESP') return Object.hasOwn(RESPONSE_FIELDS, header) ? RESPONSE_FIELDS[header]! : (e) => e.responseHeaders?.get(header);
  return (e) => e.responseTrailers?.get(header);
}

function compileHeaderOperator(kind: 'REQ' | 'RESP' | 'TRAILER', arg: string | undefined, maxLength: number | undefined, path: string): Extractor {
  const names = arg?.split('?') ?? [];
  if (names.length < 1 || names.length > 2 || names.some((n) => n === '')) {
    throw new ConfigError(path, `%${kind}(...)% needs a header name, optionally with one alternative: %${kind}(X?Y)%`);
  }
  const main = headerExtractor(kind, names[0]!.toLowerCase());
  const alternative = names[1] === undefined ? undefined : headerExtractor(kind, names[1].toLowerCase());
  const lookup: Extractor = alternative === undefined ? main : (e) => main(e) ?? alternative(e);
  if (maxLength === undefined) return lookup;
  return (e) => {
    const value = lookup(e);
    return typeof value === 'string' && value.length > maxLength ? value.slice(0, maxLength) : value;
  };
}

// ---------------------------------------------------------------------------
// %START_TIME(fmt)%

type TimePart = string | ((d: Date) => string);

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function dayOfYear(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

const TIME_SPECIFIERS: Readonly<Record<string, (d: Date) => string>> = {
  Y: (d) => String(d.getUTCFullYear()),
  y: (d) => pad(d.getUTCFullYear() % 100, 2),
  m: (d) => pad(d.getUTCMonth() + 1, 2),
  d: (d) => pad(d.getUTCDate(), 2),
  e: (d) => String(d.getUTCDate()).padStart(2, ' '),
  H: (d) => pad(d.getUTCHours(), 2),
  M: (d) => pad(d.getUTCMinutes(), 2),
  S: (d) => pad(d.getUTCSeconds(), 2),
  j: (d) => pad(dayOfYear(d), 3),
  s: (d) => String(Math.floor(d.getTime() / 1000)),
  z: () => '+0000',
  Z: () => 'UTC',
};

/** ISO 8601 with milliseconds; the part up to the second is formatted once per second (Date formatting is slow). */
function isoStartTime(): Extractor {
  let cachedSecond = NaN;
  let cachedPrefix = '';
  return (e) => {
    const second = Math.floor(e.startTimeMs / 1000);
    if (second !== cachedSecond) {
      cachedSecond = second;
      cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    return `${cachedPrefix}${pad(Math.floor(e.startTimeMs - second * 1000), 3)}Z`;
  };
}

function fractionOfSecond(digits: number): (d: Date) => string {
  return (d) => pad(d.getUTCMilliseconds(), 3).padEnd(9, '0').slice(0, digits);
}

function compileStrftime(format: string, path: string): Extractor {
  const parts: TimePart[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const spec = format[++i];
    if (spec === '%') {
      literal += '%';
      continue;
    }
    let part: ((d: Date) => string) | undefined;
    if (spec !== undefined && spec >= '1' && spec <= '9' && format[i + 1] === 'f') {
      part = fractionOfSecond(Number(spec));
      i++;
    } else if (spec === 'f') {
      part = fractionOfSecond(9);
    } else if (spec !== undefined && Object.hasOwn(TIME_SPECIFIERS, spec)) {
      part = TIME_SPECIFIERS[spec];
    }
    if (part === undefined) throw new ConfigError(path, `%START_TIME(${format})%: unsupported time specifier '%${spec ?? ''}'`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(part);
  }
  if (literal !== '') parts.push(literal);
  return (e) => {
    const date = new Date(e.startTimeMs);
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(date);
    return out;
  };
}
