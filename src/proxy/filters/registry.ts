/**
 * HTTP filters by `@type` URL and by well-known name. The config loader asks here
 * to parse each `http_filters[].typed_config`; the connection manager never
 * looks filters up per request.
 */
import { faultFilterFactory } from './fault/filter.js';
import type { HttpFilterFactory } from './filter.js';
import { localRateLimitFilterFactory } from './local_ratelimit/filter.js';

const factories: HttpFilterFactory[] = [faultFilterFactory, localRateLimitFilterFactory];

export function findHttpFilterByTypeUrl(typeUrl: string): HttpFilterFactory | undefined {
  return factories.find((f) => f.typeUrls.includes(typeUrl));
}

export function listHttpFilters(): readonly HttpFilterFactory[] {
  return factories;
}

/** The router is not a factory: the connection manager implements it. */
export const ROUTER_FILTER_NAME = 'envoy.filters.http.router';
export const ROUTER_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
