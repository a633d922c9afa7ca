#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner.
// Usage: node scripts/run-tests.js [FILTER...] [--node-test-flag...]
//   FILTER  keep only files whose path contains one of these substrings
//   --flag  passed through to `node --test` (e.g. --test-name-pattern=route)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(repoRoot, 'dist', 'test');

function findTestFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...findTestFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) files.push(path);
  }
  return files;
}

const args = process.argv.slice(2);
const nodeFlags = args.filter((arg) => arg.startsWith('-'));
const filters = args.filter((arg) => !arg.startsWith('-'));

const allFiles = existsSync(testRoot) ? findTestFiles(testRoot).map((f) => relative(repoRoot, f)).sort() : [];
const files = filters.length === 0 ? allFiles : allFiles.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`run-tests: no test files under ${relative(repoRoot, testRoot)}${filters.length ? ` matching ${filters.join(', ')}` : ''} (did the build run?)`);
  process.exit(1);
}

const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', ...nodeFlags, ...files],
  { cwd: repoRoot, stdio: 'inherit' },
);
// Ctrl-C reaches the child through the terminal's process group; a SIGTERM (CI
// cancelling the job) does not, so forward it. Either way, wait for the child.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
