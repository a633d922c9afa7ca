/**
 * `weft proxy --config FILE [--concurrency N] [--drain-timeout S]`: runs the data
 * plane from an Envoy v3 bootstrap. `weft proxy --workload NAME --control-plane
 * HOST:PORT [--namespace NS] [--admin-port N]` runs a sidecar whose config comes
 * entirely over ADS (the bootstrap is generated); `--gateway NAME` likewise runs
 * the edge proxy of a Gateway. Exits 1 with the field path
 * when the bootstrap is invalid; SIGTERM drains and exits 0; SIGHUP reloads.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { proxyRootLogger } from '../lib/json-log.js';
import { runProxy } from '../proxy/run.js';
import { buildSidecarBootstrap } from '../proxy/xds-client/sidecar-bootstrap.js';
import { listenPort, positiveInteger } from './flags.js';

interface ProxyFlags {
  config?: string;
  workload?: string;
  gateway?: string;
  controlPlane?: { host: string; port: number };
  namespace: string;
  adminPort: number;
  outboundPort?: number;
  inboundPort?: number;
  concurrency?: number;
  drainTimeout: number;
  tokenFile?: string;
  caFile?: string;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run the proxy from an Envoy v3 bootstrap (YAML or JSON), or as a workload sidecar configured over ADS')
    .option('-c, --config <file>', 'bootstrap file (Envoy v3 format)')
    .option('--workload <name>', 'run as the sidecar of this workload (needs --control-plane)')
    .option('--gateway <name>', 'run as the edge proxy of this Gateway (needs --control-plane)')
    .option('--control-plane <host:port>', 'the ADS server (xDS port of weft controlplane)', parseHostPort)
    .option('--namespace <ns>', 'the workload\'s namespace', 'default')
    .option('--admin-port <n>', 'admin port of a --workload sidecar', listenPort, 15000)
    .option('--outbound-port <n>', 'outbound capture port the control plane gives a --workload sidecar (default 15001)', listenPort)
    .option('--inbound-port <n>', 'inbound capture port the control plane gives a --workload sidecar (default 15006)', listenPort)
    .option('--concurrency <n>', 'worker processes sharing the listeners (default: all cores; 1 with --workload)', positiveInteger)
    .option('--drain-timeout <seconds>', 'how long SIGTERM waits for in-flight requests', positiveInteger, 15)
    .option('--ca-file <file>', "the mesh's trust bundle (weft ca show --bundle): reach --control-plane over mTLS (its 15012 port) with the proxy's own certificate")
    .option('--token-file <file>', 'the registration token (weft identity NAME --registration-token) of the workload or gateway, sent with its CSR; or WEFT_WORKLOAD_TOKEN')
    .action(async (opts: ProxyFlags) => {
      // The xDS agent process inherits the environment; the token never goes into the bootstrap or the node metadata.
      if (opts.tokenFile !== undefined) process.env['WEFT_WORKLOAD_TOKEN'] = readToken(opts.tokenFile);
      await runProxy({
        configPath: configPathFor(opts),
        concurrency: opts.concurrency ?? (opts.workload === undefined && opts.gateway === undefined ? availableParallelism() : 1),
        drainTimeoutMs: opts.drainTimeout * 1000,
        log: proxyRootLogger().child({ component: 'proxy' }),
      });
    });
}

/** `--config` as given, or a generated sidecar bootstrap in a temp dir removed at exit. */
function configPathFor(opts: ProxyFlags): string {
  const given = [opts.config, opts.workload, opts.gateway].filter((v) => v !== undefined).length;
  if (given !== 1) throw new InvalidArgumentError('give either --config FILE, --workload NAME or --gateway NAME (with --control-plane HOST:PORT)');
  if (opts.config !== undefined) return resolve(opts.config);
  if (opts.controlPlane === undefined) throw new InvalidArgumentError(`${opts.workload === undefined ? '--gateway' : '--workload'} needs --control-plane HOST:PORT`);
  const dir = mkdtempSync(join(tmpdir(), 'weft-sidecar-'));
  const file = join(dir, 'bootstrap.json');
  const capturePorts = opts.outboundPort === undefined && opts.inboundPort === undefined ? undefined : { outbound: opts.outboundPort ?? 15001, inbound: opts.inboundPort ?? 15006 };
  const role = opts.workload === undefined ? { workload: opts.gateway!, kind: 'gateway' as const } : { workload: opts.workload };
  const doc = buildSidecarBootstrap({
    ...role, namespace: opts.namespace, controlPlane: opts.controlPlane, adminPort: opts.adminPort, capturePorts,
    ...(opts.caFile === undefined ? {} : { controlPlaneCaFile: resolve(opts.caFile) }),
  });
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return file;
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new InvalidArgumentError(`--token-file: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `HOST:PORT`, IPv6 as `[::1]:15010`. */
function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const n = Number(match?.[3]);
  if (match === null || !Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected HOST:PORT, e.g. 127.0.0.1:15010');
  return { host: (match[1] ?? match[2])!, port: n };
}
