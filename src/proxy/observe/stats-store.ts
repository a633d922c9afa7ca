/**
 * The stats store: the one implementation of the interfaces in stats.ts.
 *
 * Hot path: a Counter is an object with a number field and `inc` is a property
 * increment; a Histogram records into a fixed bucket array. Names are resolved
 * to objects once, when a component declares its stats (`defineStats`), never
 * per increment. Labelled `weft_*` metrics cache one child per label tuple;
 * callers on the hot path `bind(labels)` once and keep the child.
 *
 * Rendering (Envoy text, Envoy JSON, Prometheus) lives in stats-render.ts.
 * Worker processes send `snapshot()`s to the primary, which renders a
 * `merge(...)` of them (counters, gauges and histogram buckets summed).
 */
import type { Counter, Gauge, Histogram, LabelledCounter, LabelledHistogram, StatsScope } from './stats.js';
import { ENVOY_MS_BUCKETS, HistogramData, PROMETHEUS_SECONDS_BUCKETS, type HistogramSnapshot } from './histogram.js';
import { renderJson, renderPrometheus, renderText } from './stats-render.js';

/** A labelled counter whose children can be pre-bound: `bind(labels)` returns the cached child. */
export interface BindableLabelledCounter extends LabelledCounter {
  bind(labels: readonly string[]): Counter;
}

/** A pre-bound labelled histogram child; samples are in seconds. */
export interface SecondsHistogram {
  record(seconds: number): void;
}

export interface BindableLabelledHistogram extends LabelledHistogram {
  bind(labels: readonly string[]): SecondsHistogram;
}

export interface StatsStore extends StatsScope {
  labelledCounter(name: string, help: string, labelNames: readonly string[]): BindableLabelledCounter;
  /** Buckets (seconds): PROMETHEUS_SECONDS_BUCKETS. */
  labelledHistogram(name: string, help: string, labelNames: readonly string[]): BindableLabelledHistogram;
  /** Envoy's `/stats` text: counters and gauges as sorted `name: value` lines, then histogram summaries. */
  renderText(filter?: RegExp): string;
  /** Envoy's `/stats?format=json` shape. */
  renderJson(filter?: RegExp): unknown;
  /** Prometheus text exposition 0.0.4: Envoy-style tagged `envoy_*` metrics, then the labelled `weft_*` metrics. */
  renderPrometheus(filter?: RegExp): string;
  snapshot(): StatsSnapshot;
  /** A read-only view of this store plus the given snapshots, for rendering. */
  merge(snapshots: readonly StatsSnapshot[]): StatsStore;
}

/** Plain data (structured-clone and JSON safe) for sending stats between processes. */
export interface StatsSnapshot {
  counters: Array<[string, number]>;
  gauges: Array<[string, number]>;
  histograms: Array<[string, HistogramSnapshot]>;
  labelledCounters: Array<LabelledFamilySnapshot<number>>;
  labelledHistograms: Array<LabelledFamilySnapshot<HistogramSnapshot>>;
}

export interface LabelledFamilySnapshot<V> {
  name: string;
  help: string;
  labelNames: string[];
  series: Array<[string[], V]>;
}

// ---------------------------------------------------------------------------
// Metric objects

class CounterCell implements Counter {
  count = 0;
  inc(n = 1): void {
    this.count += n;
  }
  value(): number {
    return this.count;
  }
}

class GaugeCell implements Gauge {
  current = 0;
  set(v: number): void {
    this.current = v;
  }
  inc(n = 1): void {
    this.current += n;
  }
  dec(n = 1): void {
    this.current -= n;
  }
  value(): number {
    return this.current;
  }
}

/** Envoy-style histogram: samples in milliseconds, Envoy's default buckets. */
class MsHistogram extends HistogramData implements Histogram {
  constructor() {
    super(ENVOY_MS_BUCKETS);
  }
}

class SecondsHistogramCell extends HistogramData implements SecondsHistogram {
  constructor() {
    super(PROMETHEUS_SECONDS_BUCKETS);
  }
}

