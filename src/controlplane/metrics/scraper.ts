/**
 * Every interval, scrapes `/stats/prometheus` of each connected proxy that
 * told the control plane its admin address (node metadata ADMIN_ADDRESS), and
 * records its `weft_requests_total` and `weft_request_duration_seconds` series
 * in the series store at one shared tick. A proxy that cannot be scraped keeps
 * its history; its error shows in the proxy detail.
 */
import type { Logger } from 'pino';
import type { ProxyStatus } from '../xds/proxy-status.js';
import { adminBaseUrl, proxyIdentity } from './proxy-identity.js';
import { parsePrometheusText, type Sample } from './prometheus-text.js';
import { DURATION_COUNT, DURATION_SUM, FIRST_BUCKET, REQUESTS, SeriesStore, type SeriesLabels } from './series-store.js';

const REQUESTS_TOTAL = 'weft_requests_total';
const DURATION = 'weft_request_duration_seconds';
const FAMILY_NAMES = new Set([REQUESTS_TOTAL, `${DURATION}_bucket`, `${DURATION}_sum`, `${DURATION}_count`]);
/** A scrape slower than this is abandoned (the next tick tries again). */
const SCRAPE_TIMEOUT_MS = 3000;

export interface ScraperOptions {
  store: SeriesStore;
  proxies: () => ProxyStatus[];
  log: Logger;
  /** Default: the store's interval. */
  intervalMs?: number;
}

export interface Scraper {
  /** One scrape round now (tests; the timer calls it too). */
  scrapeOnce(): Promise<void>;
  close(): void;
}

export function startScraper(options: ScraperOptions): Scraper {
  const { store, log } = options;
  let running: Promise<void> | undefined;
  const round = async (): Promise<void> => {
    const tick = store.advance(Date.now());
    // One target per node, even while a reconnecting proxy briefly has two streams.
    const proxies = [...new Map(options.proxies().map((p) => [p.nodeId, p])).values()];
    await Promise.all(proxies.map(async (proxy) => {
      const base = adminBaseUrl(proxy);
      if (base === undefined) return;
      const identity = proxyIdentity(proxy);
      const target = store.target(proxy.nodeId, identity);
      try {
        const response = await fetch(`${base}/stats/prometheus`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const samples = parsePrometheusText(await response.text(), FAMILY_NAMES);
        if (store.tick !== tick) return; // a slow scrape that outlived its tick is dropped
        store.setBounds(bucketBounds(samples));
        store.record(target, toVectors(samples, store.bounds));
      } catch (err) {
        target.lastError = `scraping ${base}/stats/prometheus: ${(err as Error).message}`;
        log.debug({ nodeId: proxy.nodeId, err: target.lastError }, 'metrics scrape failed');
      }
    }));
    store.completedTick = tick;
  };
  const scrapeOnce = (): Promise<void> => {
    // Rounds never overlap: a slow round delays the next instead of piling up.
    running ??= round().finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void scrapeOnce(), options.intervalMs ?? store.intervalMs);
  timer.unref();
  return {
    scrapeOnce,
    close: () => clearInterval(timer),
  };
}

function bucketBounds(samples: readonly Sample[]): number[] {
  const bounds = new Set<number>();
  for (const s of samples) {
    if (s.name !== `${DURATION}_bucket`) continue;
    const le = Number(s.labels['le']);
    if (Number.isFinite(le)) bounds.add(le);
  }
  return [...bounds];
}

/** The labels the golden metrics keep; protocol and response flags are summed away. */
function seriesLabels(labels: Record<string, string>): SeriesLabels {
  return {
    reporter: labels['reporter'] === 'destination' ? 'destination' : 'source',
    sourceWorkload: labels['source_workload'] ?? 'unknown',
    destinationService: labels['destination_service'] ?? 'unknown',
    destinationWorkload: labels['destination_workload'] ?? 'unknown',
    destinationCluster: labels['destination_cluster'] ?? 'unknown',
    responseCode: Number(labels['response_code'] ?? 0) || 0,
  };
}

function seriesKey(l: SeriesLabels): string {
  return [l.reporter, l.sourceWorkload, l.destinationService, l.destinationWorkload, l.destinationCluster, l.responseCode].join('\u0000');
}

/** Samples -> one vector per series key, summed over the labels we drop. */
export function toVectors(samples: readonly Sample[], bounds: readonly number[]): Map<string, { labels: SeriesLabels; vector: Float64Array }> {
  const width = FIRST_BUCKET + bounds.length;
  const boundIndex = new Map(bounds.map((b, i) => [b, i]));
  const out = new Map<string, { labels: SeriesLabels; vector: Float64Array }>();
  for (const sample of samples) {
    const labels = seriesLabels(sample.labels);
    const key = seriesKey(labels);
    let entry = out.get(key);
    if (entry === undefined) out.set(key, (entry = { labels, vector: new Float64Array(width) }));
    const v = entry.vector;
    if (sample.name === REQUESTS_TOTAL) v[REQUESTS]! += sample.value;
    else if (sample.name.endsWith('_count')) v[DURATION_COUNT]! += sample.value;
    else if (sample.name.endsWith('_sum')) v[DURATION_SUM]! += sample.value;
    else {
      const index = boundIndex.get(Number(sample.labels['le']));
      if (index !== undefined) v[FIRST_BUCKET + index]! += sample.value;
    }
  }
  return out;
}
