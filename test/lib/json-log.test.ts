import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { createJsonLogger, type Logger } from '../../src/lib/json-log.js';

/** Logs the same calls through `logger`; `time` is dropped (it differs by a millisecond or so). */
function exercise(logger: Logger): void {
  const child = logger.child({ component: 'proxy', listener: 'ingress' });
  child.info('plain message');
  child.warn({ port: 15001, path: '/a "quoted" \\ path', nested: { list: [1, 2] } }, 'with fields');
  child.debug({ hidden: true }, 'below the level');
  const err = Object.assign(new Error('bind failed', { cause: new Error('EADDRINUSE') }), { code: 'E_BIND' });
  child.error({ err }, 'with an error');
  child.child({ attempt: 2 }).fatal({ n: 10n }, 'grandchild');
  child.info({ only: 'fields' });
}

function parsed(lines: string[]): Array<Record<string, unknown>> {
  return lines.map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    delete record['time'];
    return record;
  });
}

test("writes pino's JSON line format: level, pid, hostname, name, bindings, fields, msg, errors as pino serializes them", () => {
  const ours: string[] = [];
  exercise(createJsonLogger('weft', 'info', (line) => ours.push(line)));

  const theirs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      theirs.push(...chunk.toString().split('\n').filter((l) => l !== '').map((l) => `${l}\n`));
      done();
    },
  });
  const reference = pino({ name: 'weft', level: 'info', serializers: { err: pino.stdSerializers.errWithCause } }, sink);
  // pino cannot serialize a BigInt; ours logs it as a string. Compare everything else.
  // exercise() only calls child() on the root.
  exercise({ child: (bindings: Record<string, unknown>) => wrapBigInt(reference.child(bindings)) } as unknown as Logger);

  assert.ok(ours.every((line) => line.endsWith('}\n') && !line.slice(0, -1).includes('\n')), 'one line per record');
  const mine = parsed(ours);
  const pinos = parsed(theirs);
  assert.equal(mine.length, 5, 'the debug line is filtered out');
  assert.deepEqual(mine.map((r) => r['msg']), ['plain message', 'with fields', 'with an error', 'grandchild', undefined]);
  assert.equal(mine[3]!['n'], '10');
  delete mine[3]!['n'];
  // Key order too: tools that read these lines by eye expect pino's.
  assert.deepEqual(mine.map((r) => Object.keys(r)), pinos.map((r) => Object.keys(r)));
  for (let i = 0; i < mine.length; i++) {
    const [a, b] = [mine[i]!, pinos[i]!];
    if (a['err'] !== undefined) {
      const [ea, eb] = [a['err'] as Record<string, unknown>, b['err'] as Record<string, unknown>];
      // The two errors are thrown from different lines: compare the stack's first line.
      const firstLine = (stack: unknown) => String(stack).split('\n')[0];
      assert.deepEqual([ea['type'], ea['message'], ea['code'], firstLine(ea['stack'])], [eb['type'], eb['message'], eb['code'], firstLine(eb['stack'])]);
      assert.match(String(ea['stack']), /\n    at exercise /);
      assert.equal((ea['cause'] as { message: string }).message, 'EADDRINUSE');
      delete a['err'];
      delete b['err'];
    }
    assert.deepEqual(a, b);
  }
});

/** pino throws on BigInt; drop it from the reference's fields. */
function wrapBigInt(logger: pino.Logger): Logger {
  const strip = (fields: unknown): unknown => (typeof fields === 'object' && fields !== null ? Object.fromEntries(Object.entries(fields).filter(([, v]) => typeof v !== 'bigint')) : fields);
  const wrap = (level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal') => (fields: unknown, msg?: string) => (logger[level] as (f: unknown, m?: string) => void)(strip(fields), msg);
  return {
    trace: wrap('trace'),
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
    fatal: wrap('fatal'),
    child: (bindings) => wrapBigInt(logger.child(bindings)),
  } as Logger;
}

/** Runs `body` in a fresh process after importing `module`; returns its output and the pino files it loaded. */
async function inFreshProcess(module: string, body: string): Promise<{ pinoFiles: string[]; stderr: string }> {
  const url = new URL(module, import.meta.url).href;
  const script = `
    const logging = await import(${JSON.stringify(url)});
    ${body}
    const { default: Module } = await import('node:module');
    process.stdout.write(JSON.stringify(Object.keys(Module._cache).filter((p) => p.includes('/pino/'))));
  `;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, WEFT_LOG_LEVEL: 'info' },
    timeout: 10_000,
  });
  return { pinoFiles: JSON.parse(stdout) as string[], stderr };
}

test('the proxy logs without loading pino, on stderr, at WEFT_LOG_LEVEL', async () => {
  const { pinoFiles, stderr } = await inFreshProcess('../../src/lib/json-log.js', `
    const log = logging.proxyRootLogger().child({ component: 'proxy' });
    log.debug('debug line');
    log.info({ port: 1 }, 'info line');
  `);
  assert.deepEqual(pinoFiles, []);
  const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.map((l) => [l['level'], l['name'], l['component'], l['port'], l['msg']]), [[30, 'weft', 'proxy', 1, 'info line']]);
  // The check above can see pino: the control plane's logger module loads it.
  assert.ok((await inFreshProcess('../../src/lib/log.js', '')).pinoFiles.length > 0);
});
