/** HAProxy as the reference proxy: one thread, keep-alive on both sides. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, LOOPBACK, waitForPort } from './ports.js';
import { makeTempDir, spawnManaged } from './processes.js';
import type { RunningServer } from './server.js';

export async function startHaproxy(upstreamPort: number): Promise<RunningServer> {
  const name = 'haproxy';
  const dir = makeTempDir(name);
  const port = await freePort();
  const conf = `
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 300s

frontend bench
  bind ${LOOPBACK}:${port}
  default_backend upstream

backend upstream
  server nginx ${LOOPBACK}:${upstreamPort}
`;
  const confPath = join(dir, 'haproxy.cfg');
  writeFileSync(confPath, conf);
  // -db: stay in the foreground, as our child.
  const child = spawnManaged(name, 'haproxy', ['-db', '-f', confPath]);
  await waitForPort(port, child);
  return { name, port, process: child };
}
