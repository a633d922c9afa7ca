/**
 * Renders a stats view in the three formats Envoy's admin serves:
 *  - `/stats` text: `name: value` lines sorted by name (counters and gauges
 *    together), then histogram summaries `name: P0(nan,1) P25(nan,1.5) ...`.
 *    The first number of each pair is Envoy's "interval" quantile (since the
 *    last stats flush); Weft has no flush interval, so it is always `nan`.
 *  - `/stats?format=json`: `{"stats":[{"name","value"}...,{"histograms":{...}}]}`.
 *  - `/stats/prometheus`: text exposition 0.0.4 with Envoy's tag extraction.
 * `filter` is matched (unanchored, like Envoy's) against the dotted stat name,
 * or the family name for labelled metrics; pass a RegExp without `g`/`y`.
 */
import type { HistogramData } from './histogram.js';
import { SUPPORTED_QUANTILES } from './histogram.js';
import type { LabelledFamily, StatsView } from './stats-store.js';
import { extractTags } from './tag-extraction.js';

function included(name: string, filter: RegExp | undefined): boolean {
  return filter === undefined || filter.test(name);
}

/** Envoy prints quantiles with `{:g}`: six significant digits, no trailing zeros. */
function formatQuantile(value: number): string {
  return Number.isNaN(value) ? 'nan' : String(Number(value.toPrecision(6)));
}

function sortedEntries<V>(map: ReadonlyMap<string, V>, filter: RegExp | undefined): Array<[string, V]> {
  const out: Array<[string, V]> = [];
  for (const entry of map) if (included(entry[0], filter)) out.push(entry);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function scalarEntries(view: StatsView, filter: RegExp | undefined): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [name, c] of view.counters) if (included(name, filter)) out.push([name, c.value()]);
  for (const [name, g] of view.gauges) if (included(name, filter)) out.push([name, g.value()]);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function renderText(view: StatsView, filter?: RegExp): string {
  let out = '';
  for (const [name, value] of scalarEntries(view, filter)) out += `${name}: ${value}\n`;
  for (const [name, histogram] of sortedEntries(view.histograms, filter)) {
    if (histogram.count === 0) {
      out += `${name}: No recorded values\n`;
      continue;
    }
    const parts = SUPPORTED_QUANTILES.map((q) => `P${q}(nan,${formatQuantile(histogram.quantile(q / 100))})`);
    out += `${name}: ${parts.join(' ')}\n`;
  }
  return out;
}

interface JsonQuantile {
  interval: number | null;
  cumulative: number | null;
}

export function renderJson(view: StatsView, filter?: RegExp): unknown {
  const stats: unknown[] = scalarEntries(view, filter).map(([name, value]) => ({ name, value }));
  const histograms = sortedEntries(view.histograms, filter);
  if (histograms.length > 0) {
    const computed = histograms.map(([name, histogram]) => ({
      name,
      values: SUPPORTED_QUANTILES.map((q): JsonQuantile => ({
        interval: null,
        cumulative: histogram.count === 0 ? null : Number(histogram.quantile(q / 100).toPrecision(6)),
      })),
    }));
    stats.push({ histograms: { supported_quantiles: SUPPORTED_QUANTILES, computed_quantiles: computed } });
  }
  return { stats };
}

// ---------------------------------------------------------------------------
// Prometheus

type FamilyType = 'counter' | 'gauge' | 'histogram';

interface PromSeries {
  /** Rendered `a="x",b="y"` (escaped), without braces; may be empty. */
  readonly labels: string;
  readonly value: number | HistogramData;
}

interface PromFamily {
  readonly type: FamilyType;
  readonly help?: string;
  readonly series: PromSeries[];
}

function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function formatSample(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function braces(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

function renderFamily(name: string, family: PromFamily): string {
  let out = family.help === undefined ? '' : `# HELP ${name} ${escapeHelp(family.help)}\n`;
  out += `# TYPE ${name} ${family.type}\n`;
  const series = family.series.slice().sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
  for (const { labels, value } of series) {
    if (typeof value === 'number') {
      out += `${name}${braces(labels)} ${formatSample(value)}\n`;
      continue;
    }
    const sep = labels === '' ? '' : ',';
    let cumulative = 0;
    for (let i = 0; i < value.bounds.length; i++) {
      cumulative += value.counts[i]!;
      out += `${name}_bucket{${labels}${sep}le="${value.bounds[i]}"} ${cumulative}\n`;
    }
    out += `${name}_bucket{${labels}${sep}le="+Inf"} ${value.count}\n`;
    out += `${name}_sum${braces(labels)} ${formatSample(value.sum)}\n`;
    out += `${name}_count${braces(labels)} ${value.count}\n`;
  }
  return out;
}

/** Groups the dotted stats of one type into tag-extracted Prometheus families. */
function envoyFamilies<S>(
  stats: ReadonlyMap<string, S>,
  type: FamilyType,
  filter: RegExp | undefined,
  value: (stat: S) => number | HistogramData,
): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  for (const [statName, stat] of stats) {
    if (!included(statName, filter)) continue;
    const { name, labels } = extractTags(statName);
    let family = families.get(name);
    if (family === undefined) families.set(name, (family = { type, series: [] }));
    family.series.push({
      labels: labels.map(([label, value]) => `${label}="${escapeLabelValue(value)}"`).join(','),
      value: value(stat),
    });
  }
  return families;
}

function labelledFamily<M>(family: LabelledFamily<M>, type: FamilyType, value: (m: M) => number | HistogramData): PromFamily {
  const series: PromSeries[] = [];
  for (const s of family.series.values()) {
    const labels = family.labelNames.map((label, i) => `${label}="${escapeLabelValue(s.labels[i]!)}"`).join(',');
    series.push({ labels, value: value(s.metric) });
  }
  return { type, help: family.help, series };
}

export function renderPrometheus(view: StatsView, filter?: RegExp): string {
  let out = '';
  const groups: Array<Map<string, PromFamily>> = [
    envoyFamilies(view.counters, 'counter', filter, (c) => c.value()),
    envoyFamilies(view.gauges, 'gauge', filter, (g) => g.value()),
    envoyFamilies(view.histograms, 'histogram', filter, (h) => h),
  ];
  for (const families of groups) {
    for (const [name, family] of sortedEntries(families, undefined)) out += renderFamily(name, family);
  }
  for (const [name, family] of sortedEntries(view.labelledCounters, filter)) {
    out += renderFamily(name, labelledFamily(family, 'counter', (c) => c.value()));
  }
  for (const [name, family] of sortedEntries(view.labelledHistograms, filter)) {
    out += renderFamily(name, labelledFamily(family, 'histogram', (h) => h));
  }
  return out;
}
