/**
 * End-to-end test helpers: real upstream servers, a real `weft proxy` child
 * process (or an in-process ProxyServer when a test needs its internals), raw
 * sockets and curl as independent clients.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const WEFT_BIN = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Upstream {
  port: number;
  server: Server;
  /** Requests seen, in order (method, url, headers), for "the upstream never saw X" assertions. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

/** An HTTP upstream; the default handler answers 200 with JSON describing the request. */
export async function startUpstream(handler?: RequestListener, name = 'upstream'): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    (handler ?? echoHandler(name))(req, res);
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function echoHandler(name: string): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      const body = JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers, bodyBytes: bytes });
      res.setHeader('content-type', 'application/json');
      res.setHeader('content-length', Buffer.byteLength(body));
      res.setHeader('x-upstream', name);
      res.end(body);
    });
  };
}

// --- bootstrap builder ----------------------------------------------------------------------

export interface ClusterSpec {
  name: string;
  ports: number[];
  [field: string]: unknown;
}

export interface HttpListenerSpec {
  port: number;
  routes?: unknown[];
  virtualHosts?: unknown[];
  httpFilters?: unknown[];
  hcm?: Record<string, unknown>;
}

/** Builds an Envoy v3 bootstrap document the way people write them. */
export function buildBootstrap(spec: { adminPort: number; listener: HttpListenerSpec; clusters: ClusterSpec[]; tcpListeners?: unknown[] }): Record<string, unknown> {
  const virtualHosts = spec.listener.virtualHosts ?? [{ name: 'default', domains: ['*'], routes: spec.listener.routes ?? [] }];
  return {
    node: { id: 'test-proxy', cluster: 'test' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: spec.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'http',
          address: { socket_address: { address: '127.0.0.1', port_value: spec.listener.port } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    route_config: { name: 'local', virtual_hosts: virtualHosts },
                    http_filters: [
                      ...(spec.listener.httpFilters ?? []),
                      { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
                    ],
                    ...spec.listener.hcm,
                  },
                },
              ],
            },
          ],
        },
        ...(spec.tcpListeners ?? []),
      ],
      clusters: spec.clusters.map(({ name, ports, ...rest }) => ({
        name,
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: name,
          endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
        },
        ...rest,
      })),
    },
  };
}

// --- the proxy as a child process ---------------------------------------------------------------

export interface ProxyProcess {
  child: ChildProcess;
  configPath: string;
  adminPort: number;
  /** stdout (access logs) and stderr (process logs) so far. */
  output(): string;
  admin(path: string, init?: RequestInit): Promise<Response>;
  /** Rewrites the config file and waits until the proxy reports a reload (success or rejection). */
  rewrite(doc: unknown): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startProxy(doc: Record<string, unknown>, args: string[] = ['--concurrency', '1', '--drain-timeout', '2']): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-e2e-'));
  const configPath = join(dir, 'bootstrap.yaml');
  writeFileSync(configPath, stringify(doc));
  const adminPort = ((doc['admin'] as { address: { socket_address: { port_value: number } } }).address.socket_address.port_value);
  const child = spawn(process.execPath, [WEFT_BIN, 'proxy', '--config', configPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_LOG_LEVEL: 'info' } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const admin = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${path}`, init);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weft proxy exited with ${child.exitCode}: ${output}`);
    try {
      if ((await admin('/ready')).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`weft proxy not ready: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    configPath,
    adminPort,
    output: () => output,
    admin,
    async rewrite(next: unknown) {
      const before = (output.match(/config reloaded|config rejected/g) ?? []).length;
      writeFileSync(configPath, stringify(next));
      const until = Date.now() + 10_000;
      while ((output.match(/config reloaded|config rejected/g) ?? []).length === before) {
        if (Date.now() > until) throw new Error(`no reload observed: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}

// --- clients --------------------------------------------------------------------------------------

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs curl; `stdin` is piped to it (for `--data-binary @-`). */
export function curl(args: string[], stdin?: string | Buffer): Promise<CurlResult> {
  return new Promise((resolve) => {
    const child = execFile('curl', ['-sS', ...args], { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

/** Sends raw bytes and collects everything until the server closes (or `idleMs` of silence). */
export async function rawExchange(port: number, bytes: string | Buffer, idleMs = 1500): Promise<{ response: string; closedByServer: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  let closedByServer = false;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (response += chunk));
  socket.on('error', () => undefined);
  socket.write(bytes);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, idleMs);
    socket.once('end', () => {
      closedByServer = true;
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { response, closedByServer };
}

/** Polls `/stats?format=json` until `name` satisfies `predicate`; returns its value. */
export async function statValue(proxy: ProxyProcess, name: string): Promise<number> {
  const res = await proxy.admin(`/stats?format=json&filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`);
  const body = (await res.json()) as { stats: Array<{ name?: string; value?: number }> };
  return body.stats.find((s) => s.name === name)?.value ?? 0;
}
