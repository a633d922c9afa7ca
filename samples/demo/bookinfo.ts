/**
 * `weft demo`: BookInfo on the mesh. Starts the control plane (embedded SQLite
 * store under the data dir), applies samples/bookinfo/mesh.yaml through its API
 * (`weft apply -f -`), then every BookInfo instance with a `weft proxy` sidecar
 * configured over ADS, and the ingress gateway proxy. The mesh is STRICT mTLS
 * with TrafficTargets allowing exactly BookInfo's call graph, so each proxy gets
 * its workload's registration token (a 0600 file) to obtain its certificate; a
 * proxy is ready once it holds it. The demo waits until product pages come back
 * whole through the gateway, prints where everything is, and sends a steady
 * trickle of requests to productpage through the gateway. SIGINT/SIGTERM/SIGHUP
 * stop the traffic, then the proxies and services, then the control plane,
 * wait for every process, and exit 0.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../../src/cli/api-client.js';
import { ADMIN_TOKEN_FILE, HEALTH_PATH } from '../../src/controlplane/api/paths.js';
import { DEFAULT_PORT_BASE, planBookinfo, plannedPorts, type BookinfoPlan, type GatewayInstance, type Instance } from './bookinfo-plan.js';
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
/** Whole product pages in a row before the demo calls itself ready: both reviews versions must have answered whole. */
const WHOLE_PAGES_TO_START = 6;

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
      args: ['controlplane', '--data-dir', dirs.store, '--xds-port', String(plan.xdsPort), '--xds-tls-port', String(plan.xdsTlsPort), '--api-port', String(plan.apiPort)],
    }));
    await waitUntil(`the control plane API at ${apiUrl}`, async () => (await fetch(`${apiUrl}${HEALTH_PATH}`, probeInit())).ok);
    // The control plane wrote its first admin token into its data dir; `weft` reads it from there.
    await group.run({ name: 'apply', command: WEFT, args: ['apply', '-f', '-', '--server', apiUrl], stdin: plan.manifest, env: { WEFT_DATA_DIR: dirs.store } });
    const tokenFile = await registrationTokens(apiUrl, dirs, [...plan.instances.map((i) => i.workload), plan.gateway.name]);
    for (const instance of plan.instances) {
      meshMembers.push(group.start(sidecarSpec(instance, plan, tokenFile(instance.workload))), group.start(appSpec(instance)));
    }
    meshMembers.push(group.start(gatewaySpec(plan.gateway, plan, tokenFile(plan.gateway.name))));
    // A proxy answers /ready once it has its config and its certificate (its TLS listeners are warm).
    for (const { name, adminPort } of [...plan.instances.map((i) => ({ name: `${i.workload} sidecar`, adminPort: i.adminPort })), { name: `${plan.gateway.name} proxy`, adminPort: plan.gateway.adminPort }]) {
      await waitUntil(`the ${name}`, async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`, probeInit())).ok);
    }
    const productPage = `http://127.0.0.1:${plan.gateway.port}/productpage`;
    await waitForWholePages(productPage);
    process.stdout.write(banner(plan, productPage, dirs, options.requestsPerSecond));
    traffic = startTraffic({ url: productPage, requestsPerSecond: options.requestsPerSecond, summaryEveryMs: SUMMARY_EVERY_MS, print: (line) => process.stdout.write(`${line}\n`) });
  } catch (err) {
    if (stopping !== undefined) return; // a signal or a crashed child ended the start-up; stop() reports and exits
    process.stderr.write(`demo: ${(err as Error).message}\nLogs: ${dirs.logs}\n`);
    await stop(1);
  }
}

interface DemoDirs {
  store: string;
  logs: string;
  /** Each proxy's registration token, mode 0600 (`weft proxy --token-file`). */
  tokens: string;
}

