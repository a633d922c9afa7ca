/**
 * Envoy's HTTP fault injection filter, per stream (`fault_filter.cc` semantics):
 *
 *  - A delay, when its percentage draw hits and the duration is > 0 ms, holds the
 *    stream (`StopIteration`) and resumes it with `continueDecoding()` when the timer
 *    fires — unless the abort then hits, which ends the stream instead.
 *  - Otherwise an abort, when its percentage draw hits, ends the stream with a local
 *    reply `fault filter abort` (details `fault_filter_abort`, flag FI).
 *  - A stream counts as one active fault (gauge `fault.active_faults`) from the first
 *    fault it gets until the delay ends without an abort or the stream ends; a new
 *    fault is refused once `max_active_faults` are active (`fault.faults_overflow`).
 *  - `header_delay` / `header_abort` take the duration / status from
 *    `x-envoy-fault-delay-request` / `x-envoy-fault-abort-request`, and the
 *    `*-percentage` headers may lower (never raise) the configured numerator.
 *
 * The pass-through path allocates nothing beyond the filter object itself.
 */
import { MAX_DURATION_MS } from '../../config/duration.js';
import type { HeaderMap } from '../../http1/headers.js';
import { defineStats, type StatsScope } from '../../observe/stats.js';
import {
  FilterStatus,
  type FilterCallbacks,
  type FilterFactoryContext,
  type FilterInstanceFactory,
  type FilterRequest,
  type HttpFilter,
  type HttpFilterFactory,
} from '../filter.js';
import { fractionHit, type Fraction } from '../fraction.js';
import { FAULT_FILTER_NAME, FAULT_TYPE_URL } from '../names.js';
import type { FaultConfig } from './config.js';

/** Envoy's ALL_FAULT_FILTER_STATS (response_rl_injected omitted: response rate limits are rejected at load). */
export const FAULT_STATS = {
  counters: ['delays_injected', 'aborts_injected', 'faults_overflow'],
  gauges: ['active_faults'],
  histograms: [],
} as const;

export const DELAY_REQUEST_HEADER = 'x-envoy-fault-delay-request';
export const DELAY_PERCENTAGE_HEADER = 'x-envoy-fault-delay-request-percentage';
export const ABORT_REQUEST_HEADER = 'x-envoy-fault-abort-request';
export const ABORT_PERCENTAGE_HEADER = 'x-envoy-fault-abort-request-percentage';
const DOWNSTREAM_NODE_HEADER = 'x-envoy-downstream-service-node';
const DOWNSTREAM_CLUSTER_HEADER = 'x-envoy-downstream-service-cluster';

const UINT32_MAX = 4_294_967_295;

/** absl::SimpleAtoi for unsigned values: optional surrounding whitespace and '+', decimal digits. */
const UNSIGNED = /^\s*\+?\d+\s*$/;

function parseUnsigned(value: string | undefined, max: number): number | undefined {
  if (value === undefined || !UNSIGNED.test(value)) return undefined;
  const n = Number(value);
  return n <= max ? n : undefined;
}

/** State shared by every stream of one config version. */
interface FaultShared {
  readonly config: FaultConfig;
  readonly scope: StatsScope;
  readonly stats: ReturnType<typeof defineStats<typeof FAULT_STATS>>;
  readonly random: () => number;
}

class FaultFilter implements HttpFilter {
  private delayTimer: NodeJS.Timeout | undefined = undefined;
  /** Held only while a delay is pending: the abort decision after the delay reads its headers. */
  private delayedRequest: FilterRequest | undefined = undefined;
  private faultActive = false;
  private downstreamCluster: string | undefined = undefined;

  constructor(
    private readonly shared: FaultShared,
    private readonly callbacks: FilterCallbacks,
  ) {}

  decodeHeaders(request: FilterRequest): FilterStatus {
    const { config } = this.shared;
    const headers = request.headers;
    if (config.delay === undefined && config.abort === undefined) return FilterStatus.Continue;
    if (config.downstreamNodes !== undefined) {
      const node = headers.get(DOWNSTREAM_NODE_HEADER);
      if (node === undefined || !config.downstreamNodes.has(node)) return FilterStatus.Continue;
    }
    if (config.downstreamClusterStats) {
      const cluster = headers.get(DOWNSTREAM_CLUSTER_HEADER);
      if (cluster !== undefined && cluster !== '') this.downstreamCluster = cluster;
    }

    const delayMs = this.delayDuration(headers);
    if (delayMs !== undefined && this.tryIncActiveFaults()) {
      this.delayedRequest = request;
      this.delayTimer = setTimeout(onDelayElapsed, delayMs, this);
      this.countInjected('delays_injected');
      this.callbacks.addResponseFlag('DI');
      return FilterStatus.StopIteration;
    }
    const status = this.abortStatus(headers);
    if (status !== undefined && this.tryIncActiveFaults()) {
      this.abort(status);
      return FilterStatus.StopIteration;
    }
    return FilterStatus.Continue;
  }

