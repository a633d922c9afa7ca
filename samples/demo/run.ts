/**
 * The pre-control-plane demo: starts the two sample services and a `weft proxy`
 * from samples/demo/bootstrap.yaml as child processes, prints where they are,
 * and on Ctrl-C (or SIGTERM) stops them all and waits for each to exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
/** dist/samples/demo -> repo root. */
const BOOTSTRAP = here('../../../samples/demo/bootstrap.yaml');
const ECHO = here('../echo/server.js');
const WEFT = here('../../src/cli/weft.js');

const SERVICES = [
  { name: 'web', version: 'v1', port: 18081 },
  { name: 'web', version: 'v2', port: 18082 },
];

export async function runDemo(): Promise<void> {
  const children: ChildProcess[] = [];
  const start = (command: string, args: string[], label: string): ChildProcess => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => {
      if (!stopping) {
        process.stderr.write(`demo: ${label} exited (${signal ?? code}); stopping the demo\n`);
        void stop(1);
      }
    });
    children.push(child);
    return child;
  };
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    process.stdout.write('demo stopped\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  for (const s of SERVICES) start(process.execPath, [ECHO, '--name', s.name, '--version', s.version, '--port', String(s.port)], `${s.name}-${s.version}`);
  // The bin itself, so the proxy runs with the V8 flags its shebang sets.
  start(WEFT, ['proxy', '--config', BOOTSTRAP, '--concurrency', '1'], 'weft proxy');
  await waitForReady('http://127.0.0.1:15000/ready', 15_000);
  process.stdout.write(
    [
      '',
      'Weft demo is running:',
      `  web v1 (sample service)   http://127.0.0.1:${SERVICES[0]!.port}`,
      `  web v2 (sample service)   http://127.0.0.1:${SERVICES[1]!.port}`,
      '  weft proxy (80/20 split)  http://127.0.0.1:10000/        try: curl -s localhost:10000/hello',
      '                            http://127.0.0.1:10000/v2/     (always v2, prefix rewritten)',
      '                            http://127.0.0.1:10000/healthz (answered by the proxy)',
      '  proxy admin               http://127.0.0.1:15000/stats/prometheus  /config_dump  /clusters',
      `  bootstrap                 ${BOOTSTRAP}`,
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
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the proxy did not become ready at ${url} within ${timeoutMs} ms`);
}
