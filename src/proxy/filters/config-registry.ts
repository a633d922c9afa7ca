/**
 * The HTTP filters' config parsers by `@type` URL, for the bootstrap loader:
 * each validates its `typed_config` into the shape its runtime factory takes.
 */
import { faultConfigParser } from './fault/config.js';
import type { HttpFilterConfigParser } from './filter.js';
import { localRateLimitConfigParser } from './local_ratelimit/config.js';
import { rbacConfigParser } from './rbac/config.js';

const parsers: HttpFilterConfigParser[] = [faultConfigParser, localRateLimitConfigParser, rbacConfigParser];

export function findHttpFilterParser(typeUrl: string): HttpFilterConfigParser | undefined {
  return parsers.find((p) => p.typeUrls.includes(typeUrl));
}

export function listHttpFilterParsers(): readonly HttpFilterConfigParser[] {
  return parsers;
}
