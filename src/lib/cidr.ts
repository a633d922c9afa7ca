/**
 * CIDR ranges (Envoy's `CidrRange`), parsed once and matched against socket
 * addresses without allocating a string. IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`, what a dual-stack socket reports) match IPv4 ranges.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  readonly family: 4 | 6;
  /** Network bytes (4 or 16), already masked. */
  readonly bytes: Uint8Array;
  readonly prefixLen: number;
}

/** Throws an Error naming what is wrong; callers wrap it with their field path. */
export function parseCidr(address: string, prefixLen: number): Cidr {
  const bytes = ipBytes(address);
  if (bytes === undefined) throw new Error(`${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
  const family = bytes.length === 4 ? 4 : 6;
  const max = bytes.length * 8;
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) throw new Error(`prefix_len ${prefixLen} is out of range 0-${max} for an IPv${family} address`);
  return { family, bytes: mask(bytes, prefixLen), prefixLen };
}

/** Whether `ip` (as a socket reports it) lies in `cidr`. A non-IP string never matches. */
export function cidrContains(cidr: Cidr, ip: string): boolean {
  let bytes = ipBytes(ip);
  if (bytes === undefined) return false;
  if (cidr.family === 4 && bytes.length === 16 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (bytes.length !== cidr.bytes.length) return false;
  const full = cidr.prefixLen >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefixLen & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (bytes[full]! & m) === cidr.bytes[full];
}

function mask(bytes: Uint8Array, prefixLen: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

function ipBytes(ip: string): Uint8Array | undefined {
  if (isIPv4(ip)) return new Uint8Array(ip.split('.').map(Number));
  if (!isIPv6(ip)) return undefined;
  const zone = ip.indexOf('%');
  let address = zone === -1 ? ip : ip.slice(0, zone);
  // A trailing dotted quad (`::ffff:1.2.3.4`) becomes two hex groups.
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    address = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const gap = address.indexOf('::');
  const side = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let groups: string[];
  if (gap === -1) groups = side(address);
  else {
    const left = side(address.slice(0, gap));
    const right = side(address.slice(gap + 2));
    groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const w = parseInt(g, 16);
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  });
  return out;
}

// Envoy's isInternalAddress: RFC 1918, loopback, and IPv6 unique-local / loopback.
const INTERNAL_RANGES: readonly Cidr[] = [
  parseCidr('10.0.0.0', 8),
  parseCidr('172.16.0.0', 12),
  parseCidr('192.168.0.0', 16),
  parseCidr('127.0.0.0', 8),
  parseCidr('fd00::', 8),
  parseCidr('::1', 128),
];

/** Whether `ip` is a private (RFC 1918, unique-local) or loopback address. */
export function isInternalAddress(ip: string): boolean {
  for (const cidr of INTERNAL_RANGES) if (cidrContains(cidr, ip)) return true;
  return false;
}
