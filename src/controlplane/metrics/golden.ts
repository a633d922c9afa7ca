/**
 * Golden metrics from the series store: request rate, success rate and
 * latency percentiles (histogram_quantile over summed bucket increments) for
 * services, workloads and edges, over a window or as a 5 s time series.
 *
 * Who counts what: a request is counted once, from the client sidecar's (or
 * gateway's) report (`reporter="source"`: it names the service addressed (a
 * gateway: the service whose cluster served it) and, through the
 * EDS endpoint's hostname, the workload that served it), or, for callers
 * outside the mesh, from the destination sidecar's report (source `unknown`).
 * A destination sidecar learns a meshed caller's workload from a request
 * header, so its reports of meshed callers are the duplicates left out.
 * - a service's traffic: requests addressed to it (a destination report
 *   addressed by IP counts for the service its workload backs);
 * - a workload's traffic: requests it served;
 * - edges: workload -> service (callers) and service -> workload (servers);
 * - a TrafficSplit's edges: its root service's requests grouped by the
 *   backend service whose cluster served them.
 * Success is any response code but 5xx and 0 (no response).
 */
import { serviceKeyFromHost } from '../model/service-host.js';
import { DURATION_COUNT, FIRST_BUCKET, REQUESTS, type Series, type SeriesStore } from './series-store.js';

export type EntityKind = 'Service' | 'Workload';

export interface EntityRef {
  kind: EntityKind;
  namespace: string;
  name: string;
}

export const UNKNOWN = 'unknown';

export interface Golden {
  requests: number;
  successCount: number;
  failureCount: number;
  /** Requests per second over the window. */
  rps: number;
  /** 0..1; null without requests. */
  successRate: number | null;
  /** Milliseconds; null without requests. */
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

/** Where a series' requests came from and went, resolved against the reporting proxy's namespace. */
interface SeriesView {
  reporter: 'source' | 'destination';
  source: EntityRef;
  /** The service the client addressed (undefined: not a mesh service, e.g. an IP). */
  service: EntityRef | undefined;
  /** Destination reports: the reporting proxy's workload; source reports: the endpoint's workload, when EDS named it. */
  workload: EntityRef | undefined;
  /** The service whose cluster served the request (`outbound|port||name.ns.svc`), source reports only. */
  backend: EntityRef | undefined;
  failure: boolean;
}

const views = new WeakMap<Series, SeriesView>();

/** `host[:port]` -> the Service it names, relative to `namespace`. */
export function serviceOfHost(host: string, namespace: string): EntityRef | undefined {
  const bare = host.startsWith('[') ? undefined : host.split(':', 1)[0]!;
  if (bare === undefined || bare === '' || bare === UNKNOWN) return undefined;
  const key = serviceKeyFromHost(bare, namespace);
  return key === undefined ? undefined : { kind: 'Service', namespace: key.namespace, name: key.name };
}

/** Istio-style outbound cluster name -> its service. */
function serviceOfCluster(cluster: string, namespace: string): EntityRef | undefined {
  const match = /^outbound\|\d+\|[^|]*\|(.+)$/.exec(cluster);
  return match === null ? undefined : serviceOfHost(match[1]!, namespace);
}

function viewOf(series: Series): SeriesView {
  let view = views.get(series);
  if (view !== undefined) return view;
  const { labels } = series;
  const { namespace: ns, workload: self } = series.target.identity;
  const workload = (name: string): EntityRef => ({ kind: 'Workload', namespace: ns, name: name || UNKNOWN });
  const source = labels.reporter === 'source';
  const backend = source ? serviceOfCluster(labels.destinationCluster, ns) : undefined;
  view = {
    reporter: labels.reporter,
    source: workload(source ? self : labels.sourceWorkload),
    // A gateway's virtual host is its listener, not a service: the service is the one whose cluster served it.
    service: serviceOfHost(labels.destinationService, ns) ?? backend,
    workload: source ? (labels.destinationWorkload === UNKNOWN ? undefined : workload(labels.destinationWorkload)) : workload(self),
    backend,
    failure: labels.responseCode === 0 || labels.responseCode >= 500,
  };
  views.set(series, view);
  return view;
}

/** Whether a report counts: see "selections" below. */
const counted = (v: SeriesView): boolean => v.reporter === 'source' || v.source.name === UNKNOWN;

export const sameRef = (a: EntityRef | undefined, b: EntityRef): boolean => a !== undefined && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
export const refKey = (r: EntityRef): string => `${r.kind}/${r.namespace}/${r.name}`;

interface Accumulator {
  vector: Float64Array;
  failures: number;
}

/** Picks the series a query counts and the group each goes to (undefined: not counted). */
type Selector = (view: SeriesView) => string | undefined;

export class GoldenMetrics {
  constructor(private readonly store: SeriesStore) {}

