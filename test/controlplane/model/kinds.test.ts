import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findKind, KINDS } from '../../../src/controlplane/model/kinds.js';

describe('kind registry', () => {
  it('holds the native and SMI kinds with their API versions', () => {
    assert.deepEqual(
      KINDS.map((k) => `${k.apiVersion} ${k.kind}`),
      [
        'mesh.weft.dev/v1alpha1 Mesh',
        'mesh.weft.dev/v1alpha1 Service',
        'mesh.weft.dev/v1alpha1 Workload',
        'mesh.weft.dev/v1alpha1 TrafficPolicy',
        'mesh.weft.dev/v1alpha1 Gateway',
        'split.smi-spec.io/v1alpha4 TrafficSplit',
        'specs.smi-spec.io/v1alpha4 HTTPRouteGroup',
        'specs.smi-spec.io/v1alpha4 TCPRoute',
        'mesh.weft.dev/v1alpha1 PerformanceProfile',
        'mesh.weft.dev/v1alpha1 PerformanceResult',
        'access.smi-spec.io/v1alpha3 TrafficTarget',
      ],
    );
    assert.deepEqual(KINDS.filter((k) => !k.namespaced).map((k) => k.kind), ['Mesh']);
  });

  it('finds a kind by name in any case, by plural and by short name', () => {
    for (const name of ['TrafficSplit', 'trafficsplit', 'TRAFFICSPLIT', 'trafficsplits', 'ts']) assert.equal(findKind(name)?.kind, 'TrafficSplit', name);
    assert.equal(findKind('trafficpolicies')?.kind, 'TrafficPolicy');
    assert.equal(findKind('meshes')?.kind, 'Mesh');
    assert.equal(findKind('svc')?.kind, 'Service');
    assert.equal(findKind('Deployment'), undefined);
    assert.equal(findKind(''), undefined);
  });
});
