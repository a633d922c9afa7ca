/**
 * Runs a spec on this host: in this thread when `threads` is 1, otherwise one
 * shard per worker thread, with progress and results merged exactly.
 */
import { Worker } from 'node:worker_threads';
import { runShard, type ShardHooks } from './shard.js';
import { mergeShardResults, ProgressMerger, splitSpec, type ShardProgress, type ShardResult, type ShardSpec } from './shard-result.js';

export type WorkerRequest = { type: 'run'; spec: ShardSpec } | { type: 'stop' };
export type WorkerMessage = { type: 'progress'; progress: ShardProgress } | { type: 'result'; result: ShardResult } | { type: 'error'; message: string };

const WORKER_URL = new URL('./worker.js', import.meta.url);

export async function runLocal(spec: ShardSpec, hooks: ShardHooks = {}): Promise<ShardResult> {
  if (spec.threads <= 1) return runShard(spec, hooks);
  const shards = splitSpec(spec, spec.threads, 1);
  const merger = new ProgressMerger(shards.length, (progress) => hooks.onProgress?.(progress));
  try {
    return mergeShardResults(await Promise.all(shards.map((shard, k) => runInWorker(shard, hooks.signal, (p) => merger.add(k, p)))));
  } finally {
    merger.stop();
  }
}

function runInWorker(spec: ShardSpec, signal: AbortSignal | undefined, onProgress: (progress: ShardProgress) => void): Promise<ShardResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    const stop = (): void => worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
    signal?.addEventListener('abort', stop, { once: true });
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', stop);
      fn();
      void worker.terminate();
    };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') onProgress(message.progress);
      else if (message.type === 'result') settle(() => resolve(message.result));
      else settle(() => reject(new Error(message.message)));
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`load worker exited with code ${code} before its result`))));
    worker.postMessage({ type: 'run', spec } satisfies WorkerRequest);
    if (signal?.aborted) stop();
  });
}
