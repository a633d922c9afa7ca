/** The snapshot cache: consistency check, encoding errors, per-type versions, shared encodings, change-only notifications. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshotCache, SnapshotRejectedError } from '../../../src/controlplane/xds/snapshot-cache.js';
import { newSnapshot } from '../../../src/controlplane/xds/snapshot.js';
import { decodeAny } from '../../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL as EDS,
  CLUSTER_TYPE_URL as CDS,
  LISTENER_TYPE_URL as LDS,
  ROUTE_CONFIGURATION_TYPE_URL as RDS,
} from '../../../src/xds/type-urls.js';
import { apiListener, edsCluster, loadAssignment, serviceSnapshot, type WeightedBackend } from './fixtures.js';

const backends = (weightA: number): WeightedBackend[] => [
  { cluster: 'echo-a', weight: weightA, endpoints: [{ address: '127.0.0.1', port: 9001 }] },
  { cluster: 'echo-b', weight: 100 - weightA, endpoints: [{ address: '127.0.0.1', port: 9002 }] },
];

function rejection(action: () => void): SnapshotRejectedError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof SnapshotRejectedError, `expected SnapshotRejectedError, got ${String(error)}`);
    return error;
  }
  assert.fail('the snapshot was accepted');
}

describe('snapshot cache', () => {
  it('rejects a listener naming a missing route configuration and an EDS cluster without endpoints, keeping the previous snapshot', () => {
    const cache = createSnapshotCache();
    const good = serviceSnapshot('v1', 'echo', backends(90));
    cache.setSnapshot('n', good);
    const dangling = newSnapshot('v2', {
      [LDS]: [apiListener('echo', { rdsName: 'missing-routes' })],
      [CDS]: [edsCluster('lonely')],
      [EDS]: [],
    });
    const error = rejection(() => cache.setSnapshot('n', dangling));
    assert.equal(error.code, 'WEFT_ERR_CONFIG');
    assert.deepEqual(error.problems.map((problem) => problem.path), [
      'LDS[echo].api_listener.api_listener.rds.route_config_name',
      'CDS[lonely]',
    ]);
    assert.match(error.message, /RouteConfiguration "missing-routes"/);
    assert.match(error.message, /no ClusterLoadAssignment "lonely"/);
    assert.equal(cache.getSnapshot('n'), good);
  });

  it('rejects a resource filed under another name and one the protos cannot encode, with the field path', () => {
    const cache = createSnapshotCache();
    const misfiled = serviceSnapshot('v1', 'echo', backends(90));
    misfiled.resources.get(CDS)!.set('alias', misfiled.resources.get(CDS)!.get('echo-a')!);
    assert.match(rejection(() => cache.setSnapshot('n', misfiled)).message, /CDS\[alias\]: is filed under "alias" but names itself "echo-a"/);

    const typo = serviceSnapshot('v1', 'echo', backends(90));
    typo.resources.get(CDS)!.get('echo-a')!.resource['conect_timeout'] = '1s';
    const error = rejection(() => cache.setSnapshot('n', typo));
    assert.deepEqual(error.problems, [{ path: 'CDS[echo-a].conect_timeout', reason: 'unknown field of envoy.config.cluster.v3.Cluster' }]);
    assert.equal(cache.getSnapshot('n'), undefined);
  });

  it('versions each type by the snapshot that last changed it, and notifies watchers only of changes', () => {
    const cache = createSnapshotCache();
    let notified = 0;
    const watch = cache.watch('n', () => notified++);
    cache.setSnapshot('n', serviceSnapshot('v1', 'echo', backends(90)));
    cache.setSnapshot('n', serviceSnapshot('v2', 'echo', backends(50)));
    const published = cache.published('n')!;
    assert.equal(published.typeVersion(RDS), 'v2');
    assert.equal(published.typeVersion(CDS), 'v1');
    assert.equal(published.typeVersion(EDS), 'v1');
    assert.equal(published.typeVersion(LDS), 'v1');
    assert.equal(notified, 2);
    cache.setSnapshot('n', serviceSnapshot('v3', 'echo', backends(50)));
    assert.equal(notified, 2, 'identical content is not a change');
    watch.close();
    cache.setSnapshot('n', serviceSnapshot('v4', 'echo', backends(10)));
    assert.equal(notified, 2, 'a closed watch hears nothing');
  });

  it('encodes a resource once and shares the bytes between nodes, and decodes back to the same JSON', () => {
    const cache = createSnapshotCache();
    cache.setSnapshot('n1', serviceSnapshot('v1', 'echo', backends(90)));
    cache.setSnapshot('n2', serviceSnapshot('v7', 'echo', backends(90)));
    const one = cache.published('n1')!.resources(EDS).get('echo-a')!;
    const two = cache.published('n2')!.resources(EDS).get('echo-a')!;
    assert.equal(one.any, two.any, 'the same encoded Any object');
    const { '@type': type, ...json } = decodeAny(one.any);
    assert.equal(type, EDS);
    assert.deepEqual(json, loadAssignment('echo-a', [{ address: '127.0.0.1', port: 9001 }]));
    cache.clearSnapshot('n1');
    assert.equal(cache.published('n1'), undefined);
    assert.deepEqual(cache.nodeIds(), ['n2']);
  });

  it('shares one snapshot value between nodes: the same encoded maps, kept until the last node lets go', () => {
    const cache = createSnapshotCache();
    const shared = serviceSnapshot('v1', 'echo', backends(90));
    for (const node of ['a', 'b', 'c']) cache.setSnapshot(node, shared);
    for (const type of [LDS, RDS, CDS, EDS] as const) {
      assert.equal(cache.published('a')!.resources(type), cache.published('b')!.resources(type), 'one map for both nodes');
    }
    const anyBefore = cache.published('a')!.resources(CDS).get('echo-a')!.any;
    cache.clearSnapshot('a');
    cache.setSnapshot('b', serviceSnapshot('v2', 'echo', backends(50)));
    assert.equal(cache.published('c')!.resources(CDS).get('echo-a')!.any, anyBefore, 'c still holds the shared encoding');
    assert.notEqual(cache.published('b')!.resources(RDS), cache.published('c')!.resources(RDS));
    assert.equal(cache.published('b')!.typeVersion(CDS), 'v1', 'clusters did not change for b: its CDS version stays');
    assert.equal(cache.published('b')!.typeVersion(RDS), 'v2');
  });
});

