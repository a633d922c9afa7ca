/** Workload.spec.reachableServices: a sidecar's outbound config holds only the services it can reach, shared between equal scopes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTranslator, translateForProxy, type ProxyIdentity } from '../../../src/controlplane/translate/translate.js';
import { httpService, service, SIDECAR, trafficPolicy, trafficSplit, workload } from './fixtures.js';
import { assertEncodes } from './sidecar.test.js';

function mesh() {
  return [
    ...httpService('productpage', ['10.0.0.1']),
    ...httpService('details', ['10.0.0.2']),
    ...httpService('reviews', ['10.0.0.3']),
    ...httpService('reviews-v2', ['10.0.0.4']),
    ...httpService('ratings', ['10.0.0.5']),
    ...httpService('shadow', ['10.0.0.6']),
    service('db', { ports: [{ name: 'pg', port: 5432, protocol: 'tcp' }] }, 'data'),
    trafficSplit('reviews', { service: 'reviews', backends: [{ service: 'reviews-v2', weight: 100 }] }),
    trafficPolicy('details', { targetRef: { kind: 'Service', name: 'details' }, mirror: { service: 'shadow', percent: 10 } }),
    workload('web', { address: '10.0.1.1', service: 'productpage', ports: [{ name: 'http', port: 9080 }], reachableServices: ['details', 'reviews.default'] }),
    workload('web-2', { address: '10.0.1.2', service: 'productpage', ports: [{ name: 'http', port: 9080 }], reachableServices: ['reviews', 'details.default.svc'] }),
    workload('batch', { address: '10.0.1.3', service: 'ratings', reachableServices: ['db.data'] }),
    workload('lonely', { address: '10.0.1.4', service: 'ratings', reachableServices: [] }),
  ];
}

const sidecar = (workloadName: string): ProxyIdentity => ({ ...SIDECAR, nodeId: `sidecar~${workloadName}.default`, workload: workloadName });
const names = (items: object[], field = 'name') => items.map((item) => String((item as Record<string, unknown>)[field]));
const outbound = (port: number, name: string, namespace = 'default') => `outbound|${port}||${name}.${namespace}.svc`;

describe('translate: reachableServices scopes a sidecar', () => {
  it('gives a scoped sidecar the clusters, assignments and virtual hosts of its services and their split backends and mirror target only', () => {
    const xds = translateForProxy(sidecar('web'), mesh());
    const expected = ['details', 'reviews', 'reviews-v2', 'shadow'].map((name) => outbound(9080, name)).sort();
    assert.deepEqual(names(xds.clusters), ['inbound|9080||', ...expected]);
    assert.deepEqual(names(xds.endpoints, 'cluster_name'), expected);
    const [routes] = xds.routes as Array<{ name: string; virtual_hosts: Array<{ name: string }> }>;
    assert.equal(routes!.name, 'outbound');
    assert.deepEqual(routes!.virtual_hosts.map((v) => v.name), ['details', 'reviews', 'reviews-v2', 'shadow'].map((n) => `${n}.default.svc.cluster.local:9080`));
    assert.deepEqual(names(xds.listeners), ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001'], 'no TCP listener: db is out of scope');
    assertEncodes(xds);
  });

  it('gives a TCP service in scope its listener, and an empty scope only the capture listeners', () => {
    const batch = translateForProxy(sidecar('batch'), mesh());
    // Both back ratings (9080): their inbound side is unaffected by the scope.
    assert.deepEqual(names(batch.clusters), ['inbound|9080||', outbound(5432, 'db', 'data')]);
    assert.deepEqual(names(batch.listeners), ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001', 'outbound_0.0.0.0_5432']);
    const lonely = translateForProxy(sidecar('lonely'), mesh());
    assert.deepEqual(names(lonely.clusters), ['inbound|9080||']);
    assert.deepEqual(lonely.endpoints, []);
    assert.deepEqual((lonely.routes[0] as { virtual_hosts: unknown[] }).virtual_hosts, []);
    assertEncodes(lonely);
  });

  it('gives a sidecar without reachableServices, or of an unregistered workload, every service', () => {
    const resources = mesh();
    const all = resources.filter((r) => r.kind === 'Service').length;
    const unscoped = translateForProxy(sidecar('productpage-1'), resources);
    assert.equal(unscoped.endpoints.length, all);
    assert.equal(translateForProxy(sidecar('not-registered'), resources).endpoints.length, all);
  });

  it('shares the outbound objects of equal scopes however they are spelled, and keeps the inbound part per workload', () => {
    const translator = createTranslator(mesh());
    const web = translator.forProxy(sidecar('web'));
    const web2 = translator.forProxy(sidecar('web-2'));
    assert.equal(web.routes[0], web2.routes[0], 'one RouteConfiguration object for both');
    web.endpoints.forEach((assignment, i) => assert.equal(assignment, web2.endpoints[i]));
    assert.notEqual(web.routes[0], translator.forProxy(sidecar('batch')).routes[0]);
  });
});
