/**
 * The data plane's HTTP filters by `@type` URL. The connection manager looks a
 * filter up once per config version, never per request. Config parsing lives in
 * config-registry.ts so the running proxy never loads the config validator.
 */
import { faultFilterFactory } from './fault/filter.js';
import type { HttpFilterFactory } from './filter.js';
import { localRateLimitFilterFactory } from './local_ratelimit/filter.js';
import { rbacFilterFactory } from './rbac/filter.js';

const factories: HttpFilterFactory[] = [faultFilterFactory, localRateLimitFilterFactory, rbacFilterFactory];

export function findHttpFilterByTypeUrl(typeUrl: string): HttpFilterFactory | undefined {
  return factories.find((f) => f.typeUrls.includes(typeUrl));
}
