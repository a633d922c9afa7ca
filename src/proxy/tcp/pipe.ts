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
  // Half-close: a FIN read from one side is passed on (pipe's end()) while the other direction keeps
  // flowing; without this Node would end a socket's writable side as soon as it reads a FIN.
  a.allowHalfOpen = true;
  b.allowHalfOpen = true;
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
  // A socket closes by itself once it has read its peer's FIN and flushed everything written to it
  // (so destroying nothing early truncates no data); the tunnel is over when both have. A socket that
  // closes any other way (reset, destroyed) takes the other one with it.
  const onClose = (socket: Socket) => (): void => {
    if (!socket.readableEnded || !socket.writableFinished || (a.destroyed && b.destroyed)) end('closed');
  };
  a.on('close', onClose(a));
  b.on('close', onClose(b));
  if (a.isPaused()) a.resume();
  if (b.isPaused()) b.resume();
  return { destroy: () => end('closed') };
}
