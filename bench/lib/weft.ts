/** Starting `weft proxy` from a generated bootstrap. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { makeTempDir, spawnManaged } from './processes.js';
import { repoRoot } from './paths.js';
import type { RunningServer } from './server.js';

const WEFT_START_TIMEOUT_MS = 60_000;

export const WEFT_CLI = join(repoRoot, 'dist', 'src', 'cli', 'weft.js');

export function assertWeftBuilt(): void {
  if (!existsSync(WEFT_CLI)) throw new Error(`${WEFT_CLI} not found: build first (npm run build)`);
}

/** Ports a bootstrap is generated for, chosen before weft starts. */
export interface WeftPorts {
  listener: number;
  admin: number;
}

/** `listenTimeoutMs`: how long weft may take to listen (longer on a shared, loaded machine). */
export async function startWeft(name: string, concurrency: number, bootstrapFor: (ports: WeftPorts) => string, listenTimeoutMs?: number): Promise<RunningServer> {
  const dir = makeTempDir(name);
  const ports: WeftPorts = { listener: await freePort(), admin: await freePort() };
  const configPath = join(dir, 'bootstrap.yaml');
  writeFileSync(configPath, bootstrapFor(ports));
  const child = spawnManaged(name, WEFT_CLI, ['proxy', '--config', configPath, '--concurrency', String(concurrency)]);
  // weft validates its bootstrap in a child process first; on a shared, busy machine that can take tens of seconds.
  await waitForPort(ports.listener, child, listenTimeoutMs ?? WEFT_START_TIMEOUT_MS);
  return { name, port: ports.listener, process: child };
}
