/**
 * A worker thread running one shard (see threads.ts): it receives
 * `{ type: 'run', spec }` and `{ type: 'stop' }`, and posts progress, then the
 * result or an error.
 */
import { parentPort } from 'node:worker_threads';
import { runShard } from './shard.js';
import type { WorkerMessage, WorkerRequest } from './threads.js';

const port = parentPort;
if (port === null) throw new Error('src/perf/worker.js runs as a worker thread');

const stop = new AbortController();
const post = (message: WorkerMessage): void => port.postMessage(message);

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'stop') return stop.abort();
  runShard(request.spec, { signal: stop.signal, onProgress: (progress) => post({ type: 'progress', progress }) }).then(
    (result) => post({ type: 'result', result }),
    (error: unknown) => post({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
