/**
 * Server-sent events over fetch (not EventSource, which cannot send the
 * Authorization header): reads `event:`/`id:`/`data:` blocks and hands each to
 * `onEvent` until the stream ends, the signal aborts or the server fails.
 */
import { ApiFailure, authHeaders } from './client';

export interface ServerEvent {
  event: string;
  id: string;
  data: string;
}

export async function readEvents(path: string, onEvent: (event: ServerEvent) => void, signal: AbortSignal, lastEventId?: string): Promise<void> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
  if (lastEventId !== undefined && lastEventId !== '') headers['last-event-id'] = lastEventId;
  const res = await fetch(path, { headers, signal });
  if (!res.ok || res.body === null) throw new ApiFailure(res.status, `GET ${path}: HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffered.indexOf('\n\n')) !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const parsed = parseBlock(block);
      if (parsed !== undefined) onEvent(parsed);
    }
  }
}

function parseBlock(block: string): ServerEvent | undefined {
  const event: ServerEvent = { event: 'message', id: '', data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue; // comments are heartbeats
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  event.data = data.join('\n');
  return event;
}
