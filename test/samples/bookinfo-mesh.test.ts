/**
 * samples/bookinfo/mesh.yaml, what `weft demo` applies: every document passes
 * the model's validation, references only the file's own resources, and
 * translates into the mesh the demo promises (reviews split 50/50 between v2
 * and v3 at every sidecar, each instance reached through its sidecar's inbound
 * port over mTLS, each inbound side guarded by the TrafficTargets).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { findMissingReferences } from '../../src/controlplane/model/references.js';
import { keyOf, type Resource, type ResourceKey } from '../../src/controlplane/model/resource.js';
import { validateResource } from '../../src/controlplane/model/validate.js';
import { translateForProxy } from '../../src/controlplane/translate/translate.js';
import { planBookinfo } from '../../samples/demo/bookinfo-plan.js';

const MESH_FILE = fileURLToPath(new URL('../../../samples/bookinfo/mesh.yaml', import.meta.url));

/** mesh.yaml as written, or as the demo applies it (inbound ports set, planned at the default base). */
function loadMesh(asApplied = false): Resource[] {
  const text = readFileSync(MESH_FILE, 'utf8');
  return parseAllDocuments(asApplied ? planBookinfo(text, 15000).manifest : text).map((doc, i) => {
    assert.deepEqual(doc.errors, [], `document ${i + 1} parses`);
    const result = validateResource(doc.toJS());
    if (!result.ok) assert.fail(`document ${i + 1}: ${JSON.stringify(result.errors)}`);
    return result.resource;
  });
}

type Json = Record<string, unknown>;

describe('samples/bookinfo/mesh.yaml', () => {
  it('validates, and names the BookInfo services, six instances, a split and two policies', () => {
    const resources = loadMesh();
    const names = (kind: string) => resources.filter((r) => r.kind === kind).map((r) => r.metadata.name).sort();
    assert.deepEqual(names('Mesh'), ['default']);
    assert.deepEqual(names('Service'), ['details', 'productpage', 'ratings', 'reviews', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
    assert.deepEqual(names('Workload'), ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
    assert.deepEqual(names('TrafficSplit'), ['reviews']);
    assert.deepEqual(names('TrafficPolicy'), ['ratings', 'reviews']);
    assert.deepEqual(names('Gateway'), ['bookinfo-gateway']);
    assert.deepEqual(names('HTTPRouteGroup'), ['bookinfo-api']);
    assert.deepEqual(names('TrafficTarget'), ['details', 'productpage', 'ratings', 'reviews']);
    assert.equal((resources.find((r) => r.kind === 'Mesh')!.spec as { mtls: { mode: string } }).mtls.mode, 'STRICT');
    const ports = resources.filter((r) => r.kind === 'Workload').map((r) => (r.spec as { ports: Array<{ port: number }> }).ports[0]!.port);
    assert.equal(new Set(ports).size, ports.length, 'every instance listens on its own port');
  });

  it('references only its own resources', () => {
    const resources = loadMesh();
    const present = new Set(resources.map((r) => JSON.stringify(keyOf(r))));
    const exists = (key: ResourceKey) => present.has(JSON.stringify({ kind: key.kind, namespace: key.namespace, name: key.name }));
    for (const resource of resources) assert.deepEqual(findMissingReferences(resource, exists), [], `${resource.kind}/${resource.metadata.name}`);
  });

  it('gives a sidecar a 50/50 route from reviews:9080 to reviews v2 and v3, whose endpoints are those instances\' sidecars, over mTLS', () => {
    const resources = loadMesh(true);
    const xds = translateForProxy(
      { nodeId: 'sidecar~productpage-v1.default', kind: 'sidecar', workload: 'productpage-v1', namespace: 'default', capturePorts: { outbound: 15101, inbound: 15106 } },
      resources,
    );
    const virtualHosts = (xds.routes as Json[]).find((r) => r['name'] === 'outbound')!['virtual_hosts'] as Json[];
    const reviews = virtualHosts.find((v) => (v['domains'] as string[]).includes('reviews:9080'))!;
    const route = ((reviews['routes'] as Json[])[0]!['route']) as Json;
    assert.deepEqual(route['weighted_clusters'], {
      clusters: [{ name: 'outbound|9080||reviews-v2.default.svc', weight: 50 }, { name: 'outbound|9080||reviews-v3.default.svc', weight: 50 }],
    });
    const endpointPorts = (cluster: string) =>
      ((xds.endpoints as Json[]).find((e) => e['cluster_name'] === cluster)!['endpoints'] as Array<{ lb_endpoints: Array<{ endpoint: { address: { socket_address: { port_value: number } } } }> }>)
        .flatMap((l) => l.lb_endpoints.map((e) => e.endpoint.address.socket_address.port_value));
    assert.deepEqual(endpointPorts('outbound|9080||reviews-v2.default.svc'), [15136]);
    assert.deepEqual(endpointPorts('outbound|9080||reviews-v3.default.svc'), [15146]);
    assert.deepEqual(endpointPorts('outbound|9080||reviews.default.svc'), [15126, 15136, 15146]);
    const reviewsV2 = (xds.clusters as Json[]).find((c) => c['name'] === 'outbound|9080||reviews-v2.default.svc')!;
    assert.match(JSON.stringify(reviewsV2['transport_socket']), /spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-reviews/);
    assert.deepEqual((xds.listeners as Json[]).map((l) => l['name']), ['inbound_0.0.0.0_15106', 'outbound_0.0.0.0_15101']);
    // productpage's inbound side admits the gateway's identity only.
    const inbound = JSON.stringify((xds.listeners as Json[])[0]);
    assert.match(inbound, /envoy\.filters\.http\.rbac/);
    assert.match(inbound, /spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-gateway/);
    assert.doesNotMatch(inbound, /sa\/bookinfo-reviews/);
  });
});
