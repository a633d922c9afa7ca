/** The BookInfo demo's port plan: derived from mesh.yaml and one base, moved whole by another base. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { validateResource } from '../../../src/controlplane/model/validate.js';
import { planBookinfo, plannedPorts, PORT_SPAN } from '../../../samples/demo/bookinfo-plan.js';

const MESH_YAML = readFileSync(fileURLToPath(new URL('../../../../samples/bookinfo/mesh.yaml', import.meta.url)), 'utf8');

describe('demo: BookInfo port plan', () => {
  it('at the default base: DESIGN.md\'s control plane ports, mesh.yaml\'s app ports, a block of sidecar ports per instance', () => {
    const plan = planBookinfo(MESH_YAML, 15000);
    assert.equal(plan.xdsPort, 15010);
    assert.equal(plan.apiPort, 15080);
    assert.deepEqual(plan.instances.map((i) => [i.workload, i.app, i.version, i.appPort, i.adminPort, i.outboundPort, i.inboundPort]), [
      ['productpage-v1', 'productpage', 'v1', 15200, 15100, 15101, 15106],
      ['details-v1', 'details', 'v1', 15201, 15110, 15111, 15116],
      ['reviews-v1', 'reviews', 'v1', 15202, 15120, 15121, 15126],
      ['reviews-v2', 'reviews', 'v2', 15203, 15130, 15131, 15136],
      ['reviews-v3', 'reviews', 'v3', 15204, 15140, 15141, 15146],
      ['ratings-v1', 'ratings', 'v1', 15205, 15150, 15151, 15156],
    ]);
    assert.deepEqual(plan.gateway, { name: 'bookinfo-gateway', adminPort: 15090, port: 15280 });
    const ports = plannedPorts(plan).map((p) => p.port);
    assert.equal(new Set(ports).size, ports.length, 'no port used twice');
  });

  it('another base moves every port, and the manifest to apply with it, which still validates', () => {
    const plan = planBookinfo(MESH_YAML, 23000);
    for (const { port, use } of plannedPorts(plan)) assert.ok(port >= 23000 && port < 23000 + PORT_SPAN, `${use}: ${port}`);
    const workloads = parseAllDocuments(plan.manifest).map((doc) => validateResource(doc.toJS())).map((result) => {
      if (!result.ok) assert.fail(JSON.stringify(result.errors));
      return result.resource;
    }).filter((r) => r.kind === 'Workload');
    // Each Workload is reached through its sidecar's inbound port (mTLS between sidecars).
    assert.deepEqual(
      workloads.map((w) => [w.metadata.name, (w.spec as { ports: Array<{ port: number }> }).ports[0]!.port, (w.spec as { inboundPort?: number }).inboundPort]),
      plan.instances.map((i) => [i.workload, i.appPort, i.inboundPort]),
    );
    assert.equal(plan.gateway.port, 23280);
    assert.match(plan.manifest, /port: 23280/);
    assert.equal(plan.instances.find((i) => i.workload === 'reviews-v3')!.appPort, 23204);
  });

  it('rejects a base that leaves no room, and a Workload without an http port', () => {
    assert.throws(() => planBookinfo(MESH_YAML, 65500), /port base 65500/);
    assert.throws(() => planBookinfo(MESH_YAML, 80), /port base 80/);
    const portless = MESH_YAML.replace('- { name: http, port: 15201 }', '- { name: admin, port: 15201 }');
    assert.throws(() => planBookinfo(portless, 15000), /Workload details-v1 has no port named http/);
  });
});
