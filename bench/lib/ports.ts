/** Free ports (below the ephemeral range, see src/lib/free-ports.ts) and waiting for a server to accept connections. */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './processes.js';

export const LOOPBACK = '127.0.0.1';

export { freePort } from '../../src/lib/free-ports.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once `port` accepts a connection; fails early if `owner` exits first. */
export async function waitForPort(port: number, owner: ManagedProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (owner.hasExited) {
      await owner.exited;
      throw new Error(`${owner.name} exited before listening on ${port}:\n${owner.stderr() || owner.stdout()}`);
    }
    if (await canConnect(port)) return;
    await sleep(20);
  }
  throw new Error(`${owner.name} did not listen on ${port} within ${timeoutMs} ms:\n${owner.stderr() || owner.stdout()}`);
}