  onDestroy(): void {
    if (this.delayTimer !== undefined) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    this.delayedRequest = undefined;
    this.releaseActiveFault();
  }

  /** The delay timer fired: abort if the abort draw hits now (Envoy re-evaluates it), else resume. */
  afterDelay(): void {
    this.delayTimer = undefined;
    const headers = this.delayedRequest!.headers;
    this.delayedRequest = undefined;
    const status = this.abortStatus(headers);
    if (status !== undefined) {
      this.abort(status);
      return;
    }
    // The delay is over and nothing else is injected: this stream no longer counts as an active fault.
    this.releaseActiveFault();
    this.callbacks.continueDecoding();
  }

  private delayDuration(headers: HeaderMap): number | undefined {
    const delay = this.shared.config.delay;
    if (delay === undefined) return undefined;
    const headerControlled = delay.fixedMs === undefined;
    if (!this.hit(delay.percentage, headerControlled, headers, DELAY_PERCENTAGE_HEADER)) return undefined;
    const ms = headerControlled ? parseUnsigned(headers.get(DELAY_REQUEST_HEADER), Number.MAX_SAFE_INTEGER) : delay.fixedMs;
    // Envoy delays only for a duration > 0 ms; Node timers cannot wait longer than MAX_DURATION_MS.
    return ms === undefined || ms === 0 ? undefined : Math.min(ms, MAX_DURATION_MS);
  }

  private abortStatus(headers: HeaderMap): number | undefined {
    const abort = this.shared.config.abort;
    if (abort === undefined) return undefined;
    const headerControlled = abort.httpStatus === undefined;
    if (!this.hit(abort.percentage, headerControlled, headers, ABORT_PERCENTAGE_HEADER)) return undefined;
    if (!headerControlled) return abort.httpStatus;
    const status = parseUnsigned(headers.get(ABORT_REQUEST_HEADER), UINT32_MAX);
    return status !== undefined && status >= 200 && status < 600 ? status : undefined;
  }

  /** Envoy's HeaderPercentageProvider: with a header-controlled fault, a valid header caps the numerator. */
  private hit(percentage: Fraction, headerControlled: boolean, headers: HeaderMap, percentageHeader: string): boolean {
    let numerator = percentage.numerator;
    if (headerControlled) {
      const fromHeader = parseUnsigned(headers.get(percentageHeader), UINT32_MAX);
      if (fromHeader !== undefined && fromHeader < numerator) numerator = fromHeader;
    }
    return fractionHit(numerator, percentage.denominator, this.shared.random);
  }

  private abort(status: number): void {
    this.countInjected('aborts_injected');
    this.callbacks.addResponseFlag('FI');
    this.callbacks.sendLocalReply(status, 'fault filter abort', [], 'fault_filter_abort');
  }

  /** One active fault per stream, however many faults it gets (Envoy's tryIncActiveFaults). */
  private tryIncActiveFaults(): boolean {
    if (this.faultActive) return true;
    const { stats, config } = this.shared;
    if (stats.active_faults.value() >= config.maxActiveFaults) {
      stats.faults_overflow.inc();
      return false;
    }
    stats.active_faults.inc();
    this.faultActive = true;
    return true;
  }

  private releaseActiveFault(): void {
    if (!this.faultActive) return;
    this.faultActive = false;
    this.shared.stats.active_faults.dec();
  }

  private countInjected(name: 'delays_injected' | 'aborts_injected'): void {
    this.shared.stats[name].inc();
    // Envoy's per-downstream-cluster copy: fault.<cluster>.delays_injected / aborts_injected.
    if (this.downstreamCluster !== undefined) this.shared.scope.scope(`${this.downstreamCluster}.`).counter(name).inc();
  }
}

function onDelayElapsed(filter: FaultFilter): void {
  filter.afterDelay();
}

export const faultFilterFactory = {
  name: FAULT_FILTER_NAME,
  typeUrls: [FAULT_TYPE_URL],
  createFilterFactory(config: FaultConfig, context: FilterFactoryContext): FilterInstanceFactory {
    const scope = context.stats.scope('fault.');
    const shared: FaultShared = { config, scope, stats: defineStats(scope, FAULT_STATS), random: context.random };
    return {
      create: (callbacks) => new FaultFilter(shared, callbacks),
      // Delay timers belong to streams and are cleared in onDestroy; nothing is shared.
      close: () => {},
    };
  },
} satisfies HttpFilterFactory<FaultConfig>;
