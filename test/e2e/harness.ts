/**
 * End-to-end test helpers: real upstream servers, a real `weft proxy` child
 * process (or an in-process ProxyServer when a test needs its internals), raw
 * sockets and curl as independent clients.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort, freePorts } from '../../src/lib/free-ports.js';

export { freePort, freePorts };

export const WEFT_BIN = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));

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

export interface BootstrapSpec {
  adminPort: number;
  listener: HttpListenerSpec;
  clusters: ClusterSpec[];
  tcpListeners?: unknown[];
}

/** Builds an Envoy v3 bootstrap document the way people write them. */
export function buildBootstrap(spec: BootstrapSpec): Record<string, unknown> {
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
  const child = spawn(WEFT_BIN, ['proxy', '--config', configPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WEFT_LOG_LEVEL: 'info' } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const admin = (path: string, init?: RequestInit): Promise<Response> => fetch(`http://127.0.0.1:${adminPort}${path}`, init);
  // Generous: on a shared, loaded machine a proxy can take many seconds to start.
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`weft proxy exited with ${child.exitCode}: ${output}`);
    try {
      if ((await admin('/ready')).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      // A proxy that never became ready must not outlive the test (its pipes would keep the runner alive).
      child.kill('SIGKILL');
      throw new Error(`weft proxy not ready: ${output}`);
    }
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
      const until = Date.now() + 45_000;
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

/** A proxy started by `startHttpProxy`, with the port of its HTTP listener. */
export interface HttpProxyProcess extends ProxyProcess {
  port: number;
}

/**
 * Starts `weft proxy` on a `buildBootstrap` document whose HTTP listener and admin
 * server get fresh ports (the spec names neither).
 */
export async function startHttpProxy(
  spec: Omit<BootstrapSpec, 'adminPort' | 'listener'> & { listener: Omit<HttpListenerSpec, 'port'> },
  args?: string[],
): Promise<HttpProxyProcess> {
  const [port, adminPort] = (await freePorts(2)) as [number, number];
  const proxy = await startProxy(buildBootstrap({ ...spec, adminPort, listener: { ...spec.listener, port } }), args);
  return Object.assign(proxy, { port });
}

/** The proxy's JSON access log lines (stdout access logger) so far. */
export function accessLog(proxy: Pick<ProxyProcess, 'output'>): Array<Record<string, unknown>> {
  return proxy
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"start_time"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
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
    // curl may exit before reading stdin (a refused connection): EPIPE there is not the test's failure.
    child.stdin!.on('error', () => undefined);
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
export async function statValue(proxy: Pick<ProxyProcess, 'admin'>, name: string): Promise<number> {
  const res = await proxy.admin(`/stats?format=json&filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`);
  const body = (await res.json()) as { stats: Array<{ name?: string; value?: number }> };
  return body.stats.find((s) => s.name === name)?.value ?? 0;
}

// --- small generic helpers (lifecycle, TCP and admin suites) ----------------------------------------

/** Polls `probe` every 25 ms until it returns a truthy value; throws after `timeoutMs` with `what`. */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Tries a TCP connect: 'refused' (nothing listens), or 'accepted' (the socket is closed again at once). */
export async function probeConnect(port: number): Promise<'refused' | 'accepted'> {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return 'accepted';
  } catch {
    return 'refused';
  } finally {
    socket.destroy();
  }
}

/**
 * Pids (among `pids`) that own an established TCP socket whose local port is `localPort`
 * (Linux: /proc/net/tcp inodes matched against /proc/<pid>/fd).
 */
export function socketOwners(pids: readonly number[], localPort: number): Set<number> {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table = '';
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const port = parseInt(cols[1]!.split(':')[1] ?? '', 16);
      if (port === localPort && cols[3] === '01') inodes.add(cols[9]!);
    }
  }
  const owners = new Set<number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = '';
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match !== null && inodes.has(match[1]!)) {
        owners.add(pid);
        break;
      }
    }
  }
  return owners;
}

