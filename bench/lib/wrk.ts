/** Running wrk (closed-loop max throughput) and reading its `--latency` report. */
import { runToCompletion } from './processes.js';

export interface LatencyPercentilesMs {
  p50: number;
  p75: number;
  p90: number;
  p99: number;
}

export interface WrkResult {
  requestsPerSec: number;
  requests: number;
  latencyMs: LatencyPercentilesMs;
  /** Connect + read + write + timeout socket errors. */
  socketErrors: number;
  /** Responses outside 2xx/3xx. */
  badResponses: number;
}

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSec: number;
}

// wrk prints times with these units (see its stats.c format_time).
const TIME_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const TIME = String.raw`([\d.]+)(us|ms|s|m|h)`;

function toMs(value: string, unit: string): number {
  return Number(value) * (TIME_UNIT_MS[unit] ?? Number.NaN);
}

function percentile(output: string, percent: number): number {
  const match = new RegExp(String.raw`^\s*${percent}(?:\.0+)?%\s+${TIME}\s*$`, 'm').exec(output);
  if (!match) throw new Error(`wrk output has no ${percent}% latency (was --latency given?):\n${output}`);
  return toMs(match[1], match[2]);
}

export function parseWrkOutput(output: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)\s*$/m.exec(output);
  const requests = new RegExp(String.raw`^\s*(\d+) requests in ${TIME}`, 'm').exec(output);
  if (!rps || !requests) throw new Error(`unrecognised wrk output:\n${output}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(requests[1]),
    latencyMs: { p50: percentile(output, 50), p75: percentile(output, 75), p90: percentile(output, 90), p99: percentile(output, 99) },
    socketErrors: socket ? socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0) : 0,
    badResponses: bad ? Number(bad[1]) : 0,
  };
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(options.threads), '-c', String(options.connections), '-d', `${options.durationSec}s`, '--latency', options.url];
  return parseWrkOutput(await runToCompletion('wrk', 'wrk', args));
}
