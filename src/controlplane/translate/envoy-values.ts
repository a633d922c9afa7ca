/**
 * Small Envoy v3 JSON values every builder needs, written the way Envoy's
 * proto3 JSON mapping writes them: durations as `"1.500s"`, wrapper types as
 * plain numbers, Any as an object with `@type`.
 */
import { ROUTER_FILTER_NAME, ROUTER_TYPE_URL } from '../../proxy/filters/names.js';
import { durationMs } from '../model/duration.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
/** Builders may leave a field `undefined` to omit it; translate.ts prunes them once at the end. */
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

const NANOS_PER_MS = 1_000_000;
const NANOS_PER_SECOND = 1_000_000_000;

/**
 * A mesh duration (`"250ms"`, `"1m30s"`) as Envoy's canonical Duration JSON:
 * seconds with 0, 3, 6 or 9 fractional digits (`"0.250s"`, `"90s"`).
 */
export function envoyDuration(text: string): string;
export function envoyDuration(text: string | undefined): string | undefined;
export function envoyDuration(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const nanos = Math.round(durationMs(text) * NANOS_PER_MS);
  const seconds = Math.floor(nanos / NANOS_PER_SECOND);
  const fraction = nanos % NANOS_PER_SECOND;
  if (fraction === 0) return `${seconds}s`;
  const digits = fraction % 1_000_000 === 0 ? 3 : fraction % 1000 === 0 ? 6 : 9;
  return `${seconds}.${String(fraction).padStart(9, '0').slice(0, digits)}s`;
}

/** A percentage (0..100, possibly fractional) as `type.v3.FractionalPercent`, exact to 1e-4 %. */
export function fractionalPercent(percent: number): JsonObject {
  if (Number.isInteger(percent)) return { numerator: percent, denominator: 'HUNDRED' };
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}

/** `config.core.v3.ConfigSource` pointing at the ADS stream the proxy already has. */
export function adsConfigSource(): JsonObject {
  return { ads: {}, resource_api_version: 'V3' };
}

export function routerFilter(): JsonObject {
  return { name: ROUTER_FILTER_NAME, typed_config: { '@type': ROUTER_TYPE_URL } };
}

export function socketAddress(address: string, port: number): JsonObject {
  return { socket_address: { address, port_value: port } };
}

/** Sorted, distinct status codes as Envoy's half-open ranges, adjacent codes merged: [200, 201, 204] -> [200,202) [204,205). */
export function statusRanges(statuses: readonly number[]): JsonObject[] {
  const sorted = [...new Set(statuses)].sort((a, b) => a - b);
  const ranges: Array<{ start: number; end: number }> = [];
  for (const status of sorted) {
    const last = ranges.at(-1);
    if (last !== undefined && last.end === status) last.end = status + 1;
    else ranges.push({ start: status, end: status + 1 });
  }
  return ranges;
}

/** Drops `undefined` fields everywhere, so equal configs compare (and serialize) equal. */
export function pruneUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(pruneUndefined) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== undefined) out[key] = pruneUndefined(field);
  }
  return out as T;
}
