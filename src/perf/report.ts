/** The human-readable end-of-run summary and progress lines for `weft perf run`. */
import { PERCENTILES, type LatencySummaryMs } from './histogram.js';
import type { LoadProgress, LoadResult } from './run.js';

/** A generator stall this long is worth telling the reader about (a few ms is ordinary scheduling). */
const STALL_WARNING_MS = 50;

const ms = (value: number): string => (value >= 100 ? value.toFixed(1) : value.toFixed(3));

export function formatProgressLine(progress: LoadProgress): string {
  const seconds = (progress.elapsedMs / 1000).toFixed(0);
  return `${seconds}s/${(progress.totalMs / 1000).toFixed(0)}s ${progress.phase === 'warmup' ? '(warm-up) ' : ''}${progress.rps.toFixed(0)} rps  p99 ${ms(progress.p99Ms)} ms  ${progress.errors} errors`;
}

/** One-line verdicts a reader must not miss: partial run, rate not reached, errors (unless `withErrors` is false). */
export function resultWarnings(result: LoadResult, withErrors = true): string[] {
  const warnings: string[] = [];
  if (result.partial) warnings.push(`partial result: stopped after ${(result.measuredMs / 1000).toFixed(1)} s of the measured window`);
  if (result.rateReached === false) {
    warnings.push(`rate not reached: achieved ${result.achievedRps.toFixed(1)} of ${result.requestedRps} rps (${result.requests.sent} of ${result.requests.scheduled} requests sent in the window)`);
  }
  if (result.generatorMaxStallMs >= STALL_WARNING_MS) {
    warnings.push(`the load generator itself stalled for up to ${result.generatorMaxStallMs.toFixed(0)} ms (busy machine or GC): the corrected tail may include that time`);
  }
  // Failed connection attempts (reconnects while the target is down) are not requests: a count
  // of "requests failed" that included them would exceed the requests sent.
  let requests = 0;
  let connects = 0;
  for (const [kind, n] of Object.entries(result.errors)) {
    if (kind.startsWith('connect: ')) connects += n;
    else requests += n;
  }
  if (withErrors && requests + connects > 0) {
    const counts = [requests > 0 ? `${requests} requests failed` : '', connects > 0 ? `${connects} connection attempts failed` : ''].filter((c) => c !== '');
    warnings.push(`${counts.join(', ')}: ${Object.entries(result.errors).map(([kind, n]) => `${kind} ${n}`).join(', ')}`);
  }
  return warnings;
}

export function formatResult(result: LoadResult): string {
  const { options } = result;
  const lines: string[] = [];
  const rate = options.rate === undefined ? 'max (closed loop)' : `${options.rate} rps (open loop)`;
  lines.push(`Target      ${options.method} ${options.url} (${options.protocol})`);
  lines.push(`Load        ${rate}, ${options.connections} connections, ${result.generators} generator thread(s)${options.agents.length ? ` on ${options.agents.length} agents` : ''}`);
  lines.push(`Window      ${(result.measuredMs / 1000).toFixed(1)} s from ${result.startTime}${options.warmupMs ? ` after ${options.warmupMs / 1000} s warm-up` : ''}`);
  const requested = result.requestedRps === undefined ? '' : ` of ${result.requestedRps} requested`;
  lines.push(`Throughput  ${result.achievedRps.toFixed(1)} rps${requested} (${result.requests.completed} responses)`);
  lines.push(`Status      ${Object.entries(result.statusCodes).map(([code, n]) => `${code}: ${n}`).join('  ') || '-'}`);
  lines.push('');
  lines.push(latencyTable(result.latencyMs, result.uncorrectedLatencyMs, options.mode === 'open-loop'));
  const warnings = resultWarnings(result);
  if (warnings.length) lines.push('', ...warnings.map((w) => `! ${w}`));
  return `${lines.join('\n')}\n`;
}

function latencyTable(corrected: LatencySummaryMs, uncorrected: LatencySummaryMs, openLoop: boolean): string {
  const rows: Array<[string, number, number]> = [
    ['min', corrected.min, uncorrected.min],
    ['mean', corrected.mean, uncorrected.mean],
    ...PERCENTILES.map(([key, percentile]): [string, number, number] => [`p${percentile}`, corrected[key], uncorrected[key]]),
    ['max', corrected.max, uncorrected.max],
  ];
  const header = openLoop ? ['latency ms', 'corrected', 'uncorrected'] : ['latency ms', 'value'];
  const cells = rows.map(([name, c, u]) => (openLoop ? [name, ms(c), ms(u)] : [name, ms(c)]));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: readonly string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ');
  return [line(header), ...cells.map(line)].join('\n');
}
