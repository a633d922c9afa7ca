/**
 * Performance runs for the UI: `POST /api/v1/perf/runs` starts the load
 * generator (src/perf `runLoad`, worker threads, so the API's event loop stays
 * free) with `weft perf` options; `GET .../{id}/events` streams its progress as
 * server-sent events (`progress`, then `result` or `failure`); `GET .../{id}`
 * returns the run with its SMP result document. One run at a time (it shares
 * the host with the mesh it measures); the last runs are kept in memory.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { LoadOptions, LoadProgress, LoadResult, SmpDocument } from '../../perf/index.js';
import { ApiError, badRequest, notFound } from './status.js';
import { PERF_RUNS_PATH, RunIdParams } from './ui-schemas.js';

const KEEP_RUNS = 20;
/** SSE comment lines on quiet streams. */
const HEARTBEAT_MS = 15_000;

/** The request body: `weft perf run`'s flags as JSON (durations as `10s`, `500ms`). */
export const PerfRunRequest = Type.Object({
  url: Type.String({ minLength: 1 }),
  name: Type.Optional(Type.String({ maxLength: 253 })),
  protocol: Type.Optional(Type.Union([Type.Literal('http1'), Type.Literal('http2'), Type.Literal('grpc')])),
  rate: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  max: Type.Optional(Type.Boolean({ description: 'closed loop, as fast as possible (no rate)' })),
  duration: Type.Optional(Type.String({ description: 'e.g. 30s' })),
  warmup: Type.Optional(Type.String()),
  connections: Type.Optional(Type.Integer({ minimum: 1 })),
  threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  method: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Array(Type.String(), { description: '`Name: value` each' })),
  body: Type.Optional(Type.String()),
  timeout: Type.Optional(Type.String()),
}, { additionalProperties: false });
export type PerfRunRequest = Static<typeof PerfRunRequest>;

/** A `progress` event: where the run is and what it measured over the last second or so. */
export interface PerfProgressEvent {
  elapsedMs: number;
  /** Warm-up plus measured duration. */
  durationMs: number;
  percent: number;
  phase: 'warmup' | 'measure';
  /** Responses so far. */
  requests: number;
  errors: number;
  rps: number;
  p99Ms: number;
}

interface PerfRun {
  id: string;
  name: string | undefined;
  state: 'running' | 'done' | 'failed';
  options: PerfRunRequest;
  startedAt: string;
  finishedAt?: string;
  error?: string;
  progress?: PerfProgressEvent;
  load?: LoadResult;
  result?: SmpDocument;
  listeners: Set<(event: string, data: unknown) => void>;
  abort: AbortController;
}

/** The library API the routes drive; injectable so tests of the routes can use a fast fake of our own code. */
export interface PerfEngine {
  runLoad(options: Partial<LoadOptions> & { url: string }, hooks: { onProgress?: (p: LoadProgress) => void; signal?: AbortSignal }): Promise<LoadResult>;
  toSmpResult(result: LoadResult, context: { name?: string }): SmpDocument;
  parseDuration(option: string, text: string): number;
  parseHeader(option: string, text: string): [string, string];
  resolveLoadOptions(input: Partial<LoadOptions> & { url: string }): LoadOptions;
  isOptionError(err: unknown): err is Error & { option: string; reason: string };
}

/** The real engine, loaded on first use (the control plane does not need it otherwise). */
async function loadEngine(): Promise<PerfEngine> {
  const perf = await import('../../perf/index.js');
  return {
    runLoad: perf.runLoad,
    toSmpResult: perf.toSmpResult,
    parseDuration: perf.parseDuration,
    parseHeader: perf.parseHeader,
    resolveLoadOptions: perf.resolveLoadOptions,
    isOptionError: (err): err is Error & { option: string; reason: string } => err instanceof perf.LoadOptionError,
  };
}

export interface PerfRoutes {
  /** Aborts a running run (server shutdown). */
  close(): void;
}

