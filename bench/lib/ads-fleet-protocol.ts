/**
 * Messages between the xDS benchmark and its client worker processes (over the
 * fork IPC channel). Times are epoch milliseconds with sub-millisecond
 * precision (`epochMs()`), comparable between processes on one machine.
 */
import type { TypeUrl } from '../../src/xds/type-urls.js';
import type { SidecarNode } from './mesh-fixture.js';

/** Totals of what a worker's clients received. */
export interface ReceivedTotals {
  responses: number;
  resources: number;
  /** Sum of the resources' encoded sizes. */
  bytes: number;
}

export type ToWorker =
  /** Create one gRPC channel per node and connect them all; answered with `ready`. */
  | { kind: 'connect'; target: string; nodes: SidecarNode[] }
  /** Open every ADS stream (CDS + LDS wildcard); each client answers `full-config` once it ACKed all four types. */
  | { kind: 'open' }
  /**
   * A change is about to be applied: from now on each client reports `pushed` the first
   * time it ACKs a new version of a type. Answered with `expecting`.
   */
  | { kind: 'expect'; changeId: number; watch: { typeUrl: TypeUrl; name: string } }
  | { kind: 'totals' }
  | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'full-config'; client: number; atMs: number }
  /** `subscribers`: this worker's clients whose subscription for the watched type includes the watched name. */
  | { kind: 'expecting'; changeId: number; subscribers: number }
  | { kind: 'pushed'; changeId: number; client: number; typeUrl: TypeUrl; atMs: number; watchedChanged: boolean }
  | { kind: 'totals'; totals: ReceivedTotals }
  /** A stream or channel failed: the run is invalid. */
  | { kind: 'failed'; client: number; error: string };

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
