/**
 * `weft proxy` runs from the same entry point as every other command, and every
 * sidecar pays for what that entry point loads statically. This pins the
 * packages it may load: commander (the proxy logs through src/lib/json-log.ts, not pino). Heavier ones (yaml ~8 MB RSS, ajv +
 * TypeBox, gRPC, fastify, SQLite) must stay behind dynamic `import()` or in the
 * config parser's child process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../src/cli/weft.js', import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Packages reached through static imports from `file`, with one importing file each. */
function staticPackages(file: string, seen = new Set<string>(), found = new Map<string, string>()): Map<string, string> {
  if (seen.has(file)) return found;
  seen.add(file);
  for (const match of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
    const specifier = (match[1] ?? match[2])!;
    if (specifier.startsWith('.')) staticPackages(resolve(dirname(file), specifier), seen, found);
    else if (!specifier.startsWith('node:') && !found.has(specifier)) found.set(specifier, file);
  }
  return found;
}

describe('the weft entry point', () => {
  it('statically loads only commander', () => {
    const packages = staticPackages(ENTRY);
    assert.deepEqual([...packages.keys()].sort(), ['commander'], `unexpected static imports: ${JSON.stringify(Object.fromEntries(packages))}`);
  });
});

describe('the proxy\'s module graph', () => {
  it('loads node:tls and node:dns only when a config uses them (lib/lazy-builtin.ts)', () => {
    // A fresh process: everything `weft proxy` imports statically, then the builtins it pulled in.
    const script = `await import(${JSON.stringify(ENTRY.replace(/weft\.js$/, 'proxy.js'))}); process.stdout.write(JSON.stringify(process.moduleLoadList));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
    assert.ok(loaded.includes('NativeModule net'), 'the module list names builtins as "NativeModule <id>"');
    for (const builtin of ['tls', '_tls_wrap', 'dns']) assert.ok(!loaded.includes(`NativeModule ${builtin}`), `node:${builtin} was loaded at import time`);
  });
});
