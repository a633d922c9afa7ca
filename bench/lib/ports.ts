/** Finding free loopback ports and waiting for a server to accept connections. */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ManagedProcess } from './processes.js';

export const LOOPBACK = '127.0.0.1';

/**
 * A port the kernel just handed out and we released again. Servers we do not
 * control (nginx, haproxy, weft) must be told a concrete port, so there is a
 * small window in which another process could take it; good enough on a
 * benchmark machine.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

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
