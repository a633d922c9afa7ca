/**
 * The string formats mesh schemas use (`Type.String({ format: 'duration' })`).
 * Each knows how to explain a bad value, for error messages, and what it
 * becomes in a Kubernetes CRD: Kubernetes knows `duration`; the others turn
 * into an equivalent `pattern` or are checked by the control plane only.
 */
import { isIP } from 'node:net';
import { parseDuration } from './duration.js';

export interface StringFormat {
  /** undefined when `value` is valid, else the reason it is not. */
  check(value: string): string | undefined;
  /** Keywords that replace `format` in a CRD's openAPIV3Schema ({} = checked by the control plane only). */
  crd: Readonly<Record<string, unknown>>;
}

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_PATTERN = `^${DNS1123_LABEL}$`;
const DNS1123_SUBDOMAIN_PATTERN = `^${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`;
const DNS1123_LABEL_RE = new RegExp(DNS1123_LABEL_PATTERN);
const DNS1123_SUBDOMAIN_RE = new RegExp(DNS1123_SUBDOMAIN_PATTERN);
// RFC 9110 token characters.
const HTTP_TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const HTTP_TOKEN_RE = new RegExp(HTTP_TOKEN_PATTERN);
// A hostname with an optional leading `*.` wildcard label.
const GATEWAY_HOSTNAME_PATTERN = `^(\\*\\.)?${DNS1123_LABEL}(\\.${DNS1123_LABEL})*$`;
const GATEWAY_HOSTNAME_RE = new RegExp(GATEWAY_HOSTNAME_PATTERN);

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length <= 63 && DNS1123_LABEL_RE.test(value)) return undefined;
  return `${JSON.stringify(value)} is not a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`;
}

export function dns1123SubdomainProblem(value: string): string | undefined {
  if (value.length <= 253 && DNS1123_SUBDOMAIN_RE.test(value)) return undefined;
  return `${JSON.stringify(value)} is not a DNS-1123 subdomain: dot-separated lowercase labels of letters, digits and '-', at most 253 characters`;
}

export const STRING_FORMATS = {
  duration: {
    check: (value) => {
      const ms = parseDuration(value);
      return typeof ms === 'string' ? ms : undefined;
    },
    crd: { format: 'duration' },
  },
  'dns1123-label': {
    check: dns1123LabelProblem,
    crd: { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 },
  },
  'dns1123-subdomain': {
    check: dns1123SubdomainProblem,
    crd: { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 },
  },
  /** A workload address: an IPv4/IPv6 address or a DNS name. */
  host: {
    check: (value) =>
      isIP(value) !== 0 || dns1123SubdomainProblem(value) === undefined
        ? undefined
        : `${JSON.stringify(value)} is neither an IP address nor a DNS name`,
    crd: {},
  },
  'gateway-hostname': {
    check: (value) =>
      value.length <= 253 && GATEWAY_HOSTNAME_RE.test(value)
        ? undefined
        : `${JSON.stringify(value)} is not a hostname (lowercase DNS name, optionally starting with "*.")`,
    crd: { pattern: GATEWAY_HOSTNAME_PATTERN, maxLength: 253 },
  },
  'http-path': {
    check: (value) => (value.startsWith('/') ? undefined : `${JSON.stringify(value)} is not an HTTP path: must start with "/"`),
    crd: { pattern: '^/' },
  },
  'absolute-path': {
    // A file the proxy opens: absolute, so it does not depend on the proxy's working directory.
    check: (value) => (value.startsWith('/') && !value.includes('\0') ? undefined : `${JSON.stringify(value)} is not an absolute file path: must start with "/"`),
    crd: { pattern: '^/' },
  },
  'http-header-name': {
    check: (value) => (HTTP_TOKEN_RE.test(value) ? undefined : `${JSON.stringify(value)} is not a valid HTTP header name`),
    crd: { pattern: HTTP_TOKEN_PATTERN },
  },
  /** A JavaScript regular expression (SMI's pathRegex and header filters). */
  regex: {
    check: (value) => {
      try {
        new RegExp(value);
        return undefined;
      } catch (error) {
        return `invalid regular expression ${JSON.stringify(value)}: ${(error as Error).message}`;
      }
    },
    crd: {},
  },
} as const satisfies Readonly<Record<string, StringFormat>>;

export type StringFormatName = keyof typeof STRING_FORMATS;

export function findStringFormat(name: string): StringFormat | undefined {
  return Object.hasOwn(STRING_FORMATS, name) ? STRING_FORMATS[name as StringFormatName] : undefined;
}
