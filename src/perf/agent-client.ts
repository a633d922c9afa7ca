/** The coordinator's side of the agent protocol (agent-protocol.ts): split, start together, merge. */
import http from 'node:http';
import type { AgentEvent, AgentRunRequest } from './agent-protocol.js';
import type { ShardHooks } from './shard.js';
import { mergeShardResults, ProgressMerger, splitSpec, type ShardProgress, type ShardResult, type ShardSpec } from './shard-result.js';

const START_IN_MS = 500;

export async function runOnAgents(spec: ShardSpec, agents: readonly string[], hooks: ShardHooks = {}): Promise<ShardResult> {
  const shares = splitSpec(spec, agents.length, spec.threads);
  const merger = new ProgressMerger(agents.length, (progress) => hooks.onProgress?.(progress));
  const stopAll = (): void => {
    for (const agent of agents) void agentPost(agent, '/v1/stop', '').catch(() => {});
  };
  hooks.signal?.addEventListener('abort', stopAll, { once: true });
  try {
    const results = await Promise.all(
      shares.map(({ startAtMs: _ignored, ...share }, k) =>
        runOnAgent(agents[k]!, { spec: share, startInMs: START_IN_MS }, (p) => merger.add(k, p)).catch((error: unknown) => {
          // One agent failing ends the run everywhere.
          stopAll();
          throw error;
        }),
      ),
    );
    return mergeShardResults(results);
  } finally {
    merger.stop();
    hooks.signal?.removeEventListener('abort', stopAll);
  }
}

function runOnAgent(agent: string, request: AgentRunRequest, onProgress: (progress: ShardProgress) => void): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => reject(new Error(`agent ${agent}: ${reason}`));
    const req = http.request(agentUrl(agent, '/v1/run'), { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => fail(`HTTP ${res.statusCode}: ${text.trim()}`));
        return;
      }
      let buffered = '';
      let done = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.trim() === '') continue;
          const event = JSON.parse(line) as AgentEvent;
          if (event.type === 'progress') onProgress(event.progress);
          else if (event.type === 'result') {
            done = true;
            resolve(event.result);
          } else {
            done = true;
            fail(event.message);
          }
        }
      });
      res.on('end', () => done || fail('connection closed before the result'));
      res.on('error', (error) => done || fail(error.message));
    });
    req.on('error', (error) => fail(`cannot reach the agent: ${error.message}`));
    req.end(JSON.stringify(request));
  });
}

function agentUrl(agent: string, path: string): string {
  return `http://${agent}${path}`;
}

function agentPost(agent: string, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(agentUrl(agent, path), { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });
}
