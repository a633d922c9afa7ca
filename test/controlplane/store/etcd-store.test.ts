import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { keyOf, type Resource } from '../../../src/controlplane/model/resource.js';
import { openEtcdStore } from '../../../src/controlplane/store/etcd-store.js';
import type { Store } from '../../../src/controlplane/store/store.js';
import { collectEvents, describeStoreConformance, service } from './conformance.js';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.js';

let cluster: EtcdCluster;
let stores = 0;
const openIsolatedStore = (): Store => openEtcdStore({ endpoints: cluster.endpoints, prefix: `/weft-test-${process.pid}-${++stores}/` });

before(async () => {
  cluster = await startEtcdCluster(3);
});
after(async () => {
  await cluster.stop();
});

describeStoreConformance('etcd', async () => openIsolatedStore());

describe('etcd store', () => {
  it('keeps its keys under the prefix, one JSON document per resource, resourceVersion = mod_revision', async () => {
    const prefix = `/weft-layout-${process.pid}/`;
    const store = openEtcdStore({ endpoints: cluster.endpoints, prefix });
    const raw = new Etcd3({ hosts: cluster.endpoints });
    try {
      const stored = await store.put(service('reviews', {}, 'shop'));
      const response = await raw.get(`${prefix}resources/Service/shop/reviews`).exec();
      const kv = response.kvs[0];
      assert.ok(kv);
      assert.equal(kv.mod_revision, stored.metadata.resourceVersion);
      const document = JSON.parse(kv.value.toString()) as Resource;
      assert.equal(document.metadata.uid, stored.metadata.uid);
      assert.equal(document.metadata.resourceVersion, undefined, 'the version is the key revision, not stored');
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('loses no acknowledged write and no watch event when the etcd leader is killed mid-write', { timeout: 45_000 }, async () => {
    const store = openIsolatedStore();
    const start = await store.revision();
    const watch = collectEvents(store, start);
    const acked = new Map<string, Resource>();
    const failedKeys = new Set<string>();
    let ackedAfterKill = 0;
    let killed = false;
    let stop = false;

    // Each writer creates its own keys, then replaces each once with the version it got back.
    const writer = async (id: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const resource = service(`w${id}-${i}`, { writer: id, step: i });
        try {
          const created = await store.put(resource, '');
          acked.set(resource.metadata.name, created);
          if (killed) ackedAfterKill++;
          const updated = await store.put(service(resource.metadata.name, { writer: id, step: i, updated: true }), created.metadata.resourceVersion);
          acked.set(resource.metadata.name, updated);
          if (killed) ackedAfterKill++;
        } catch {
          failedKeys.add(resource.metadata.name);
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, id) => writer(id));

    const deadline = Date.now() + 30_000;
    const waitUntil = async (condition: () => boolean, what: string): Promise<void> => {
      while (!condition()) {
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitUntil(() => acked.size >= 50, '50 acknowledged writes before the kill');
    await cluster.kill(await cluster.leaderIndex());
    killed = true;
    await waitUntil(() => ackedAfterKill >= 100, '100 acknowledged writes after the kill');
    stop = true;
    await Promise.all(writers);

    const reads = await Promise.all([...acked.values()].map((r) => store.get(keyOf(r))));
    for (const [i, expected] of [...acked.values()].entries()) {
      if (failedKeys.has(expected.metadata.name)) {
        assert.ok(reads[i], `${expected.metadata.name}: acknowledged create is readable`);
        continue;
      }
      assert.deepEqual(reads[i], expected, `${expected.metadata.name}: the last acknowledged write is what is stored`);
    }
    assert.ok(failedKeys.size <= 4, `at most one failed write per writer during failover (failed: ${[...failedKeys].join(', ')})`);

    const ackedRevisions = new Set([...acked.values()].map((r) => r.metadata.resourceVersion));
    await waitUntil(() => {
      const seen = new Set(watch.events.map((e) => e.revision));
      return [...ackedRevisions].every((rev) => seen.has(rev as string));
    }, 'the watch to deliver every acknowledged write');
    const revisions = watch.events.map((e) => BigInt(e.revision));
    for (let i = 1; i < revisions.length; i++) assert.ok(revisions[i]! > revisions[i - 1]!, 'watch events stay in order across the failover');
    const byRevision = new Map(watch.events.map((e) => [e.revision, e.resource]));
    for (const resource of acked.values()) assert.deepEqual(byRevision.get(resource.metadata.resourceVersion as string), resource);
    watch.close();
    await store.close();
  });
});
