/**
 * `weft demo --static`: the data plane alone. Two sample services and one
 * `weft proxy` from samples/demo/bootstrap.yaml (an Envoy v3 static bootstrap,
 * no control plane), as child processes; Ctrl-C stops them all and waits.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logTail, ProcessGroup } from './processes.js';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
/** dist/samples/demo -> the repo's samples/demo (YAML is not compiled). */
const BOOTSTRAP = here('../../../samples/demo/bootstrap.yaml');
const ECHO = here('../echo/server.js');
const WEFT = here('../../src/cli/weft.js');
/** The bootstrap's admin and listener ports. */
const ADMIN_URL = 'http://127.0.0.1:15000';

const SERVICES = [
  { name: 'web', version: 'v1', port: 18081 },
  { name: 'web', version: 'v2', port: 18082 },
];

export async function runStaticDemo(options: { dataDir: string }): Promise<void> {
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> =>
    (stopping ??= group.stopAll().then(() => {
      process.stdout.write('demo stopped\n');
      process.exit(code);
    }));
  const logs = resolve(options.dataDir, 'logs');
  rmSync(logs, { recursive: true, force: true });
  const group = new ProcessGroup(logs, (child, how) => {
    process.stderr.write(`demo: ${child.spec.name} exited unexpectedly (${how}); stopping the demo. Its log (${child.logFile}):\n${logTail(child.logFile)}\n`);
    void stop(1);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));

  for (const s of SERVICES) {
    group.start({ name: `${s.name}-${s.version}`, command: process.execPath, args: [ECHO, '--name', s.name, '--version', s.version, '--port', String(s.port)] });
  }
  // The bin itself, so the proxy runs with the V8 flags its shebang sets.
  group.start({ name: 'proxy', command: WEFT, args: ['proxy', '--config', BOOTSTRAP, '--concurrency', '1'] });
  try {
    await waitForReady(`${ADMIN_URL}/ready`, 15_000);
  } catch (err) {
    if (stopping !== undefined) return;
    process.stderr.write(`demo: ${(err as Error).message}\n`);
    return stop(1);
  }
  process.stdout.write(
    [
      '',
      'Weft demo (static bootstrap, no control plane) is running:',
      `  web v1 (sample service)   http://127.0.0.1:${SERVICES[0]!.port}`,
      `  web v2 (sample service)   http://127.0.0.1:${SERVICES[1]!.port}`,
      '  weft proxy (80/20 split)  http://127.0.0.1:10000/        try: curl -s localhost:10000/hello',
      '                            http://127.0.0.1:10000/v2/     (always v2, prefix rewritten)',
      '                            http://127.0.0.1:10000/healthz (answered by the proxy)',
      `  proxy admin               ${ADMIN_URL}/stats/prometheus  /config_dump  /clusters`,
      `  bootstrap                 ${BOOTSTRAP}`,
      `  logs (access logs too)    ${logs}/`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the proxy did not become ready at ${url} within ${timeoutMs} ms`);
}
