/**
 * Byte-class lookup tables for the HTTP/1.1 parser (RFC 9110 / 9112 / 3986 ABNF),
 * built once at module load so the parser classifies each byte with one load.
 */

const DIGITS = '0123456789';
const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEXDIG = DIGITS + 'ABCDEFabcdef';
/** RFC 3986 unreserved and sub-delims, the characters of a reg-name besides pct-encoding. */
const UNRESERVED = ALPHA + DIGITS + '-._~';
const SUB_DELIMS = "!$&'()*+,;=";

function table(members: string, ranges: ReadonlyArray<readonly [number, number]> = []): Uint8Array {
  const out = new Uint8Array(256);
  for (let i = 0; i < members.length; i++) out[members.charCodeAt(i)] = 1;
  for (const [from, to] of ranges) out.fill(1, from, to + 1);
  return out;
}

/** tchar (RFC 9110 5.6.2): method names, field names, transfer-codings, Connection tokens. */
export const TCHAR = table("!#$%&'*+-.^_`|~" + DIGITS + ALPHA);

/**
 * request-target bytes: visible ASCII (no SP, CTL, DEL or non-ASCII) except '#': a fragment is
 * no part of a request-target (RFC 9112 3.2), and a route matched on `/a#/../b` is not the
 * resource a server that drops the fragment serves (Envoy and HAProxy reject it too).
 */
export const TARGET_CHAR = table('', [[0x21, 0x7e]]);
TARGET_CHAR[0x23] = 0;

/** reg-name bytes of a URI host (RFC 3986 3.2.2). */
export const REG_NAME_CHAR = table(UNRESERVED + SUB_DELIMS + '%');

/** Bytes inside an IP-literal's brackets: IPv6 (hex, ':', '.') and IPvFuture. */
export const IP_LITERAL_CHAR = table(UNRESERVED + SUB_DELIMS + ':');

/**
 * field-value bytes (RFC 9110 5.5): 1 = field-vchar (VCHAR or obs-text), 2 = SP/HTAB,
 * 0 = invalid (NUL, CR, LF, other CTLs, DEL). Also used for reason-phrases.
 */
export const FIELD_VALUE_CHAR = table('', [
  [0x21, 0x7e],
  [0x80, 0xff],
]);
FIELD_VALUE_CHAR[0x20] = 2;
FIELD_VALUE_CHAR[0x09] = 2;

/** qdtext of a quoted-string (RFC 9110 5.6.4). */
export const QDTEXT_CHAR = table('\t !', [
  [0x23, 0x5b],
  [0x5d, 0x7e],
  [0x80, 0xff],
]);

/** The byte after '\' in a quoted-pair. */
export const QUOTED_PAIR_CHAR = table('\t ', [
  [0x21, 0x7e],
  [0x80, 0xff],
]);

/** Hex digit values; -1 for any other byte. */
export const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < HEXDIG.length; i++) HEX_VALUE[HEXDIG.charCodeAt(i)] = parseInt(HEXDIG[i]!, 16);
