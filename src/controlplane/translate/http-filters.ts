/**
 * TrafficPolicy's per-listener HTTP filters: local rate limiting and fault
 * injection. Weft's filters take no per-route configs, so they go where a
 * listener serves one destination only: a sidecar's inbound listener (for the
 * workload's own service) and a proxyless client's per-service api_listener.
 * The router is appended by the connection manager's builder, always last.
 */
import {
  FAULT_FILTER_NAME, FAULT_TYPE_URL, LOCAL_RATE_LIMIT_FILTER_NAME, LOCAL_RATE_LIMIT_TYPE_URL,
} from '../../proxy/filters/names.js';
import { envoyDuration, fractionalPercent, type JsonObject } from './envoy-values.js';
import type { TrafficPolicySpec } from '../model/traffic-policy.js';

const RATE_LIMIT_STAT_PREFIX = 'http_local_rate_limiter';
const FILL_INTERVAL: Record<NonNullable<TrafficPolicySpec['rateLimit']>['unit'], string> = {
  second: '1s',
  minute: '1m',
  hour: '1h',
};
const ALWAYS = { default_value: fractionalPercent(100) };

/** Rate limiting first: a rejected request should not wait out an injected delay. */
export function policyHttpFilters(policy: TrafficPolicySpec | undefined, options: { rateLimit: boolean }): JsonObject[] {
  const filters: JsonObject[] = [];
  if (options.rateLimit && policy?.rateLimit !== undefined) filters.push(localRateLimitFilter(policy.rateLimit));
  if (policy?.fault !== undefined) filters.push(faultFilter(policy.fault));
  return filters;
}

/** A bucket of `burst` tokens (default: requestsPerUnit), refilled with requestsPerUnit tokens every unit. */
function localRateLimitFilter(rateLimit: NonNullable<TrafficPolicySpec['rateLimit']>): JsonObject {
  return {
    name: LOCAL_RATE_LIMIT_FILTER_NAME,
    typed_config: {
      '@type': LOCAL_RATE_LIMIT_TYPE_URL,
      stat_prefix: RATE_LIMIT_STAT_PREFIX,
      token_bucket: {
        max_tokens: rateLimit.burst ?? rateLimit.requestsPerUnit,
        tokens_per_fill: rateLimit.requestsPerUnit,
        fill_interval: envoyDuration(FILL_INTERVAL[rateLimit.unit]),
      },
      filter_enabled: ALWAYS,
      filter_enforced: ALWAYS,
    },
  };
}

function faultFilter(fault: NonNullable<TrafficPolicySpec['fault']>): JsonObject {
  return {
    name: FAULT_FILTER_NAME,
    typed_config: {
      '@type': FAULT_TYPE_URL,
      delay: fault.delay === undefined
        ? undefined
        : { fixed_delay: envoyDuration(fault.delay.fixed), percentage: fractionalPercent(fault.delay.percent) },
      abort: fault.abort === undefined
        ? undefined
        : { http_status: fault.abort.httpStatus, percentage: fractionalPercent(fault.abort.percent) },
    },
  };
}
