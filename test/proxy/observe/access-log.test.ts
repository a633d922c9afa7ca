import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AccessLogEntry } from '../../../src/proxy/observe/access-log-entry.js';
import { closeAllAccessLogs, configureAccessLogs, createAccessLogger } from '../../../src/proxy/observe/access-log.js';
import { createStatsStore } from '../../../src/proxy/observe/stats-store.js';
import { ConfigError } from '../../../src/lib/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-access-log-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function entry(code: number): AccessLogEntry {
  const e = new AccessLogEntry();
  e.responseCode = code;
  e.method = 'GET';
  return e;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), 'condition not reached within 1 s');
}

test('loggers for one path share a file; lines are appended and flushed on the last close', async () => {
  const store = createStatsStore();
  configureAccessLogs({ stats: store, flushIntervalMs: 60_000 });
  const path = join(dir, 'shared.log');
  const text = createAccessLogger({ path, textFormat: '%REQ(:METHOD)% %RESPONSE_CODE%' });
  const json = createAccessLogger({ path, jsonFormat: { code: '%RESPONSE_CODE%' } });
  text.log(entry(200));
  json.log(entry(404));
  await text.close();
  json.log(entry(503));
  text.log(entry(500)); // closed logger: ignored
  await json.close();
  assert.equal(readFileSync(path, 'utf8'), 'GET 200\n{"code":404}\n{"code":503}\n');
  assert.equal(store.counter('access_logs.file.write_buffered').value(), 3);
  assert.equal(store.counter('access_logs.file.write_completed').value(), 1);
  assert.equal(store.gauge('access_logs.file.write_total_buffered').value(), 0);

  // Reopening appends rather than truncating.
  const again = createAccessLogger({ path, textFormat: 'again' });
  again.log(entry(200));
  await again.close();
  assert.equal(readFileSync(path, 'utf8'), 'GET 200\n{"code":404}\n{"code":503}\nagain\n');
});

test('batched lines are written by the flush timer and by size, without close', async () => {
  const store = createStatsStore();
  configureAccessLogs({ stats: store, flushIntervalMs: 10, flushBytes: 20 });
  const path = join(dir, 'timer.log');
  const logger = createAccessLogger({ path, textFormat: '%RESPONSE_CODE%' });
  logger.log(entry(200));
  await until(() => readFileSync(path, 'utf8') === '200\n');
  assert.equal(store.counter('access_logs.file.flushed_by_timer').value(), 1);
  for (let i = 0; i < 6; i++) logger.log(entry(201)); // 24 characters >= flushBytes: written at once
  await until(() => readFileSync(path, 'utf8').length === 4 + 24);
  await logger.close();
  assert.equal(store.counter('access_logs.file.write_failed').value(), 0);
});

test('a full buffer drops lines and counts them instead of growing', async () => {
  const store = createStatsStore();
  configureAccessLogs({ stats: store, flushIntervalMs: 60_000, flushBytes: 1 << 20, maxBufferedBytes: 40 });
  const path = join(dir, 'bounded.log');
  const logger = createAccessLogger({ path, textFormat: 'line-%RESPONSE_CODE%' }); // 9 characters a line
  for (let i = 0; i < 10; i++) logger.log(entry(200 + i));
  assert.equal(store.counter('access_logs.file.lines_dropped').value(), 6);
  assert.equal(store.gauge('access_logs.file.write_total_buffered').value(), 36);
  await logger.close();
  assert.equal(readFileSync(path, 'utf8'), 'line-200\nline-201\nline-202\nline-203\n');
});

test('an unopenable path is a ConfigError; a bad format is rejected before the file is opened', () => {
  configureAccessLogs({});
  assert.throws(
    () => createAccessLogger({ path: join(dir, 'missing-dir', 'x.log') }),
    (err: unknown) => err instanceof ConfigError && /cannot open .*x\.log for appending/.test(err.reason),
  );
  assert.throws(() => createAccessLogger({ path: join(dir, 'never.log'), textFormat: '%NOPE%' }), ConfigError);
  assert.throws(() => readFileSync(join(dir, 'never.log')), /ENOENT/);
});

test('/dev/stdout and /dev/stderr loggers write to the process streams', async () => {
  const moduleUrl = new URL('../../../src/proxy/observe/access-log.js', import.meta.url).href;
  const entryUrl = new URL('../../../src/proxy/observe/access-log-entry.js', import.meta.url).href;
  const script = `
    const { createAccessLogger, closeAllAccessLogs } = await import(${JSON.stringify(moduleUrl)});
    const { AccessLogEntry } = await import(${JSON.stringify(entryUrl)});
    const e = new AccessLogEntry(); e.responseCode = 204;
    createAccessLogger({ path: '/dev/stdout', textFormat: 'out %RESPONSE_CODE%' }).log(e);
    createAccessLogger({ path: '/dev/stdout', textFormat: 'out2 %RESPONSE_CODE%' }).log(e);
    createAccessLogger({ path: '/dev/stderr', textFormat: 'err %RESPONSE_CODE%' }).log(e);
    await closeAllAccessLogs();
  `;
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    env: { ...process.env, WEFT_LOG_LEVEL: 'silent' },
    timeout: 10_000,
  });
  assert.equal(stdout, 'out 204\nout2 204\n');
  assert.equal(stderr, 'err 204\n');
});

test('closeAllAccessLogs flushes every open sink', async () => {
  configureAccessLogs({ flushIntervalMs: 60_000 });
  const path = join(dir, 'all.log');
  createAccessLogger({ path, textFormat: '%RESPONSE_CODE%' }).log(entry(202));
  await closeAllAccessLogs();
  assert.equal(readFileSync(path, 'utf8'), '202\n');
});

test('closing a logger after closeAllAccessLogs is harmless', async () => {
  configureAccessLogs({ flushIntervalMs: 60_000 });
  const path = join(dir, 'twice.log');
  const logger = createAccessLogger({ path, textFormat: '%RESPONSE_CODE%' });
  logger.log(entry(200));
  await closeAllAccessLogs();
  logger.log(entry(201));
  await logger.close();
  assert.equal(readFileSync(path, 'utf8'), '200\n');
});
