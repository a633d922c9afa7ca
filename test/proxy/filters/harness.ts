/**
 * Test doubles for the filter interface (our own, so faking it is fair): recording
 * FilterCallbacks, a seeded random, a manual clock and a factory context over the
 * real stats store.
 */
import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import type { DownstreamInfo, FilterCallbacks, FilterFactoryContext, FilterRequest } from '../../../src/proxy/filters/filter.js';
import { createStatsStore, type StatsStore } from '../../../src/proxy/observe/stats-store.js';
import { seededRandom } from '../../support/random.js';

export { seededRandom };

export interface LocalReply {
  status: number;
  body: string;
  headers: ReadonlyArray<readonly [string, string]>;
  details: string;
}

export class RecordingCallbacks implements FilterCallbacks {
  readonly localReplies: LocalReply[] = [];
  readonly flags: string[] = [];
  readonly responseHeaders: Array<[string, string]> = [];
  continueCount = 0;
  readonly remoteAddress = '127.0.0.1';
  readonly downstream: DownstreamInfo;

  constructor(
    readonly now: () => number = () => 0,
    downstream: Partial<DownstreamInfo> = {},
  ) {
    this.downstream = { remoteIp: '127.0.0.1', localIp: '127.0.0.1', localPort: 8080, peerPrincipal: undefined, ...downstream };
  }

  sendLocalReply(status: number, body: string, headers: ReadonlyArray<readonly [string, string]>, details: string): void {
    this.localReplies.push({ status, body, headers, details });
  }

  continueDecoding(): void {
    this.continueCount++;
  }

  addResponseFlag(flag: string): void {
    this.flags.push(flag);
  }

  addResponseHeader(name: string, value: string): void {
    this.responseHeaders.push([name, value]);
  }

  responseHeader(name: string): string | undefined {
    return this.responseHeaders.find(([n]) => n === name)?.[1];
  }
}

export class ManualClock {
  ms = 1_000;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const HCM_PREFIX = 'http.test.';

export function makeContext(options: { now?: () => number; random?: () => number } = {}): {
  context: FilterFactoryContext;
  store: StatsStore;
} {
  const store = createStatsStore();
  return {
    store,
    context: { stats: store.scope(HCM_PREFIX), rootStats: store, now: options.now ?? (() => 0), random: options.random ?? seededRandom(1) },
  };
}

export function makeRequest(headers: Record<string, string> = {}, line: { method?: string; path?: string } = {}): FilterRequest {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) raw.push(name, value);
  return { method: line.method ?? 'GET', path: line.path ?? '/', authority: 'example.com', headers: HeaderMap.fromRaw(raw), scheme: 'http', remoteAddress: '127.0.0.1:40000' };
}
