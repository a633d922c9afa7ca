/**
 * Watch streams as server-sent events: one `event: ADDED|MODIFIED|DELETED`,
 * `id: <store revision>`, `data: <resource JSON>` block per change, in store
 * order. A client resumes by sending the last id back (Last-Event-ID header, or
 * `?resourceVersion=`): the store replays every change after it. Comment lines
 * keep idle connections (and the proxies between) from timing out.
 */
import type { FastifyReply } from 'fastify';
import type pino from 'pino';
import type { Resource } from '../model/resource.js';
import type { Store, WatchEvent } from '../store/store.js';

/** A client that lets this much pile up unread is cut off; it can resume from its last id. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface WatchRequest {
  /** Which resources this stream carries. */
  matches(resource: Resource): boolean;
  /** Replay changes after this revision; undefined = from now. */
  fromRevision: string | undefined;
}

export class WatchStreams {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly store: Store,
    private readonly heartbeatMs: number,
    private readonly log: pino.Logger,
  ) {}

  /**
   * Takes the response over until the client goes away or the server closes.
   * Subscribes before hijacking, so a refused start (e.g. a compacted revision)
   * still answers with a normal error status.
   */
  serve(reply: FastifyReply, request: WatchRequest): void {
    const res = reply.raw;
    const send = (event: WatchEvent): void => {
      if (res.writableEnded || res.destroyed || !request.matches(event.resource)) return;
      res.write(`id: ${event.revision}\nevent: ${event.type}\ndata: ${JSON.stringify(event.resource)}\n\n`);
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.log.warn({ buffered: res.writableLength }, 'watch client too slow; closing its stream');
        res.destroy();
      }
    };
    const subscription = this.store.watch(send, request.fromRevision);
    reply.hijack();
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.heartbeatMs);
    heartbeat.unref();
    const finish = (): void => {
      if (!this.open.delete(finish)) return;
      clearInterval(heartbeat);
      subscription.close();
      res.end();
    };
    this.open.add(finish);
    res.on('close', finish);
  }

  /** Ends every open stream (server shutdown). */
  closeAll(): void {
    for (const finish of [...this.open]) finish();
  }
}