  /** The last tick whose scrape round finished (-1 before any). */
  get latestTick(): number {
    return this.store.completedTick;
  }

  /** The number of ticks a window spans (at least one, at most the retention). */
  ticksFor(windowMs: number): number {
    return Math.max(1, Math.min(this.store.capacity - 1, Math.round(windowMs / this.store.intervalMs)));
  }

  get stepSeconds(): number {
    return this.store.intervalMs / 1000;
  }

  timeOf(tick: number): number | undefined {
    return this.store.timeOf(tick);
  }

  // --- selections ------------------------------------------------------------
  //
  // A request through two sidecars is reported twice (source and destination); every
  // selection counts it once: the source report (the client's sidecar knows the service
  // addressed and, from EDS, the workload that served it), plus destination reports of
  // callers outside the mesh (source `unknown`), which no source sidecar saw.

  /** Workload -> the service it backs (`spec.service`), for destination reports addressed by IP. */
  private workloadServices = new Map<string, EntityRef>();

  setWorkloadServices(map: Map<string, EntityRef>): void {
    this.workloadServices = map;
  }

  /** The service a request was for: the one addressed, else (destination reports) the service of the workload that served it. */
  private serviceOf(v: SeriesView): EntityRef | undefined {
    if (v.service !== undefined || v.reporter === 'source' || v.workload === undefined) return v.service;
    return this.workloadServices.get(refKey(v.workload));
  }

  /** The resource a request went to, of the kind asked about. */
  private receiver(v: SeriesView, kind: EntityKind): EntityRef | undefined {
    return kind === 'Workload' ? v.workload : this.serviceOf(v);
  }

  /** A resource's own traffic (what it received). */
  resource(ref: EntityRef): Selector {
    return (v) => (counted(v) && sameRef(this.receiver(v, ref.kind), ref) ? '' : undefined);
  }

  /** Edges of a resource, grouped by the peer's ref key: `from` its callers (workloads), `to` where its requests went (workloads). */
  edges(ref: EntityRef, direction: 'from' | 'to'): Selector {
    if (direction === 'from') return (v) => (counted(v) && sameRef(this.receiver(v, ref.kind), ref) ? refKey(v.source) : undefined);
    // A workload's calls go to workloads; a service's requests went to the workloads that served them.
    const matches = (v: SeriesView): boolean => (ref.kind === 'Workload' ? sameRef(v.source, ref) : sameRef(this.serviceOf(v), ref));
    return (v) => (counted(v) && matches(v) && v.workload !== undefined ? refKey(v.workload) : undefined);
  }

  /** A TrafficSplit's root service requests, grouped by backend service. */
  splitBackends(root: EntityRef): Selector {
    return (v) => (v.reporter === 'source' && sameRef(v.service, root) && v.backend !== undefined ? refKey(v.backend) : undefined);
  }

  /** Topology edges, keyed `from\0to`: workload -> service, and service -> workload. */
  topologyEdges(): Selector[] {
    const edge = (from: EntityRef, to: EntityRef): string => `${refKey(from)}\u0000${refKey(to)}`;
    const callers: Selector = (v) => {
      const service = this.serviceOf(v);
      return counted(v) && service !== undefined ? edge(v.source, service) : undefined;
    };
    const servers: Selector = (v) => {
      const service = this.serviceOf(v);
      return counted(v) && service !== undefined && v.workload !== undefined ? edge(service, v.workload) : undefined;
    };
    return [callers, servers];
  }