/** A fresh store and logs each run: the demo's state is mesh.yaml, nothing older. */
function prepareDataDir(dataDir: string): DemoDirs {
  const dirs = { store: join(dataDir, 'store'), logs: join(dataDir, 'logs'), tokens: join(dataDir, 'tokens') };
  for (const dir of Object.values(dirs)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  return dirs;
}

/**
 * Fetches each proxy's registration token (`weft identity NAME --registration-token`) with the
 * control plane's first admin token, and writes it where only this user can read it.
 */
async function registrationTokens(apiUrl: string, dirs: DemoDirs, names: string[]): Promise<(name: string) => string> {
  const api = new ApiClient(apiUrl, readFileSync(join(dirs.store, ADMIN_TOKEN_FILE), 'utf8').trim());
  const file = (name: string): string => join(dirs.tokens, name);
  for (const name of names) {
    const { token } = (await api.identity(NAMESPACE, name, true)) as { token?: string };
    if (token === undefined) throw new Error(`the control plane gave no registration token for ${NAMESPACE}/${name}`);
    writeFileSync(file(name), `${token}\n`, { mode: 0o600 });
  }
  return file;
}

/**
 * Waits for product pages through the gateway until WHOLE_PAGES_TO_START come back whole in a row
 * (details, reviews and, on v2/v3, ratings all answered over mTLS), so the first page a user opens is too.
 */
async function waitForWholePages(productPage: string): Promise<void> {
  let inARow = 0;
  await waitUntil(`${WHOLE_PAGES_TO_START} whole product pages in a row from ${productPage}`, async () => {
    const res = await fetch(productPage, probeInit());
    const body = await res.text();
    const whole = res.ok && reviewsServedBy(body) !== undefined && !body.includes('currently unavailable');
    inARow = whole ? inARow + 1 : 0;
    return inARow >= WHOLE_PAGES_TO_START;
  });
}

const proxyArgs = (plan: BookinfoPlan, adminPort: number, tokenFile: string): string[] => [
  '--namespace', NAMESPACE, '--control-plane', `127.0.0.1:${plan.xdsPort}`, '--admin-port', String(adminPort),
  '--token-file', tokenFile, '--drain-timeout', String(PROXY_DRAIN_SECONDS),
];

/** Every sidecar shares this host, so each gets its own admin and capture ports. */
function sidecarSpec(instance: Instance, plan: BookinfoPlan, tokenFile: string): { name: string; command: string; args: string[] } {
  return {
    name: `${instance.workload}-sidecar`,
    command: WEFT,
    args: [
      'proxy', '--workload', instance.workload, ...proxyArgs(plan, instance.adminPort, tokenFile),
      '--outbound-port', String(instance.outboundPort), '--inbound-port', String(instance.inboundPort),
    ],
  };
}

/** The ingress gateway: its listener (from mesh.yaml's Gateway) is how productpage is reached from outside the mesh. */
function gatewaySpec(gateway: GatewayInstance, plan: BookinfoPlan, tokenFile: string): { name: string; command: string; args: string[] } {
  return { name: gateway.name, command: WEFT, args: ['proxy', '--gateway', gateway.name, ...proxyArgs(plan, gateway.adminPort, tokenFile)] };
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

function banner(plan: BookinfoPlan, productPage: string, dirs: DemoDirs, rps: number): string {
  const logs = dirs.logs;
  const apiUrl = `http://127.0.0.1:${plan.apiPort}`;
  const width = Math.max(...plan.instances.map((i) => i.workload.length));
  const rows = plan.instances.map((i) =>
    `    ${i.workload.padEnd(width)}  app :${i.appPort}  admin http://127.0.0.1:${i.adminPort}/config_dump  outbound :${i.outboundPort}  inbound :${i.inboundPort}`);
  const server = plan.apiPort === 15080 ? '' : ` --server ${apiUrl}`;
  return [
    '',
    'BookInfo is running on the Weft mesh (mTLS STRICT; TrafficTargets allow only its call graph).',
    `  productpage (through the gateway)  ${productPage}`,
    `                                     ${productPage.replace('/productpage', '/api/v1/products/0/reviews')}`,
    `  control plane API                  ${apiUrl}   try: export WEFT_DATA_DIR=${displayPath(dirs.store)}; weft get trafficsplits${server}; weft proxies${server}`,
    `                                     (the admin API token is in ${displayPath(join(dirs.store, 'admin-token'))})`,
    `  control plane xDS (ADS)            127.0.0.1:${plan.xdsPort} (plaintext, loopback), :${plan.xdsTlsPort} (mTLS)`,
    `  ingress gateway ${plan.gateway.name.padEnd(18)} listener :${plan.gateway.port}  admin http://127.0.0.1:${plan.gateway.adminPort}/config_dump`,
    '  instances and their sidecars:',
    ...rows,
    `  logs                               ${displayPath(logs)}/`,
    '',
    `reviews traffic is split 50/50 between v2 (black stars) and v3 (red stars); ${rps} requests/s go to productpage.`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
