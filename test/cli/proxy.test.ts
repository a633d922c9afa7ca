/**
 * `weft proxy --config FILE` refuses a bootstrap it cannot use before starting anything:
 * one line naming the file (and the field), exit 1, no stack trace, whether the proxy
 * runs as one process or as a primary with workers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runWeft } from './cli-harness.js';

describe('weft proxy --config with a bootstrap it cannot use', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'weft-cli-proxy-')); });
  after(() => rm(dir, { recursive: true }));

  for (const concurrency of ['1', '2']) {
    it(`--concurrency ${concurrency}: a missing file, a directory and an invalid field`, async () => {
      const invalid = join(dir, 'invalid.yaml');
      await writeFile(invalid, 'static_resources:\n  clusters:\n  - name: a\n    connect_timeout: 250ms\n');
      const cases: Array<[string, RegExp]> = [
        [join(dir, 'missing.yaml'), /^weft: .*missing\.yaml: cannot read the bootstrap: ENOENT: no such file or directory, open '.*missing\.yaml'\n$/],
        [dir, /^weft: .*weft-cli-proxy-\w+: cannot read the bootstrap: EISDIR: illegal operation on a directory, read\n$/],
        [invalid, /^weft: .*invalid\.yaml: static_resources\.clusters\[0\]\.connect_timeout: invalid duration "250ms": expected seconds with an "s" suffix/],
      ];
      for (const [file, message] of cases) {
        const result = await runWeft(['proxy', '--concurrency', concurrency, '--config', file]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      }
    });
  }
});