  /** Every entity the retained series mention. */
  seenEntities(): EntityRef[] {
    const seen = new Map<string, EntityRef>();
    for (const series of this.store.allSeries()) {
      const v = viewOf(series);
      for (const ref of [v.source, this.serviceOf(v), v.workload, v.backend]) if (ref !== undefined) seen.set(refKey(ref), ref);
    }
    return [...seen.values()];
  }

  // --- aggregation -------------------------------------------------------------

  /** Golden metrics per group over the last `ticks` ticks. */
  window(select: Selector, ticks: number): Map<string, Golden> {
    const to = this.latestTick;
    const from = to - ticks;
    const seconds = (ticks * this.store.intervalMs) / 1000;
    const out = new Map<string, Golden>();
    for (const [group, acc] of this.accumulate(select, from, to)) out.set(group, this.golden(acc, seconds));
    return out;
  }

  /** One point per tick over the last `ticks` ticks, for the resource selection (single group ''). */
  series(select: Selector, ticks: number): Array<{ tick: number; golden: Golden }> {
    const to = this.latestTick;
    const points: Array<{ tick: number; golden: Golden }> = [];
    const seconds = this.store.intervalMs / 1000;
    for (let t = Math.max(to - ticks + 1, 1); t <= to; t++) {
      const acc = this.accumulate(select, t - 1, t).get('');
      points.push({ tick: t, golden: this.golden(acc ?? { vector: new Float64Array(this.store.width), failures: 0 }, seconds) });
    }
    return points;
  }

  private accumulate(select: Selector, from: number, to: number): Map<string, Accumulator> {
    const width = this.store.width;
    const groups = new Map<string, Accumulator>();
    const increase = new Float64Array(width);
    for (const series of this.store.allSeries()) {
      const view = viewOf(series);
      const group = select(view);
      if (group === undefined) continue;
      increase.fill(0);
      if (!this.store.addIncrease(series, from, to, increase)) continue;
      let acc = groups.get(group);
      if (acc === undefined) groups.set(group, (acc = { vector: new Float64Array(width), failures: 0 }));
      for (let i = 0; i < width; i++) acc.vector[i]! += increase[i]!;
      if (view.failure) acc.failures += increase[REQUESTS]!;
    }
    return groups;
  }

  private golden(acc: Accumulator, seconds: number): Golden {
    const requests = Math.round(acc.vector[REQUESTS]!);
    const failures = Math.round(acc.failures);
    const quantile = (q: number): number | null => histogramQuantile(q, this.store.bounds, acc.vector);
    return {
      requests,
      successCount: requests - failures,
      failureCount: failures,
      rps: seconds > 0 ? requests / seconds : 0,
      successRate: requests > 0 ? (requests - failures) / requests : null,
      p50: quantile(0.5),
      p90: quantile(0.9),
      p95: quantile(0.95),
      p99: quantile(0.99),
    };
  }
}

/**
 * Prometheus' histogram_quantile over cumulative bucket counts (seconds), in
 * milliseconds: linear interpolation inside the bucket holding the rank; a rank
 * in the +Inf bucket answers the highest finite bound.
 */
export function histogramQuantile(q: number, bounds: readonly number[], vector: Float64Array): number | null {
  const total = vector[DURATION_COUNT]!;
  if (!(total > 0) || bounds.length === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const count = vector[FIRST_BUCKET + i]!;
    if (count >= rank) {
      const width = count - lowerCount;
      const seconds = width > 0 ? lowerBound + (bounds[i]! - lowerBound) * ((rank - lowerCount) / width) : bounds[i]!;
      return round3(seconds * 1000);
    }
    lowerBound = bounds[i]!;
    lowerCount = count;
  }
  return round3(bounds[bounds.length - 1]! * 1000);
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Success rate -> health: no traffic is `idle`. */
export function health(golden: Golden | undefined): 'idle' | 'healthy' | 'degraded' | 'failing' {
  if (golden === undefined || golden.successRate === null) return 'idle';
  if (golden.successRate >= 0.99) return 'healthy';
  return golden.successRate >= 0.95 ? 'degraded' : 'failing';
}
