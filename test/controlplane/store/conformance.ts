/**
 * The behaviour every Store backend must show, as one suite run against each
 * backend (sqlite-store.test.ts, etcd-store.test.ts). `openStore` must return
 * a fresh, empty store each time; the suite closes it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { keyOf, type Resource } from '../../../src/controlplane/model/resource.js';
import { InvalidResourceKeyError } from '../../../src/controlplane/store/errors.js';
import { ConflictError, type Store, type WatchEvent } from '../../../src/controlplane/store/store.js';

export function service(name: string, spec: Record<string, unknown> = { ports: [{ port: 80 }] }, namespace = 'default', kind = 'Service'): Resource {
  return { apiVersion: 'mesh.weft.dev/v1alpha1', kind, metadata: { name, namespace, labels: { app: name } }, spec };
}

/** Collects watch events; `until(n)` waits (bounded) until at least n arrived. */
export function collectEvents(store: Store, fromRevision?: string): { events: WatchEvent[]; until(count: number, timeoutMs?: number): Promise<WatchEvent[]>; close(): void } {
  const events: WatchEvent[] = [];
  const handle = store.watch((event) => events.push(event), fromRevision);
  return {
    events,
    async until(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) assert.fail(`expected ${count} watch events within ${timeoutMs} ms, got ${events.length}: ${JSON.stringify(summary(events))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return events;
    },
    close: () => handle.close(),
  };
}

export function summary(events: WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.resource.kind}/${e.resource.metadata.name}`);
}

function asRevision(version: string | undefined): bigint {
  assert.match(version ?? '', /^\d+$/, `resourceVersion ${version} is a revision`);
  return BigInt(version as string);
}

export function describeStoreConformance(backend: string, openStore: () => Promise<Store>): void {
  describe(`Store conformance: ${backend}`, () => {
    const opened: Store[] = [];
    const fresh = async (): Promise<Store> => {
      const store = await openStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('creates, reads, replaces and deletes, keeping identity from the first write', async () => {
      const store = await fresh();
      const input = service('reviews');
      const created = await store.put(input);
      assert.equal(input.metadata.resourceVersion, undefined, 'the caller\'s object is not mutated');
      assert.ok(created.metadata.uid && created.metadata.creationTimestamp);
      assert.ok(!Number.isNaN(Date.parse(created.metadata.creationTimestamp)));
      assert.deepEqual(await store.get(keyOf(input)), created);
      assert.deepEqual(created.spec, input.spec);

      const replaced = await store.put(service('reviews', { ports: [{ port: 9080 }] }));
      assert.equal(replaced.metadata.uid, created.metadata.uid);
      assert.equal(replaced.metadata.creationTimestamp, created.metadata.creationTimestamp);
      assert.ok(asRevision(replaced.metadata.resourceVersion) > asRevision(created.metadata.resourceVersion));
      assert.deepEqual((await store.get(keyOf(input)))?.spec, { ports: [{ port: 9080 }] });

      assert.deepEqual(await store.delete(keyOf(input)), replaced, 'delete returns the last stored state');
      assert.equal(await store.get(keyOf(input)), undefined);
      assert.equal(await store.delete(keyOf(input)), undefined, 'deleting an absent resource returns undefined');

      const recreated = await store.put(input);
      assert.notEqual(recreated.metadata.uid, created.metadata.uid, 'a new resource after delete gets a new uid');
    });

    it('ignores a resourceVersion in the written document and rejects unstorable keys', async () => {
      const store = await fresh();
      const input = service('details');
      input.metadata.resourceVersion = '999999999';
      const stored = await store.put(input);
      assert.notEqual(stored.metadata.resourceVersion, '999999999');
      await assert.rejects(store.put(service('a/b')), InvalidResourceKeyError);
      await assert.rejects(store.put(service('x', {}, 'a/b')), InvalidResourceKeyError);
    });

    it("stores cluster-scoped resources under the empty namespace", async () => {
      const store = await fresh();
      const stored = await store.put(service('mesh-wide', {}, ''));
      assert.equal(stored.metadata.namespace, '');
      assert.equal((await store.get({ kind: 'Service', namespace: '', name: 'mesh-wide' }))?.metadata.name, 'mesh-wide');
      assert.deepEqual((await store.list({ kind: 'Service', namespace: '' })).map((r) => r.metadata.name), ['mesh-wide']);
    });

    it('lists by kind, by namespace, by both, sorted by kind, namespace, name', async () => {
      const store = await fresh();
      await store.put(service('b', {}, 'shop'));
      await store.put(service('a', {}, 'shop'));
      await store.put(service('c', {}, 'default'));
      await store.put(service('w1', {}, 'shop', 'Workload'));
      await store.put(service('w2', {}, 'default', 'Workload'));
      const names = (resources: Resource[]): string[] => resources.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`);
      assert.deepEqual(names(await store.list()), ['Service/default/c', 'Service/shop/a', 'Service/shop/b', 'Workload/default/w2', 'Workload/shop/w1']);
      assert.deepEqual(names(await store.list({ kind: 'Service' })), ['Service/default/c', 'Service/shop/a', 'Service/shop/b']);
      assert.deepEqual(names(await store.list({ namespace: 'shop' })), ['Service/shop/a', 'Service/shop/b', 'Workload/shop/w1']);
      assert.deepEqual(names(await store.list({ kind: 'Workload', namespace: 'shop' })), ['Workload/shop/w1']);
      assert.deepEqual(await store.list({ kind: 'Serv' }), [], 'a kind is matched exactly, not as a prefix');
      for (const resource of await store.list()) assert.match(resource.metadata.resourceVersion ?? '', /^\d+$/);
    });

    it("create-only writes ('') fail with ConflictError when the resource exists", async () => {
      const store = await fresh();
      const created = await store.put(service('ratings'), '');
      const err = await store.put(service('ratings'), '').then(
        () => assert.fail('second create must conflict'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConflictError);
      assert.equal(err.expected, '');
      assert.equal(err.actual, created.metadata.resourceVersion);
      assert.deepEqual(err.key, { kind: 'Service', namespace: 'default', name: 'ratings' });
    });

    it('a write naming a stale resourceVersion fails with ConflictError and changes nothing', async () => {
      const store = await fresh();
      const v1 = await store.put(service('productpage', { replicas: 1 }));
      const v2 = await store.put(service('productpage', { replicas: 2 }), v1.metadata.resourceVersion);
      await assert.rejects(store.put(service('productpage', { replicas: 3 }), v1.metadata.resourceVersion), (e: unknown) => {
        assert.ok(e instanceof ConflictError);
        assert.equal(e.actual, v2.metadata.resourceVersion);
        return true;
      });
      await assert.rejects(store.put(service('absent'), '12345'), ConflictError, 'a version for an absent resource conflicts');
      assert.deepEqual(await store.get(keyOf(v1)), v2);
    });

    it('delete honours the expected resourceVersion', async () => {
      const store = await fresh();
      const v1 = await store.put(service('gateway'));
      const v2 = await store.put(service('gateway', { replicas: 2 }));
      await assert.rejects(store.delete(keyOf(v1), v1.metadata.resourceVersion), ConflictError);
      assert.deepEqual(await store.get(keyOf(v1)), v2, 'a rejected delete leaves the resource');
      assert.deepEqual(await store.delete(keyOf(v1), v2.metadata.resourceVersion), v2);
      assert.equal(await store.get(keyOf(v1)), undefined);
    });

    it('putStatus changes only status, never conflicts, and survives a later spec write', async () => {
      const store = await fresh();
      assert.equal(await store.putStatus({ kind: 'Service', namespace: 'default', name: 'nope' }, { conditions: [] }), undefined);
      const created = await store.put(service('reviews', { replicas: 1 }));
      const accepted = { conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Valid', message: '', lastTransitionTime: new Date().toISOString() }] };
      const withStatus = await store.putStatus(keyOf(created), accepted);
      assert.ok(withStatus);
      assert.deepEqual(withStatus.status, accepted);
      assert.deepEqual(withStatus.spec, created.spec);
      assert.equal(withStatus.metadata.uid, created.metadata.uid);
      assert.ok(asRevision(withStatus.metadata.resourceVersion) > asRevision(created.metadata.resourceVersion), 'a status write is a new revision');

      // Status and spec writers racing: every write lands, none is lost.
      const specWrites = Array.from({ length: 5 }, (_, i) => store.put(service('reviews', { replicas: 10 + i })));
      const statusWrites = Array.from({ length: 5 }, (_, i) => store.putStatus(keyOf(created), { conditions: [{ ...accepted.conditions[0]!, reason: `R${i}` }] }));
      await Promise.all([...specWrites, ...statusWrites]);
      const final = await store.get(keyOf(created));
      assert.ok(final?.status?.conditions[0]?.reason.startsWith('R'), 'a spec write without status keeps the stored status');
      assert.ok((final?.spec as { replicas: number }).replicas >= 10);
    });

    it('watch delivers every change in order, live and replayed from a past revision', async () => {
      const store = await fresh();
      const start = await store.revision();
      const live = collectEvents(store);
      const a1 = await store.put(service('a'));
      const a2 = await store.put(service('a', { replicas: 2 }));
      const b1 = await store.put(service('b'));
      const a3 = await store.putStatus(keyOf(a1), { conditions: [] });
      const aDeleted = await store.delete(keyOf(a1));
      const expected = ['ADDED Service/a', 'MODIFIED Service/a', 'ADDED Service/b', 'MODIFIED Service/a', 'DELETED Service/a'];
      assert.deepEqual(summary(await live.until(5)), expected);
      const revisions = live.events.map((e) => asRevision(e.revision));
      assert.deepEqual(revisions, [...revisions].sort((x, y) => (x < y ? -1 : 1)));
      assert.deepEqual(live.events.slice(0, 4).map((e) => e.resource), [a1, a2, b1, a3]);
      assert.deepEqual(live.events[4]?.resource, aDeleted, 'DELETED carries the last stored state');
      assert.ok(asRevision(live.events[4]?.revision) > asRevision(aDeleted?.metadata.resourceVersion), 'the delete has its own revision');

      const replay = collectEvents(store, start);
      assert.deepEqual(summary(await replay.until(5)), expected);
      assert.deepEqual(replay.events, live.events, 'replay equals what live watchers saw');
      const tail = collectEvents(store, b1.metadata.resourceVersion);
      assert.deepEqual(summary(await tail.until(2)), expected.slice(3), 'events strictly after the given revision');

      live.close();
      await store.put(service('c'));
      await replay.until(6);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(live.events.length, 5, 'a closed watch gets nothing more');
      replay.close();
      tail.close();
    });

    it('concurrent writers get unique, increasing revisions and watchers see each write once, in order', async () => {
      const store = await fresh();
      const start = await store.revision();
      const distinct = Array.from({ length: 40 }, (_, i) => store.put(service(`svc-${i}`)));
      const sameKey = Array.from({ length: 10 }, (_, i) => store.put(service('hot', { writer: i })));
      const sequential = (async () => {
        const versions: bigint[] = [];
        for (let i = 0; i < 10; i++) versions.push(asRevision((await store.put(service('seq', { step: i }))).metadata.resourceVersion));
        return versions;
      })();
      const results = await Promise.all([...distinct, ...sameKey]);
      const versions = results.map((r) => r.metadata.resourceVersion);
      assert.equal(new Set(versions).size, versions.length, 'no two writes share a revision');
      const seq = await sequential;
      assert.deepEqual(seq, [...seq].sort((x, y) => (x < y ? -1 : 1)), 'one writer sees its revisions increase');
      const all = [...versions.map(asRevision), ...seq];
      const max = all.reduce((m, v) => (v > m ? v : m));
      assert.ok(asRevision(await store.revision()) >= max);

      const replay = collectEvents(store, start);
      const events = await replay.until(60);
      const revisions = events.map((e) => asRevision(e.revision));
      for (let i = 1; i < revisions.length; i++) assert.ok(revisions[i]! > revisions[i - 1]!, 'strictly increasing event revisions');
      for (const version of all) assert.ok(revisions.includes(version), `the write at revision ${version} was watched`);
      replay.close();
    });
  });
}
