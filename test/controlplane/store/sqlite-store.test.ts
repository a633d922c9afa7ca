import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { RevisionCompactedError } from '../../../src/controlplane/store/errors.js';
import { DATABASE_FILE, openSqliteStore } from '../../../src/controlplane/store/sqlite-store.js';
import { keyOf } from '../../../src/controlplane/model/resource.js';
import { collectEvents, describeStoreConformance, service, summary } from './conformance.js';

const root = mkdtempSync(join(tmpdir(), 'weft-sqlite-store-'));
let dirs = 0;
const freshDir = (): string => join(root, `store-${++dirs}`);
after(() => rmSync(root, { recursive: true, force: true }));

describeStoreConformance('sqlite', async () => openSqliteStore(freshDir()));

describe('sqlite store', () => {
  it('reopening the data directory keeps resources, revision and change log', async () => {
    const dir = freshDir();
    const first = openSqliteStore(dir);
    const created = await first.put(service('reviews'));
    const updated = await first.put(service('reviews', { replicas: 3 }));
    await first.put(service('ratings'));
    await first.delete(keyOf(service('ratings')));
    const revisionBefore = await first.revision();
    await first.close();

    const second = openSqliteStore(dir);
    try {
      assert.equal(await second.revision(), revisionBefore);
      assert.deepEqual(await second.list(), [updated]);
      const next = await second.put(service('details'));
      assert.equal(next.metadata.resourceVersion, String(Number(revisionBefore) + 1), 'the revision continues where it stopped');
      const replay = collectEvents(second, '0');
      assert.deepEqual(summary(await replay.until(5)), ['ADDED Service/reviews', 'MODIFIED Service/reviews', 'ADDED Service/ratings', 'DELETED Service/ratings', 'ADDED Service/details']);
      assert.deepEqual(replay.events[0]?.resource, created);
      replay.close();
    } finally {
      await second.close();
    }
  });

  it('uses WAL journaling in a file under the data directory', async () => {
    const dir = freshDir();
    const store = openSqliteStore(dir);
    await store.put(service('x'));
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal((db.prepare('SELECT count(*) AS n FROM resources').get() as { n: number }).n, 1);
    } finally {
      db.close();
      await store.close();
    }
  });

  it('compacts the change log to the retention and refuses a watch from a compacted revision', async () => {
    const dir = freshDir();
    const store = openSqliteStore(dir, { changeLogRetention: 5 });
    try {
      for (let i = 1; i <= 12; i++) await store.put(service('churn', { step: i }));
      assert.equal(await store.revision(), '12');
      const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
      const kept = db.prepare('SELECT revision FROM changes ORDER BY revision').all() as Array<{ revision: number }>;
      db.close();
      assert.deepEqual(kept.map((r) => r.revision), [8, 9, 10, 11, 12], 'only the last 5 changes are kept');

      assert.throws(() => store.watch(() => undefined, '6'), (err: unknown) => {
        assert.ok(err instanceof RevisionCompactedError);
        assert.equal(err.requested, '6');
        assert.equal(err.compactedThrough, '7');
        assert.match(err.message, /compacted.*list again/);
        return true;
      });
      const oldest = collectEvents(store, '7');
      const events = await oldest.until(5);
      assert.deepEqual(events.map((e) => e.revision), ['8', '9', '10', '11', '12']);
      assert.deepEqual(events.map((e) => (e.resource.spec as { step: number }).step), [8, 9, 10, 11, 12]);
      oldest.close();
      assert.throws(() => store.watch(() => undefined, 'abc'), RangeError);
    } finally {
      await store.close();
    }
  });

  it('keeps compaction state across a restart', async () => {
    const dir = freshDir();
    const first = openSqliteStore(dir, { changeLogRetention: 3 });
    for (let i = 0; i < 6; i++) await first.put(service(`s${i}`));
    await first.close();
    const second = openSqliteStore(dir, { changeLogRetention: 3 });
    try {
      assert.throws(() => second.watch(() => undefined, '1'), RevisionCompactedError);
      const replay = collectEvents(second, '3');
      assert.deepEqual(summary(await replay.until(3)), ['ADDED Service/s3', 'ADDED Service/s4', 'ADDED Service/s5']);
      replay.close();
    } finally {
      await second.close();
    }
  });

  it('a watcher that throws does not disturb writers or other watchers', async () => {
    const store = openSqliteStore(freshDir());
    try {
      const throwing = store.watch(() => {
        throw new Error('boom');
      });
      const healthy = collectEvents(store);
      await store.put(service('a'));
      await store.put(service('b'));
      assert.deepEqual(summary(await healthy.until(2)), ['ADDED Service/a', 'ADDED Service/b']);
      throwing.close();
      healthy.close();
    } finally {
      await store.close();
    }
  });
});
