import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { openStore } from '../../../src/controlplane/store/index.js';
import { DATABASE_FILE } from '../../../src/controlplane/store/sqlite-store.js';
import { service } from './conformance.js';

it("openStore({ kind: 'sqlite' }) opens the embedded store under the data directory", async () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'weft-open-store-')), 'nested', 'data');
  const store = openStore({ kind: 'sqlite', dataDir });
  try {
    const stored = await store.put(service('reviews'));
    assert.equal(stored.metadata.resourceVersion, '1');
    assert.ok(existsSync(join(dataDir, DATABASE_FILE)), 'the data directory is created with the database in it');
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

it("openStore({ kind: 'etcd' }) needs at least one endpoint", () => {
  assert.throws(() => openStore({ kind: 'etcd', endpoints: [] }), /at least one endpoint/);
});
