/**
 * Outlier detection (passive health checking) for one cluster, Envoy's
 * consecutive_5xx and consecutive_gateway_failure detectors.
 *
 * Inputs arrive per response through Host.reportStatus / reportLocalFailure.
 * Local-origin failures count as 503 (connect failure, reset) or 504 (timeout)
 * unless split_external_local_origin_errors is set, in which case they are
 * Envoy's separate local-origin detector, which Weft does not implement.
 *
 * Ejection: when a streak reaches its threshold the detection is counted; with
 * probability enforcing_*% the host is ejected, provided no host is ejected yet
 * or fewer than max_ejection_percent are. An ejected host returns after
 * base_ejection_time x times ejected (capped by max_ejection_time), checked on
 * the `interval` sweep, which also lets the multiplier decay for hosts that
 * stay in service.
 */
import type { OutlierDetectionConfig } from '../config/types.js';
import type { Counter } from '../observe/stats.js';
import type { ClusterStats } from './cluster-stats.js';
import type { ManagedHost, OutlierSink } from './host.js';
import type { LocalFailureKind } from './types.js';

export interface OutlierDetector extends OutlierSink {
  /** Follows the cluster's membership: new hosts start clean, gone ones stop counting. */
  setHosts(hosts: readonly ManagedHost[]): void;
  /** The `interval` sweep (run by the detector's own timer; exposed for tests). */
  sweep(): void;
  close(): void;
  dumpState(): unknown;
}

export interface OutlierDetectorOptions {
  stats: ClusterStats;
  now: () => number;
  random: () => number;
}

interface HostRecord {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  timesEjected: number;
  ejectedAt: number;
  /** When it last came back (or joined): the multiplier decays one step per clean interval after it. */
  inServiceSince: number;
}

/** What one detector kind counts and how strictly it is enforced. */
interface DetectorKind {
  threshold: number;
  enforcingPercent: number;
  detected: Counter;
  enforced: Counter;
}

const LOCAL_FAILURE_STATUS: Record<LocalFailureKind, number> = {
  'connect-failure': 503,
  reset: 503,
  timeout: 504,
};

class ConsecutiveErrorsDetector implements OutlierDetector {
  private readonly records = new Map<ManagedHost, HostRecord>();
  private ejectedCount = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly fiveXx: DetectorKind;
  private readonly gatewayFailure: DetectorKind;

  constructor(
    private readonly config: OutlierDetectionConfig,
    private readonly opts: OutlierDetectorOptions,
  ) {
    const { stats } = opts;
    this.fiveXx = {
      threshold: config.consecutive5xx,
      enforcingPercent: config.enforcingConsecutive5xx,
      detected: stats['outlier_detection.ejections_detected_consecutive_5xx'],
      enforced: stats['outlier_detection.ejections_enforced_consecutive_5xx'],
    };
    this.gatewayFailure = {
      threshold: config.consecutiveGatewayFailure,
      enforcingPercent: config.enforcingConsecutiveGatewayFailure,
      detected: stats['outlier_detection.ejections_detected_consecutive_gateway_failure'],
      enforced: stats['outlier_detection.ejections_enforced_consecutive_gateway_failure'],
    };
    this.timer = setInterval(() => this.sweep(), config.intervalMs);
    this.timer.unref();
  }

  onStatus(host: ManagedHost, status: number): void {
    const record = this.records.get(host);
    if (record === undefined) return;
    if (status < 500) {
      record.consecutive5xx = 0;
      record.consecutiveGatewayFailure = 0;
      return;
    }
    if (status >= 502 && status <= 504) {
      if (++record.consecutiveGatewayFailure === this.gatewayFailure.threshold) {
        record.consecutiveGatewayFailure = 0;
        this.onDetected(host, record, this.gatewayFailure);
      }
    } else {
      record.consecutiveGatewayFailure = 0;
    }
    if (++record.consecutive5xx === this.fiveXx.threshold) {
      record.consecutive5xx = 0;
      this.onDetected(host, record, this.fiveXx);
    }
  }

  onLocalFailure(host: ManagedHost, kind: LocalFailureKind): void {
    if (!this.config.splitExternalLocalOriginErrors) this.onStatus(host, LOCAL_FAILURE_STATUS[kind]);
  }

  setHosts(hosts: readonly ManagedHost[]): void {
    const keep = new Set(hosts);
    for (const [host] of this.records) {
      if (keep.has(host)) continue;
      this.records.delete(host);
      if (host.ejected) this.ejectedCount--;
    }
    const now = this.opts.now();
    for (const host of hosts) {
      if (this.records.has(host)) continue;
      this.records.set(host, {
        consecutive5xx: 0,
        consecutiveGatewayFailure: 0,
        timesEjected: 0,
        ejectedAt: 0,
        inServiceSince: now,
      });
    }
    this.publishActive();
  }

  sweep(): void {
    const now = this.opts.now();
    const { baseEjectionTimeMs, maxEjectionTimeMs, intervalMs } = this.config;
    for (const [host, record] of this.records) {
      if (host.ejected) {
        const ejectionMs = Math.min(baseEjectionTimeMs * record.timesEjected, Math.max(maxEjectionTimeMs, baseEjectionTimeMs));
        if (now - record.ejectedAt < ejectionMs) continue;
        this.ejectedCount--;
        record.inServiceSince = now;
        host.setEjected(false);
      } else if (record.timesEjected > 0 && now - record.inServiceSince >= intervalMs) {
        record.timesEjected--;
        record.inServiceSince = now;
      }
    }
    this.publishActive();
  }

  close(): void {
    clearInterval(this.timer);
    // Responses still arriving for a retired cluster change nothing.
    this.records.clear();
  }

  dumpState(): unknown {
    return {
      ejections_active: this.ejectedCount,
      hosts: [...this.records].map(([host, r]) => ({
        address: host.label,
        ejected: host.ejected,
        times_ejected: r.timesEjected,
        consecutive_5xx: r.consecutive5xx,
        consecutive_gateway_failure: r.consecutiveGatewayFailure,
      })),
    };
  }

  private onDetected(host: ManagedHost, record: HostRecord, kind: DetectorKind): void {
    if (host.ejected) return;
    const { stats } = this.opts;
    kind.detected.inc();
    stats['outlier_detection.ejections_total'].inc();
    if (this.opts.random() * 100 >= kind.enforcingPercent) return;
    const ejectedPercent = (100 * this.ejectedCount) / this.records.size;
    if (this.ejectedCount > 0 && ejectedPercent >= this.config.maxEjectionPercent) {
      stats['outlier_detection.ejections_overflow'].inc();
      return;
    }
    record.timesEjected++;
    record.ejectedAt = this.opts.now();
    this.ejectedCount++;
    kind.enforced.inc();
    stats['outlier_detection.ejections_enforced_total'].inc();
    this.publishActive();
    host.setEjected(true);
  }

  private publishActive(): void {
    this.opts.stats['outlier_detection.ejections_active'].set(this.ejectedCount);
  }
}

export function createOutlierDetector(config: OutlierDetectionConfig, opts: OutlierDetectorOptions): OutlierDetector {
  return new ConsecutiveErrorsDetector(config, opts);
}
