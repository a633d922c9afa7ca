/**
 * Free TCP ports for processes we start and must tell a port in advance
 * (tests, `weft perf study`, benchmarks), taken below the kernel's ephemeral
 * range.
 *
 * A port found by listening on port 0 comes from the ephemeral range, where
 * any outgoing connection made meanwhile may take it before the process we
 * start binds it (EADDRINUSE on a proxy's listener, seen in CI). Below that
 * range ports are only ever bound on purpose: picked at random and checked on
 * 0.0.0.0, two pickers collide only if they pick the same port within the
 * same moments. The demo's port plan starts at 20000, above this range.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const RANGE_START = 16_000;
const RANGE_END = Math.min(20_000, ephemeralLow());
const MAX_ATTEMPTS = 2_000;
/** Never hand out a port twice in one process (its first user may still be starting). */
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether `port` can be bound on every address right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel picks (port 0): the fallback on a machine whose ephemeral range leaves no room below it. */
async function kernelPicked(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `count` distinct ports, each free on 0.0.0.0 when returned. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  if (RANGE_END <= RANGE_START) {
    while (ports.length < count) {
      const port = await kernelPicked();
      if (!ports.includes(port)) ports.push(port);
    }
    return ports;
  }
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt === MAX_ATTEMPTS) throw new Error(`no ${count} free ports in ${RANGE_START}-${RANGE_END - 1} after ${MAX_ATTEMPTS} tries`);
    const port = RANGE_START + Math.floor(Math.random() * (RANGE_END - RANGE_START));
    if (handedOut.has(port) || !(await portFree(port))) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
