/**
 * A minimal server-sent-events reader over node:http, independent of the
 * server's code: parses `id:`, `event:`, `data:` blocks and counts comments.
 */
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { once } from 'node:events';

export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  ended = false;
  private waiters: Array<() => void> = [];
  private buffer = '';

  private constructor(
    private readonly request: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.feed(chunk));
    response.on('end', () => this.finish());
    response.on('close', () => this.finish());
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const request = get(url, { headers: { accept: 'text/event-stream', ...headers } });
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    return new SseClient(request, response);
  }

  /** Resolves once `count` events have arrived (or rejects after `timeoutMs`). */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<SseEvent[]> {
    await this.waitUntil(() => this.events.length >= count, timeoutMs, `${count} events (have ${this.events.length})`);
    return this.events.slice(0, count);
  }

  async waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`SSE: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.request.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { id: '', event: 'message', data: '' };
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++;
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') {
            event[field] = value;
            isEvent = true;
          }
        }
      }
      if (isEvent) this.events.push(event);
    }
    this.wake();
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
