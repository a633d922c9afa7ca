/** translate/dependencies.ts: what a proxy's snapshot reads, what a change touches, and the index between them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL, changeDependencies, DependencyIndex, proxyDependencies } from '../../../src/controlplane/translate/dependencies.js';
import { buildMeshView } from '../../../src/controlplane/translate/mesh-view.js';
import { httpRouteGroup, httpService, SIDECAR, trafficPolicy, trafficSplit, workload } from './fixtures.js';

const base = [
  ...httpService('a', ['10.0.0.1']),
  ...httpService('b', ['10.0.0.2']),
  ...httpService('b-v2', ['10.0.0.3']),
  ...httpService('c', ['10.0.0.4']),
  trafficSplit('b', { service: 'b', backends: [{ service: 'b-v2', weight: 100 }] }),
  trafficPolicy('b', { targetRef: { kind: 'Service', name: 'b' }, mirror: { service: 'b-shadow' } }),
  workload('caller', { address: '10.0.1.1', service: 'a', reachableServices: ['b', 'missing'] }),
];
const view = buildMeshView(base);
const sorted = (deps: ReturnType<typeof proxyDependencies>) => (deps === ALL ? ALL : [...deps].sort());

describe('dependencies', () => {
  it('a scoped sidecar reads its workload, the services it backs, declares and routes to (missing ones too: creating them must reach it)', () => {
    assert.deepEqual(sorted(proxyDependencies(view, { ...SIDECAR, workload: 'caller' })), [
      'Service/default/a', 'Service/default/b', 'Service/default/b-shadow', 'Service/default/b-v2', 'Service/default/missing', 'Workload/default/caller',
    ]);
  });

  it('unscoped and unregistered sidecars, gateways and proxyless clients read everything', () => {
    assert.equal(proxyDependencies(view, { ...SIDECAR, workload: 'a-1' }), ALL);
    assert.equal(proxyDependencies(view, { ...SIDECAR, workload: 'nobody' }), ALL);
    assert.equal(proxyDependencies(view, { nodeId: 'g', namespace: 'default', kind: 'gateway' }), ALL);
    assert.equal(proxyDependencies(view, { nodeId: 'p', namespace: 'default', kind: 'proxyless' }), ALL);
  });

  it('a workload change touches the services it backs before and after; policies and splits their service', () => {
    const moved = workload('c-1', { address: '10.0.0.4', service: 'b' });
    const after = buildMeshView([...base.filter((r) => r.metadata.name !== 'c-1'), moved]);
    assert.deepEqual(sorted(changeDependencies(moved, view, after)), ['Service/default/b', 'Service/default/c', 'Workload/default/c-1']);
    assert.deepEqual(sorted(changeDependencies(trafficPolicy('p', { targetRef: { kind: 'Service', name: 'c' } }), view, view)), ['Service/default/c']);
    assert.deepEqual(sorted(changeDependencies(base.find((r) => r.kind === 'TrafficSplit')!, view, view)), ['Service/default/b']);
    assert.equal(changeDependencies(httpRouteGroup('g', { matches: [{ name: 'm', pathRegex: '/x' }] }), view, view), ALL);
  });

  it('the index finds the proxies that depend on a changed key, plus those that depend on everything', () => {
    const index = new DependencyIndex();
    index.set('x', new Set(['Service/default/a']));
    index.set('y', new Set(['Service/default/b']));
    index.set('z', ALL);
    assert.deepEqual([...index.affected(new Set(['Service/default/b']))].sort(), ['y', 'z']);
    assert.deepEqual([...index.affected(ALL)].sort(), ['x', 'y', 'z']);
    index.set('y', new Set(['Service/default/c']));
    index.delete('z');
    assert.deepEqual([...index.affected(new Set(['Service/default/b']))], []);
    assert.deepEqual([...index.affected(new Set(['Service/default/c']))], ['y']);
  });
});
