/**
 * The `weft perf agent` control protocol, plain HTTP/1.1 + JSON:
 *
 *   POST /v1/run   body AgentRunRequest; the answer streams NDJSON AgentEvents:
 *                  `progress` lines, then one `result` or `error` line
 *   POST /v1/stop  stops every run in progress; each ends with a partial result
 *   GET  /healthz  `ok`
 *
 * Agents start after `startInMs` from receiving the request rather than at a
 * wall-clock time, so clock skew between hosts does not matter; the coordinator
 * sends every agent its request at the same moment.
 */
import type { ShardProgress, ShardResult, ShardSpec } from './shard-result.js';

export interface AgentRunRequest {
  spec: Omit<ShardSpec, 'startAtMs'>;
  startInMs: number;
}

export type AgentEvent = { type: 'progress'; progress: ShardProgress } | { type: 'result'; result: ShardResult } | { type: 'error'; message: string };

export const AGENT_DEFAULT_PORT = 15090;
