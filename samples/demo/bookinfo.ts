/**
 * `weft demo`: BookInfo on the mesh. Starts the control plane (embedded SQLite
 * store under the data dir), applies samples/bookinfo/mesh.yaml through its API
 * (`weft apply -f -`), then every BookInfo instance with a `weft proxy` sidecar
 * configured over ADS, waits until a product page comes back whole, prints where
 * everything is, and sends a steady trickle of requests to productpage through
 * its sidecar. SIGINT/SIGTERM/SIGHUP stop the traffic, then the services and
 * sidecars, then the control plane, wait for every process, and exit 0.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HEALTH_PATH } from '../../src/controlplane/api/paths.js';
import { DEFAULT_PORT_BASE, planBookinfo, plannedPorts, type BookinfoPlan, type Instance } from './bookinfo-plan.js';
import { logTail, ProcessGroup, type ManagedChild } from './processes.js';
import { reviewsServedBy, startTraffic, type Traffic } from './traffic.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
/** dist/samples/demo -> the repo's samples/bookinfo (YAML is not compiled). */
export const MESH_FILE = here('../../../samples/bookinfo/mesh.yaml');
const SERVE = here('../bookinfo/serve.js');
const WEFT = here('../../src/cli/weft.js');

const NAMESPACE = 'default';
const STARTUP_TIMEOUT_MS = 60_000;
const SUMMARY_EVERY_MS = 10_000;
const PROXY_DRAIN_SECONDS = 2;

export interface BookinfoDemoOptions {
  portBase?: number;
  dataDir: string;
  requestsPerSecond: number;
}

