/**
 * Splices two sockets into a bidirectional byte tunnel with backpressure (stream
 * pipe), half-close propagation, an idle timeout, and byte counts. Used by the
 * TCP proxy and by HTTP upgrades (WebSocket) once both sides switched protocols.
 */
import type { Socket } from 'node:net';
import { Deadline, type DeadlineWheel } from '../../lib/timers.js';

export interface TunnelResult {
  /** Bytes from `a` to `b`. */
  aToB: number;
  bToA: number;
  /** Why it ended: a side closed, an error, or the idle timeout. */
  reason: 'closed' | 'error' | 'idle_timeout';
}

export interface TunnelOptions {
  idleTimeoutMs: number;
  wheel: DeadlineWheel;
  onClose(result: TunnelResult): void;
}

export function tunnel(a: Socket, b: Socket, options: TunnelOptions): { destroy(): void } {
  const result: TunnelResult = { aToB: 0, bToA: 0, reason: 'closed' };
  let closed = false;
  const idle = new Deadline(options.wheel, () => end('idle_timeout'));
  const end = (reason: TunnelResult['reason']): void => {
    if (closed) return;
    closed = true;
    result.reason = reason;
    idle.disarm();
    a.destroy();
    b.destroy();
    options.onClose(result);
  };
  idle.arm(options.idleTimeoutMs);
  a.on('data', (chunk: Buffer) => {
    result.aToB += chunk.length;
    idle.extend(options.idleTimeoutMs);
  });
  b.on('data', (chunk: Buffer) => {
    result.bToA += chunk.length;
    idle.extend(options.idleTimeoutMs);
  });
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => end('error'));
  b.on('error', () => end('error'));
  // The tunnel is over when both directions are closed (a half-close travels through pipe's end()).
  let ends = 0;
  const onEnd = (): void => {
    if (++ends === 2) end('closed');
  };
  a.on('end', onEnd);
  b.on('end', onEnd);
  a.on('close', () => end('closed'));
  b.on('close', () => end('closed'));
  if (a.isPaused()) a.resume();
  if (b.isPaused()) b.resume();
  return { destroy: () => end('closed') };
}