export function registerPerfRoutes(app: FastifyInstance, engine?: PerfEngine): PerfRoutes {
  const runs = new Map<string, PerfRun>();
  let loaded: Promise<PerfEngine> | undefined = engine === undefined ? undefined : Promise.resolve(engine);
  const getEngine = (): Promise<PerfEngine> => (loaded ??= loadEngine());
  const running = (): PerfRun | undefined => [...runs.values()].find((r) => r.state === 'running');

  const emit = (run: PerfRun, event: string, data: unknown): void => {
    for (const listener of run.listeners) listener(event, data);
  };

  app.post<{ Body: PerfRunRequest }>(PERF_RUNS_PATH, { schema: { body: PerfRunRequest } }, async (request, reply) => {
    const body = request.body;
    const perf = await getEngine();
    const options = toLoadOptions(perf, body);
    const busy = running();
    if (busy !== undefined) throw new ApiError(409, 'Conflict', `performance run ${busy.id} is still running; one run at a time`);
    const run: PerfRun = { id: randomUUID(), name: body.name, state: 'running', options: body, startedAt: new Date().toISOString(), listeners: new Set(), abort: new AbortController() };
    runs.set(run.id, run);
    for (const id of [...runs.keys()].slice(0, Math.max(0, runs.size - KEEP_RUNS))) runs.delete(id);
    void perf.runLoad(options, {
      signal: run.abort.signal,
      onProgress: (progress) => {
        run.progress = progressEvent(progress);
        emit(run, 'progress', run.progress);
      },
    }).then(
      (load) => {
        run.load = load;
        run.result = perf.toSmpResult(load, body.name === undefined ? {} : { name: body.name });
        run.state = 'done';
        run.finishedAt = new Date().toISOString();
        emit(run, 'result', publicRun(run));
      },
      (err: unknown) => {
        run.state = 'failed';
        run.error = err instanceof Error ? err.message : String(err);
        run.finishedAt = new Date().toISOString();
        emit(run, 'failure', { id: run.id, error: run.error });
      },
    );
    reply.code(202);
    return publicRun(run);
  });

  app.get(PERF_RUNS_PATH, () => ({ items: [...runs.values()].reverse().map(publicRun) }));

  const find = (id: string): PerfRun => {
    const run = runs.get(id);
    if (run === undefined) throw notFound(`performance run ${id} not found (runs are kept in memory, the last ${KEEP_RUNS})`);
    return run;
  };

  app.get<{ Params: RunIdParams }>(`${PERF_RUNS_PATH}/:id`, { schema: { params: RunIdParams } }, (request) => publicRun(find(request.params.id)));

  app.get<{ Params: RunIdParams }>(`${PERF_RUNS_PATH}/:id/events`, { schema: { params: RunIdParams } }, (request, reply) => {
    streamRun(find(request.params.id), reply);
    return reply;
  });

  return {
    close() {
      for (const run of runs.values()) if (run.state === 'running') run.abort.abort();
    },
  };
}

function progressEvent(p: LoadProgress): PerfProgressEvent {
  const percent = p.totalMs > 0 ? Math.min(100, Math.round((p.elapsedMs / p.totalMs) * 1000) / 10) : 0;
  return { elapsedMs: p.elapsedMs, durationMs: p.totalMs, percent, phase: p.phase, requests: p.responses, errors: p.errors, rps: Math.round(p.rps * 10) / 10, p99Ms: p.p99Ms };
}

/** The run as the API shows it (no internals). */
function publicRun(run: PerfRun): Record<string, unknown> {
  return {
    id: run.id,
    ...(run.name === undefined ? {} : { name: run.name }),
    state: run.state,
    options: run.options,
    startedAt: run.startedAt,
    ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
    ...(run.error === undefined ? {} : { error: run.error }),
    ...(run.progress === undefined ? {} : { progress: run.progress }),
    ...(run.load === undefined ? {} : { summary: { achievedRps: run.load.achievedRps, latencyMs: run.load.latencyMs, statusCodes: run.load.statusCodes, errors: run.load.errors } }),
    ...(run.result === undefined ? {} : { result: run.result }),
  };
}

/** SSE: the latest progress at once, every later one, then `result` or `failure` and the end. */
function streamRun(run: PerfRun, reply: FastifyReply): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  let seq = 0;
  const write = (event: string, data: unknown): void => {
    if (!res.writableEnded && !res.destroyed) res.write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const finish = (): void => {
    clearInterval(heartbeat);
    run.listeners.delete(listener);
    if (!res.writableEnded) res.end();
  };
  const listener = (event: string, data: unknown): void => {
    write(event, data);
    if (event !== 'progress') finish();
  };
  if (run.progress !== undefined) write('progress', run.progress);
  if (run.state === 'done') return void listener('result', publicRun(run));
  if (run.state === 'failed') return void listener('failure', { id: run.id, error: run.error });
  run.listeners.add(listener);
  res.on('close', finish);
}

/** The request's `weft perf` flags -> load options; a bad one is a 400 naming the field. */
function toLoadOptions(perf: PerfEngine, body: PerfRunRequest): Partial<LoadOptions> & { url: string } {
  try {
    const input: Partial<LoadOptions> & { url: string } = {
      url: body.url,
      ...(body.protocol === undefined ? {} : { protocol: body.protocol }),
      ...(body.max === true ? {} : { rate: body.rate ?? 100 }),
      ...(body.duration === undefined ? { durationMs: 10_000 } : { durationMs: perf.parseDuration('duration', body.duration) }),
      ...(body.warmup === undefined ? {} : { warmupMs: perf.parseDuration('warmup', body.warmup) }),
      ...(body.connections === undefined ? {} : { connections: body.connections }),
      ...(body.threads === undefined ? {} : { threads: body.threads }),
      ...(body.method === undefined ? {} : { method: body.method }),
      ...(body.headers === undefined ? {} : { headers: body.headers.map((h, i) => perf.parseHeader(`headers[${i}]`, h)) }),
      ...(body.body === undefined ? {} : { body: Buffer.from(body.body) }),
      ...(body.timeout === undefined ? {} : { timeoutMs: perf.parseDuration('timeout', body.timeout) }),
    };
    perf.resolveLoadOptions(input);
    return input;
  } catch (err) {
    if (perf.isOptionError(err)) throw badRequest(`performance run options: ${err.message}`, [{ field: fieldOf(err.option), message: err.reason }]);
    throw err;
  }
}

/** The library names options by LoadOptions fields; the request uses the CLI's names. */
function fieldOf(option: string): string {
  return ({ durationMs: 'duration', warmupMs: 'warmup', timeoutMs: 'timeout' } as Record<string, string>)[option] ?? option;
}
