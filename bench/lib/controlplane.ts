/** Starting `weft controlplane` on the embedded store, in a temp dir, on free loopback ports. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { makeTempDir, spawnManaged, type ManagedProcess } from './processes.js';
import { WEFT_CLI } from './weft.js';

export interface RunningControlPlane {
  readonly process: ManagedProcess;
  readonly xdsPort: number;
  readonly apiPort: number;
  /** The admin API token the control plane wrote into its data dir. */
  readonly adminToken: string;
}

export interface ControlPlaneOptions {
  /** Write a V8 CPU profile (node --cpu-prof) into this directory when the control plane exits. */
  cpuProfileDir?: string;
  /** WEFT_LOG_LEVEL for the control plane. */
  logLevel?: string;
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<RunningControlPlane> {
  const dir = makeTempDir('controlplane');
  const [xdsPort, apiPort] = [await freePort(), await freePort()];
  const nodeArgs = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  const child = spawnManaged(
    'weft-controlplane',
    process.execPath,
    [...nodeArgs, WEFT_CLI, 'controlplane', '--data-dir', dir, '--xds-port', String(xdsPort), '--no-xds-tls', '--api-port', String(apiPort)],
    { ...process.env, WEFT_LOG_LEVEL: options.logLevel ?? 'info' },
  );
  await waitForPort(apiPort, child, 30_000);
  await waitForPort(xdsPort, child, 30_000);
  return { process: child, xdsPort, apiPort, adminToken: readFileSync(join(dir, 'admin-token'), 'utf8').trim() };
}
