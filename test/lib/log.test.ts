import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const logModule = new URL('../../src/lib/log.js', import.meta.url).href;

async function runWithLevel(level: string): Promise<{ stdout: string; stderr: string }> {
  const script = `
    const { childLogger } = await import(${JSON.stringify(logModule)});
    const log = childLogger('admin');
    log.debug({ port: 1 }, 'debug line');
    log.info('info line');
  `;
  return promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, WEFT_LOG_LEVEL: level },
    timeout: 10_000,
  });
}

test('process logs are JSON on stderr with the component, at WEFT_LOG_LEVEL', async () => {
  const { stdout, stderr } = await runWithLevel('debug');
  assert.equal(stdout, '');
  const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l['level'], l['name'], l['component'], l['msg']]),
    [
      [20, 'weft', 'admin', 'debug line'],
      [30, 'weft', 'admin', 'info line'],
    ],
  );
  assert.equal(lines[0]!['port'], 1);
});

test('an unknown WEFT_LOG_LEVEL falls back to info with a warning', async () => {
  const { stderr } = await runWithLevel('loud');
  const [warning, ...rest] = stderr.trim().split('\n');
  assert.equal(warning, 'weft: ignoring WEFT_LOG_LEVEL=loud (not a log level); using info');
  assert.deepEqual(rest.map((l) => (JSON.parse(l) as { msg: string }).msg), ['info line']);
});