export async function runBookinfoDemo(options: BookinfoDemoOptions): Promise<void> {
  const plan = planBookinfo(readFileSync(MESH_FILE, 'utf8'), options.portBase ?? DEFAULT_PORT_BASE);
  await assertPortsFree(plan);
  const dirs = prepareDataDir(resolve(options.dataDir));

  // Stopped in this order: the traffic, the services with their sidecars, the control plane.
  let traffic: Traffic | undefined;
  const meshMembers: ManagedChild[] = [];
  const controlPlane: ManagedChild[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= (async () => {
      await traffic?.stop();
      await group.stopAll([meshMembers, controlPlane]);
      process.stdout.write('demo stopped\n');
      process.exit(code);
    })());
  const group = new ProcessGroup(dirs.logs, (child, how) => {
    process.stderr.write(`demo: ${child.spec.name} exited unexpectedly (${how}); stopping the demo. Its log (${child.logFile}):\n${logTail(child.logFile)}\n`);
    void stop(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  const apiUrl = `http://127.0.0.1:${plan.apiPort}`;
  try {
    controlPlane.push(group.start({
      name: 'controlplane',
      command: WEFT,
      args: ['controlplane', '--data-dir', dirs.store, '--xds-port', String(plan.xdsPort), '--api-port', String(plan.apiPort)],
    }));
    await waitUntil(`the control plane API at ${apiUrl}`, async () => (await fetch(`${apiUrl}${HEALTH_PATH}`, probeInit())).ok);
    // The control plane wrote its first admin token into its data dir; `weft` reads it from there.
    await group.run({ name: 'apply', command: WEFT, args: ['apply', '-f', '-', '--server', apiUrl], stdin: plan.manifest, env: { WEFT_DATA_DIR: dirs.store } });
    for (const instance of plan.instances) {
      meshMembers.push(group.start(sidecarSpec(instance, plan)), group.start(appSpec(instance)));
    }
    for (const instance of plan.instances) {
      await waitUntil(`the ${instance.workload} sidecar`, async () => (await fetch(`http://127.0.0.1:${instance.adminPort}/ready`, probeInit())).ok);
    }
    const productPage = `http://127.0.0.1:${productpage(plan).inboundPort}/productpage`;
    await waitUntil(`a whole product page from ${productPage}`, async () => {
      const res = await fetch(productPage, probeInit());
      const body = await res.text();
      return res.ok && reviewsServedBy(body) !== undefined && !body.includes('currently unavailable');
    });
    process.stdout.write(banner(plan, productPage, dirs, options.requestsPerSecond));
    traffic = startTraffic({ url: productPage, requestsPerSecond: options.requestsPerSecond, summaryEveryMs: SUMMARY_EVERY_MS, print: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    if (stopping !== undefined) return; // a signal or a crashed child ended the start-up; stop() reports and exits
    process.stderr.write(`demo: ${(err as Error).message}\nLogs: ${dirs.logs}\n`);
    await stop(1);
  }
}

/** A fresh store and logs each run: the demo's state is mesh.yaml, nothing older. */
function prepareDataDir(dataDir: string): { store: string; logs: string } {
  const dirs = { store: join(dataDir, 'store'), logs: join(dataDir, 'logs') };
  for (const dir of Object.values(dirs)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  return dirs;
}

/** Every sidecar shares this host, so each gets its own admin and capture ports. */
function sidecarSpec(instance: Instance, plan: BookinfoPlan): { name: string; command: string; args: string[] } {
  return {
    name: `${instance.workload}-sidecar`,
    command: WEFT,
    args: [
      'proxy', '--workload', instance.workload, '--namespace', NAMESPACE, '--control-plane', `127.0.0.1:${plan.xdsPort}`,
      '--admin-port', String(instance.adminPort), '--outbound-port', String(instance.outboundPort), '--inbound-port', String(instance.inboundPort),
      '--drain-timeout', String(PROXY_DRAIN_SECONDS),
    ],
  };
}

/** The application calls other services by name (`http://reviews:9080`, the flags' defaults) through its sidecar's outbound port. */
function appSpec(instance: Instance): { name: string; command: string; args: string[] } {
  return {
    name: instance.workload,
    command: process.execPath,
    args: [
      SERVE, instance.app, '--port', String(instance.appPort), '--version', instance.version, '--instance', instance.workload,
      '--outbound', `http://127.0.0.1:${instance.outboundPort}`,
    ],
  };
}

function productpage(plan: BookinfoPlan): Instance {
  const instance = plan.instances.find((i) => i.app === 'productpage');
  if (instance === undefined) throw new Error(`${MESH_FILE}: no Workload of the productpage service`);
  return instance;
}

async function assertPortsFree(plan: BookinfoPlan): Promise<void> {
  for (const { port, use } of plannedPorts(plan)) {
    const free = await new Promise<boolean>((resolvePort) => {
      const server = createServer();
      server.once('error', () => resolvePort(false));
      server.listen(port, '0.0.0.0', () => server.close(() => resolvePort(true)));
    });
    if (!free) throw new Error(`port ${port} (${use}) is in use; is another demo running? Try --port-base with another value`);
  }
}

const probeInit = (): RequestInit => ({ signal: AbortSignal.timeout(2000) });

/** Polls `probe` (errors count as "not yet") until it holds; throws after the startup timeout. */
async function waitUntil(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${STARTUP_TIMEOUT_MS / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Relative to the working directory when under it, else absolute. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

function banner(plan: BookinfoPlan, productPage: string, dirs: { store: string; logs: string }, rps: number): string {
  const logs = dirs.logs;
  const apiUrl = `http://127.0.0.1:${plan.apiPort}`;
  const width = Math.max(...plan.instances.map((i) => i.workload.length));
  const rows = plan.instances.map((i) =>
    `    ${i.workload.padEnd(width)}  app :${i.appPort}  admin http://127.0.0.1:${i.adminPort}/config_dump  outbound :${i.outboundPort}  inbound :${i.inboundPort}`);
  const server = plan.apiPort === 15080 ? '' : ` --server ${apiUrl}`;
  return [
    '',
    'BookInfo is running on the Weft mesh.',
    `  productpage (through its sidecar)  ${productPage}`,
    `                                     ${productPage.replace('/productpage', '/api/v1/products/0/reviews')}`,
    `  control plane API                  ${apiUrl}   try: export WEFT_DATA_DIR=${displayPath(dirs.store)}; weft get trafficsplits${server}; weft proxies${server}`,
    `                                     (the admin API token is in ${displayPath(join(dirs.store, 'admin-token'))})`,
    `  control plane xDS (ADS)            127.0.0.1:${plan.xdsPort}`,
    '  instances and their sidecars:',
    ...rows,
    `  logs                               ${displayPath(logs)}/`,
    '',
    `reviews traffic is split 50/50 between v2 (black stars) and v3 (red stars); ${rps} requests/s go to productpage.`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
