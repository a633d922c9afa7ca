/**
 * `envoy.extensions.filters.http.fault.v3.HTTPFault`: schema, validation and the
 * normalized config the per-stream filter reads. Parsed once per config version.
 *
 * Supported: delay {fixed_delay | header_delay, percentage}, abort {http_status |
 * header_abort, percentage}, max_active_faults, downstream_nodes,
 * disable_downstream_cluster_stats. Rejected with a reason: `headers` (waits for the
 * router's header matcher to be shared), `upstream_cluster` (filters cannot see the
 * route's cluster yet), gRPC aborts, response_rate_limit, filter_metadata and the
 * `*_runtime` keys (Weft has no runtime layer).
 */
import { Type, type Static } from '@sinclair/typebox';
import { durationMs } from '../../config/duration.js';
import { oneOf, positive } from '../../config/normalize-common.js';
import { Bool, Duration, NonEmptyStr, Obj, Opt, UInt, Unsupported } from '../../config/schema-common.js';
import { compileValidator, type Validator } from '../../config/validator.js';
import { FractionalPercent, toFraction } from '../fractional-percent.js';
import type { Fraction } from '../fraction.js';
import { FAULT_FILTER_NAME, FAULT_TYPE_URL } from '../names.js';
import type { HttpFilterConfigParser } from '../filter.js';


const NO_RUNTIME = 'not supported: Weft has no runtime layer';

const FaultDelay = Obj({
  fixed_delay: Opt(Duration()),
  header_delay: Opt(Obj({})),
  percentage: Opt(FractionalPercent),
});

const FaultAbort = Obj({
  // Envoy: uint32 http_status in [200, 600).
  http_status: Opt(UInt({ minimum: 200, maximum: 599 })),
  grpc_status: Opt(Unsupported('not supported yet: gRPC aborts need gRPC local replies')),
  header_abort: Opt(Obj({})),
  percentage: Opt(FractionalPercent),
});

const HttpFault = Obj({
  delay: Opt(FaultDelay),
  abort: Opt(FaultAbort),
  upstream_cluster: Opt(Unsupported('not supported yet: HTTP filters cannot see the route\'s cluster')),
  headers: Opt(Unsupported('not supported yet: header matchers for the fault filter are not implemented')),
  downstream_nodes: Opt(Type.Array(NonEmptyStr())),
  max_active_faults: Opt(UInt({ maximum: 4_294_967_295 })),
  response_rate_limit: Opt(Unsupported()),
  delay_percent_runtime: Opt(Unsupported(NO_RUNTIME)),
  abort_percent_runtime: Opt(Unsupported(NO_RUNTIME)),
  delay_duration_runtime: Opt(Unsupported(NO_RUNTIME)),
  abort_http_status_runtime: Opt(Unsupported(NO_RUNTIME)),
  max_active_faults_runtime: Opt(Unsupported(NO_RUNTIME)),
  response_rate_limit_percent_runtime: Opt(Unsupported(NO_RUNTIME)),
  abort_grpc_status_runtime: Opt(Unsupported(NO_RUNTIME)),
  disable_downstream_cluster_stats: Opt(Bool()),
  filter_metadata: Opt(Unsupported()),
});

const validateHttpFault: Validator<Static<typeof HttpFault>> = compileValidator(HttpFault);

export interface FaultDelayConfig {
  /** undefined: the delay comes from the `x-envoy-fault-delay-request` header (`header_delay`). */
  readonly fixedMs: number | undefined;
  readonly percentage: Fraction;
}

export interface FaultAbortConfig {
  /** undefined: the status comes from the `x-envoy-fault-abort-request` header (`header_abort`). */
  readonly httpStatus: number | undefined;
  readonly percentage: Fraction;
}

export interface FaultConfig {
  readonly delay: FaultDelayConfig | undefined;
  readonly abort: FaultAbortConfig | undefined;
  /** Infinity when unset (Envoy: unlimited). */
  readonly maxActiveFaults: number;
  /** undefined: faults apply to every downstream node. */
  readonly downstreamNodes: ReadonlySet<string> | undefined;
  /** Count `fault.<x-envoy-downstream-service-cluster>.*` too (disable_downstream_cluster_stats = false). */
  readonly downstreamClusterStats: boolean;
}

export function parseFaultConfig(raw: unknown, path: string): FaultConfig {
  validateHttpFault(raw, path);
  return {
    delay: raw.delay === undefined ? undefined : normalizeDelay(raw.delay, `${path}.delay`),
    abort: raw.abort === undefined ? undefined : normalizeAbort(raw.abort, `${path}.abort`),
    maxActiveFaults: raw.max_active_faults ?? Infinity,
    downstreamNodes: raw.downstream_nodes !== undefined && raw.downstream_nodes.length > 0 ? new Set(raw.downstream_nodes) : undefined,
    downstreamClusterStats: raw.disable_downstream_cluster_stats !== true,
  };
}

function normalizeDelay(delay: Static<typeof FaultDelay>, path: string): FaultDelayConfig {
  const kind = oneOf(delay, ['fixed_delay', 'header_delay'], path);
  const fixedMs = kind === 'fixed_delay' ? positive(durationMs(delay.fixed_delay, 0), `${path}.fixed_delay`) : undefined;
  return { fixedMs, percentage: toFraction(delay.percentage) };
}

function normalizeAbort(abort: Static<typeof FaultAbort>, path: string): FaultAbortConfig {
  oneOf(abort, ['http_status', 'header_abort'], path);
  return { httpStatus: abort.http_status, percentage: toFraction(abort.percentage) };
}

export const faultConfigParser = {
  name: FAULT_FILTER_NAME,
  typeUrls: [FAULT_TYPE_URL],
  parseConfig: parseFaultConfig,
} satisfies HttpFilterConfigParser<FaultConfig>;