export interface LabelledSeries<M> {
  readonly labels: readonly string[];
  readonly metric: M;
}

const PROMETHEUS_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROMETHEUS_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** One labelled metric family: children cached by their label values joined with NUL. */
export class LabelledFamily<M> {
  readonly series = new Map<string, LabelledSeries<M>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly create: () => M,
  ) {
    if (!PROMETHEUS_NAME.test(name)) throw new Error(`invalid Prometheus metric name '${name}'`);
    for (const label of labelNames) {
      if (!PROMETHEUS_LABEL.test(label) || label === 'le') throw new Error(`invalid Prometheus label name '${label}' on ${name}`);
    }
  }

  child(labels: readonly string[]): M {
    const key = labels.join('\u0000');
    const existing = this.series.get(key);
    if (existing !== undefined) return existing.metric;
    if (labels.length !== this.labelNames.length) {
      throw new Error(`${this.name} takes ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${labels.length}`);
    }
    const metric = this.create();
    this.series.set(key, { labels: labels.slice(), metric });
    return metric;
  }
}

class LabelledCounterImpl extends LabelledFamily<CounterCell> implements BindableLabelledCounter {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, () => new CounterCell());
  }
  inc(labels: readonly string[], n = 1): void {
    this.child(labels).count += n;
  }
  bind(labels: readonly string[]): Counter {
    return this.child(labels);
  }
}

class LabelledHistogramImpl extends LabelledFamily<SecondsHistogramCell> implements BindableLabelledHistogram {
  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, () => new SecondsHistogramCell());
  }
  record(labels: readonly string[], seconds: number): void {
    this.child(labels).record(seconds);
  }
  bind(labels: readonly string[]): SecondsHistogram {
    return this.child(labels);
  }
}

/** What the renderers read. */
export interface StatsView {
  readonly counters: ReadonlyMap<string, Counter>;
  readonly gauges: ReadonlyMap<string, Gauge>;
  readonly histograms: ReadonlyMap<string, HistogramData>;
  readonly labelledCounters: ReadonlyMap<string, LabelledFamily<Counter>>;
  readonly labelledHistograms: ReadonlyMap<string, LabelledFamily<HistogramData>>;
}

// ---------------------------------------------------------------------------
// Store and scopes

class PrefixedScope implements StatsScope {
  constructor(
    private readonly store: StatsStoreImpl,
    private readonly prefix: string,
  ) {}
  counter(name: string): Counter {
    return this.store.counter(this.prefix + name);
  }
  gauge(name: string): Gauge {
    return this.store.gauge(this.prefix + name);
  }
  histogram(name: string): Histogram {
    return this.store.histogram(this.prefix + name);
  }
  scope(prefix: string): StatsScope {
    return new PrefixedScope(this.store, this.prefix + prefix);
  }
}

class StatsStoreImpl implements StatsStore, StatsView {
  readonly counters = new Map<string, CounterCell>();
  readonly gauges = new Map<string, GaugeCell>();
  readonly histograms = new Map<string, MsHistogram>();
  readonly labelledCounters = new Map<string, LabelledCounterImpl>();
  readonly labelledHistograms = new Map<string, LabelledHistogramImpl>();

  constructor(private readonly readOnly: boolean) {}

  counter(name: string): Counter {
    this.assertWritable();
    return this.counterCell(name);
  }

  gauge(name: string): Gauge {
    this.assertWritable();
    return this.gaugeCell(name);
  }

  histogram(name: string): Histogram {
    this.assertWritable();
    return this.histogramCell(name);
  }

  scope(prefix: string): StatsScope {
    this.assertWritable();
    return new PrefixedScope(this, prefix);
  }

  labelledCounter(name: string, help: string, labelNames: readonly string[]): BindableLabelledCounter {
    this.assertWritable();
    return this.family(this.labelledCounters, name, help, labelNames, LabelledCounterImpl);
  }

