/**
 * End-to-end helpers for the control plane: a real `weft controlplane` child
 * process on fresh ports (SQLite in a temp dir, or etcd), the real `weft` CLI
 * against it, and the echo mesh the xDS scenarios apply (a gRPC Service split
 * over a v1 and a v2 subset, SMI style).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWeft, WEFT_BIN, type WeftResult } from '../cli/cli-harness.js';
import { freePorts, waitFor } from './harness.js';

// Generous: on a loaded 2-core machine module loading alone can take over 15 s.
const READY_WITHIN_MS = 60_000;
const READY_LINE = 'control plane ready';

export interface ControlPlaneConfig {
  xdsPort: number;
  /** The mTLS xDS port (`--xds-tls-port`). */
  xdsTlsPort: number;
  apiPort: number;
  /** SQLite data dir, or the etcd client URLs (`--store etcd`). */
  store: { dataDir: string } | { etcdEndpoints: string[] };
  /** `--data-dir`: where the first start writes admin-token (with SQLite, also the store). */
  dataDir: string;
}

export interface ControlPlaneProcess extends ControlPlaneConfig {
  child: ChildProcess;
  url: string;
  /** Everything the process logged so far (JSON lines on stderr). */
  output(): string;
  /** Its log lines with message `msg`, parsed. */
  logLines(msg: string): Array<Record<string, unknown>>;
  /** The admin token the control plane wrote into its data dir (read when asked: another replica may have written it). */
  adminToken(): string;
  /** `weft ARGS --server <this API>` with the admin token (or `token`); `input` goes to stdin. */
  weft(args: readonly string[], input?: string, token?: string): Promise<WeftResult>;
  /** fetch on the API with the admin token, unless `init.headers` has its own authorization. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Sends `signal` and waits for the exit; how long that took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/** Fresh ports and a fresh SQLite data dir (keep the config to restart on the same ones). */
export async function newSqliteConfig(): Promise<ControlPlaneConfig> {
  const [xdsPort, apiPort, xdsTlsPort] = (await freePorts(3)) as [number, number, number];
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-cp-e2e-'));
  return { xdsPort, xdsTlsPort, apiPort, store: { dataDir }, dataDir };
}

/** Replicas on one etcd share a data dir: only the first start makes the admin token, and all of them read it there. */
const dataDirByEtcd = new Map<string, string>();

export async function newEtcdConfig(etcdEndpoints: string[]): Promise<ControlPlaneConfig> {
  const [xdsPort, apiPort, xdsTlsPort] = (await freePorts(3)) as [number, number, number];
  const key = etcdEndpoints.join(',');
  let dataDir = dataDirByEtcd.get(key);
  if (dataDir === undefined) dataDirByEtcd.set(key, (dataDir = mkdtempSync(join(tmpdir(), 'weft-cp-etcd-e2e-'))));
  return { xdsPort, xdsTlsPort, apiPort, store: { etcdEndpoints }, dataDir };
}

/** Starts `weft controlplane` and waits for its ready line. */
export async function startControlPlane(config: ControlPlaneConfig): Promise<ControlPlaneProcess> {
  const storeArgs = 'dataDir' in config.store ? ['--data-dir', config.store.dataDir] : ['--data-dir', config.dataDir, '--store', 'etcd', '--etcd-endpoints', config.store.etcdEndpoints.join(',')];
  const child = spawn(process.execPath, [WEFT_BIN, 'controlplane', '--xds-port', `${config.xdsPort}`, '--xds-tls-port', `${config.xdsTlsPort}`, '--xds-tls-address', '127.0.0.1', '--api-port', `${config.apiPort}`, ...storeArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WEFT_LOG_LEVEL: 'info' },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${config.apiPort}`;
  const adminToken = (): string => readFileSync(join(config.dataDir, 'admin-token'), 'utf8').trim();
  const running: ControlPlaneProcess = {
    ...config,
    child,
    url,
    output: () => output,
    logLines: (msg) =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line['msg'] === msg),
    adminToken,
    weft: (args, input, token) => runWeft([...args, '--server', url], input, token ?? adminToken()),
    api: (path, init = {}) => {
      const headers = new Headers(init.headers);
      if (!headers.has('authorization')) headers.set('authorization', `Bearer ${adminToken()}`);
      return fetch(`${url}${path}`, { ...init, headers });
    },
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(signal);
        await exited;
      }
      return { code: child.exitCode, signal: child.signalCode, ms: Date.now() - started };
    },
  };
  try {
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`weft controlplane exited with ${child.exitCode}:\n${output}`);
      return output.includes(READY_LINE);
    }, `weft controlplane to be ready:\n${output}`, READY_WITHIN_MS);
  } catch (err) {
    await running.stop('SIGKILL');
    throw err;
  }
  return running;
}

/** A `weft proxy --workload` sidecar of a control plane, as a child process. */
export interface Sidecar {
  child: ChildProcess;
  adminPort: number;
  /** stdout (access logs) and stderr (process logs) so far. */
  output(): string;
  admin(path: string): Promise<Response>;
  stop(): Promise<void>;
}

/** The first document of a test mesh: a STRICT-mTLS Mesh in trust domain weft.test, then `---`. */
export const STRICT_MESH_YAML = `
apiVersion: mesh.weft.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec: { mtls: { mode: STRICT }, trustDomain: weft.test }
---`;

/** A workload's registration token, through `weft identity NAME --registration-token` (the CLI, as an operator gets it). */
export async function registrationToken(cp: ControlPlaneProcess, workload: string, namespace = 'default'): Promise<string> {
  const identity = await cp.weft(['identity', workload, '-n', namespace, '--registration-token', '-o', 'json']);
  assert.equal(identity.code, 0, identity.stderr);
  return (JSON.parse(identity.stdout) as { token: string }).token;
}

/**
 * Starts a sidecar for `workload` on ADS; `token` is its registration token (for a certificate).
 * With `caFile` it dials the mTLS xDS port (`--ca-file`), else the plaintext one. Not waited for.
 */
export function startSidecar(
  cp: Pick<ControlPlaneProcess, 'xdsPort' | 'xdsTlsPort'>,
  identity: { workload: string; namespace?: string; token?: string; caFile?: string },
  ports: { admin: number; outbound: number; inbound: number },
): Sidecar {
  const controlPlane = identity.caFile === undefined ? ['--control-plane', `127.0.0.1:${cp.xdsPort}`] : ['--control-plane', `127.0.0.1:${cp.xdsTlsPort}`, '--ca-file', identity.caFile];
  const child = spawn(process.execPath, [
    WEFT_BIN, 'proxy', '--workload', identity.workload, '--namespace', identity.namespace ?? 'default', ...controlPlane,
    '--admin-port', `${ports.admin}`, '--outbound-port', `${ports.outbound}`, '--inbound-port', `${ports.inbound}`, '--drain-timeout', '1',
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_LOG_LEVEL: 'info', ...(identity.token === undefined ? {} : { WEFT_WORKLOAD_TOKEN: identity.token }) } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    adminPort: ports.admin,
    output: () => output,
    admin: (path) => fetch(`http://127.0.0.1:${ports.admin}${path}`),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The echo mesh: Service `echo` (one gRPC port), its subsets `echo-v1` and
 * `echo-v2` (selected by the version label, as TrafficSplit backends must be
 * Services), one Workload per version on 127.0.0.1 at the given ports.
 */
export function echoMeshYaml(ports: { v1: number; v2: number }): string {
  const service = (name: string, selector?: string): string => `apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
    - name: grpc
      port: 50051
      protocol: grpc
${selector === undefined ? '' : `  selector:\n    app: echo\n    version: ${selector}\n`}`;
  const workload = (version: 'v1' | 'v2'): string => `apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata:
  name: echo-${version}-0
spec:
  address: 127.0.0.1
  ports:
    - name: grpc
      port: ${ports[version]}
  service: echo
  labels:
    app: echo
    version: ${version}
  version: ${version}
`;
  return [service('echo'), service('echo-v1', 'v1'), service('echo-v2', 'v2'), workload('v1'), workload('v2')].join('---\n');
}

/** The TrafficSplit of `echo` over its v1 and v2 subsets. */
export function echoSplitYaml(weights: { v1: number; v2: number }): string {
  return `apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata:
  name: echo-rollout
spec:
  service: echo
  backends:
    - service: echo-v1
      weight: ${weights.v1}
    - service: echo-v2
      weight: ${weights.v2}
`;
}
