import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KINDS } from '../../../src/controlplane/model/kinds.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SCRIPT = join(REPO_ROOT, 'dist/src/controlplane/model/generate-crds.js');
const COMMITTED = join(REPO_ROOT, 'deploy/crds');
const run = promisify(execFile);

describe('generate-crds script', () => {
  const dirs: string[] = [];
  after(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('writes exactly the CRDs committed under deploy/crds (regenerate them when this fails)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'weft-crds-'));
    dirs.push(out);
    await run(process.execPath, [SCRIPT, out]);
    const generated = (await readdir(out)).sort();
    assert.equal(generated.length, KINDS.length, 'one CRD per kind');
    assert.deepEqual((await readdir(COMMITTED)).sort(), generated, 'file set of deploy/crds');
    for (const file of generated) {
      assert.equal(await readFile(join(COMMITTED, file), 'utf8'), await readFile(join(out, file), 'utf8'), `deploy/crds/${file} is stale`);
    }
  });

  it('exits 2 with usage when no output directory is given', async () => {
    await assert.rejects(run(process.execPath, [SCRIPT]), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr ?? '', /usage: node dist\/src\/controlplane\/model\/generate-crds.js OUTPUT_DIR/);
      return true;
    });
  });
});