  labelledHistogram(name: string, help: string, labelNames: readonly string[]): BindableLabelledHistogram {
    this.assertWritable();
    return this.family(this.labelledHistograms, name, help, labelNames, LabelledHistogramImpl);
  }

  renderText(filter?: RegExp): string {
    return renderText(this, filter);
  }

  renderJson(filter?: RegExp): unknown {
    return renderJson(this, filter);
  }

  renderPrometheus(filter?: RegExp): string {
    return renderPrometheus(this, filter);
  }

  snapshot(): StatsSnapshot {
    const familySnapshot = <M, V>(family: LabelledFamily<M>, value: (m: M) => V): LabelledFamilySnapshot<V> => ({
      name: family.name,
      help: family.help,
      labelNames: family.labelNames.slice(),
      series: Array.from(family.series.values(), (s): [string[], V] => [s.labels.slice(), value(s.metric)]),
    });
    return {
      counters: Array.from(this.counters, ([name, c]): [string, number] => [name, c.count]),
      gauges: Array.from(this.gauges, ([name, g]): [string, number] => [name, g.current]),
      histograms: Array.from(this.histograms, ([name, h]): [string, HistogramSnapshot] => [name, h.toSnapshot()]),
      labelledCounters: Array.from(this.labelledCounters.values(), (f) => familySnapshot(f, (c) => c.count)),
      labelledHistograms: Array.from(this.labelledHistograms.values(), (f) => familySnapshot(f, (h) => h.toSnapshot())),
    };
  }

  merge(snapshots: readonly StatsSnapshot[]): StatsStore {
    const merged = new StatsStoreImpl(true);
    merged.absorb(this.snapshot());
    for (const snapshot of snapshots) merged.absorb(snapshot);
    return merged;
  }

  private absorb(snapshot: StatsSnapshot): void {
    for (const [name, v] of snapshot.counters) this.counterCell(name).count += v;
    for (const [name, v] of snapshot.gauges) this.gaugeCell(name).current += v;
    for (const [name, h] of snapshot.histograms) this.histogramCell(name).add(h);
    for (const f of snapshot.labelledCounters) {
      const family = this.family(this.labelledCounters, f.name, f.help, f.labelNames, LabelledCounterImpl);
      for (const [labels, v] of f.series) family.inc(labels, v);
    }
    for (const f of snapshot.labelledHistograms) {
      const family = this.family(this.labelledHistograms, f.name, f.help, f.labelNames, LabelledHistogramImpl);
      for (const [labels, h] of f.series) family.child(labels).add(h);
    }
  }

  private counterCell(name: string): CounterCell {
    let cell = this.counters.get(name);
    if (cell === undefined) this.counters.set(name, (cell = new CounterCell()));
    return cell;
  }

  private gaugeCell(name: string): GaugeCell {
    let cell = this.gauges.get(name);
    if (cell === undefined) this.gauges.set(name, (cell = new GaugeCell()));
    return cell;
  }

  private histogramCell(name: string): MsHistogram {
    let cell = this.histograms.get(name);
    if (cell === undefined) this.histograms.set(name, (cell = new MsHistogram()));
    return cell;
  }

  private family<F extends LabelledFamily<unknown>>(
    families: Map<string, F>,
    name: string,
    help: string,
    labelNames: readonly string[],
    Family: new (name: string, help: string, labelNames: readonly string[]) => F,
  ): F {
    const existing = families.get(name);
    if (existing === undefined) {
      const created = new Family(name, help, labelNames);
      families.set(name, created);
      return created;
    }
    if (existing.labelNames.join(',') !== labelNames.join(',')) {
      throw new Error(`${name} is already registered with labels (${existing.labelNames.join(', ')})`);
    }
    return existing;
  }

  private assertWritable(): void {
    if (this.readOnly) throw new Error('a merged stats view is read-only: record into the live store');
  }
}

export function createStatsStore(): StatsStore {
  return new StatsStoreImpl(false);
}