/** Direct children of `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/** Whether a process exists (and is not a zombie). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A TCP echo server: every byte it reads it writes back; a half-close from the client is answered with one after the echo. */
export async function startEchoServer(name = 'echo'): Promise<{ port: number; name: string; connections: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    name,
    get connections() {
      return state.connections;
    },
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// --- process memory -----------------------------------------------------------------------------

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc/<pid>/status. */
export function processMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

export interface RssSampler {
  /** VmRSS when sampling started. */
  readonly baseline: number;
  /** Stops sampling; returns the baseline and the peak (max of the samples and the kernel's VmHWM since start). */
  stop(): { baseline: number; peak: number; samples: number };
}

/**
 * Samples a process's RSS every `intervalMs`. The kernel's peak-RSS mark is reset
 * first (clear_refs 5) so a spike between two samples is not missed.
 */
export function sampleRss(pid: number, intervalMs = 100): RssSampler {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Not permitted here: the samples alone bound the peak.
  }
  const baseline = processMemory(pid).rss;
  let peak = baseline;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, processMemory(pid).rss);
      samples++;
    } catch {
      // the process exited
    }
  }, intervalMs);
  return {
    baseline,
    stop() {
      clearInterval(timer);
      try {
        const { rss, hwm } = processMemory(pid);
        peak = Math.max(peak, rss, hwm);
      } catch {
        // the process exited
      }
      return { baseline, peak, samples };
    },
  };
}

// --- raw exchanges that know when they are done (bad-input tests) ------------------------------

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits a byte string (latin1) holding back-to-back HTTP/1.1 responses. Bodies are
 * framed by Content-Length or chunked encoding; a response without either takes the
 * rest. `complete` is false when the last response is cut short.
 */
export function parseResponses(raw: string): { responses: ParsedResponse[]; complete: boolean } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return { responses, complete: false };
    const lines = raw.slice(at, headEnd).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    if (status < 200) continue; // interim (100 Continue)
    const length = headers['content-length'];
    if (length !== undefined) {
      const end = at + Number(length);
      responses.push({ status, headers, body: raw.slice(at, end) });
      if (end > raw.length) return { responses, complete: false };
      at = end;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      let body = '';
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', at);
        if (lineEnd === -1) return { responses: [...responses, { status, headers, body }], complete: false };
        const size = parseInt(raw.slice(at, lineEnd), 16);
        at = lineEnd + 2;
        if (size === 0) {
          const trailerEnd = raw.indexOf('\r\n', at);
          if (trailerEnd === -1) return { responses: [...responses, { status, headers, body }], complete: false };
          at = trailerEnd + 2;
          break;
        }
        body += raw.slice(at, at + size);
        at += size + 2;
        if (at > raw.length) return { responses: [...responses, { status, headers, body }], complete: false };
      }
      responses.push({ status, headers, body });
    } else {
      responses.push({ status, headers, body: raw.slice(at) });
      at = raw.length;
    }
  }
  return { responses, complete: true };
}

export interface RawResult {
  response: string;
  responses: ParsedResponse[];
  /** The server ended or reset the connection (as opposed to our timeout or `responses` being reached). */
  closedByServer: boolean;
  /** The server reset the connection (ECONNRESET) rather than ending it. */
  reset: boolean;
  elapsedMs: number;
}

/**
 * Sends raw bytes (a string is sent as latin1) and reads until the server closes the
 * connection, or until `responses` complete responses have arrived, or `timeoutMs`.
 */
export async function rawSend(port: number, bytes: string | Buffer, options: { responses?: number; timeoutMs?: number } = {}): Promise<RawResult> {
  const started = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  let response = '';
  let closedByServer = false;
  let reset = false;
  socket.setEncoding('latin1');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, options.timeoutMs ?? 10_000);
    function done(): void {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    }
    socket.on('data', (chunk: string) => {
      response += chunk;
      if (options.responses !== undefined) {
        const parsed = parseResponses(response);
        if (parsed.complete && parsed.responses.length >= options.responses) done();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') {
        closedByServer = true;
        reset = true;
      }
      done();
    });
    socket.on('end', () => {
      closedByServer = true;
      done();
    });
    socket.on('close', done);
    socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
  return { response, responses: parseResponses(response).responses, closedByServer, reset, elapsedMs: Date.now() - started };
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
