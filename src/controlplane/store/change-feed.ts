/**
 * In-process fan-out of committed changes to watchers, for backends that see
 * every write themselves (the embedded store). Each watcher gets its backlog
 * first, then live events, in order, exactly once, delivered on a microtask so
 * a watcher never runs inside the writer's call and may itself write.
 */
import type { Logger } from 'pino';
import type { WatchEvent } from './store.js';

export class ChangeFeed {
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly log: Logger) {}

  /** `backlog` must end exactly where live events begin (read both in one synchronous step). */
  subscribe(onEvent: (event: WatchEvent) => void, backlog: WatchEvent[]): { close(): void } {
    const subscriber = new Subscriber(onEvent, backlog, this.log);
    this.subscribers.add(subscriber);
    return {
      close: () => {
        subscriber.closed = true;
        this.subscribers.delete(subscriber);
      },
    };
  }

  publish(event: WatchEvent): void {
    for (const subscriber of this.subscribers) subscriber.enqueue(event);
  }

  closeAll(): void {
    for (const subscriber of this.subscribers) subscriber.closed = true;
    this.subscribers.clear();
  }
}

class Subscriber {
  closed = false;
  private queue: WatchEvent[] = [];
  private scheduled = false;

  constructor(
    private readonly onEvent: (event: WatchEvent) => void,
    backlog: WatchEvent[],
    private readonly log: Logger,
  ) {
    for (const event of backlog) this.enqueue(event);
  }

  enqueue(event: WatchEvent): void {
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const events = this.queue;
    this.queue = [];
    for (const event of events) {
      if (this.closed) return;
      try {
        this.onEvent(event);
      } catch (err) {
        // A failing watcher must not break the writer or the other watchers.
        this.log.error({ err, revision: event.revision, type: event.type }, 'watch handler threw; event skipped for this watcher');
      }
    }
  }
}
