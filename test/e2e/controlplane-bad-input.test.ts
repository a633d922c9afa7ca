/**
 * Bad input against a real `weft controlplane` process, through the real CLI
 * and plain HTTP: schema errors name their field, unknown kinds, oversized
 * documents and malformed YAML get clear errors, and a TrafficSplit naming
 * missing services is stored as Invalid without disturbing the process or the
 * config of a connected grpc-js-xds client.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StatusBody } from '../../src/controlplane/api/status.js';
import type { ProxyStatus } from '../../src/controlplane/xds/proxy-status.js';
import { countBackends, newEchoClient, registerXdsClient, share, startGrpcEchoServer, type EchoClient, type GrpcEchoServer } from '../support/grpc-echo.js';
import { echoMeshYaml, echoSplitYaml, newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';

const NODE_ID = 'e2e-bad-input-client';
const SERVICES_PATH = '/apis/mesh.weft.dev/v1alpha1/namespaces/default/services';
const BAD_PORT_SERVICE = `apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata:
  name: bad-port
spec:
  ports:
    - name: grpc
      port: 70000
`;

describe('weft controlplane with bad input', () => {
  let cp: ControlPlaneProcess;
  let dataDir: string;
  const echoServers: GrpcEchoServer[] = [];
  let client: EchoClient;

  const file = (name: string, text: string): string => {
    const path = join(dataDir, name);
    writeFileSync(path, text);
    return path;
  };
  const post = async (body: string, contentType: string, path = SERVICES_PATH): Promise<{ status: number; body: StatusBody }> => {
    const response = await cp.api(path, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: response.status, body: (await response.json()) as StatusBody };
  };
  const clientTypes = async (): Promise<ProxyStatus['types']> => {
    const { items } = (await (await cp.api('/api/proxies')).json()) as { items: ProxyStatus[] };
    const proxy = items.find((p) => p.nodeId === NODE_ID);
    assert.ok(proxy, `the client is connected: ${JSON.stringify(items)}`);
    return proxy.types;
  };

  before(async () => {
    echoServers.push(await startGrpcEchoServer('v1'), await startGrpcEchoServer('v2'));
    const config = await newSqliteConfig();
    dataDir = (config.store as { dataDir: string }).dataDir;
    cp = await startControlPlane(config);
    const [v1, v2] = echoServers as [GrpcEchoServer, GrpcEchoServer];
    const applied = await cp.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: v1.port, v2: v2.port })}---\n${echoSplitYaml({ v1: 90, v2: 10 })}`);
    assert.equal(applied.code, 0, applied.stderr);
    registerXdsClient(cp.xdsPort, { id: NODE_ID });
    client = newEchoClient('xds:///echo');
    await countBackends(client, 50);
  });

  after(async () => {
    client?.close();
    await cp?.stop();
    await Promise.all(echoServers.map((server) => server.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a schema error fails weft apply with exit 1 and the field path, and the API with 400 and the same path', async () => {
    const result = await cp.weft(['apply', '-f', file('bad-port.yaml', BAD_PORT_SERVICE)]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^weft: .*bad-port\.yaml: document 1: spec\.ports\[0\]\.port: must be <= 65535/m);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');

    const api = await post(BAD_PORT_SERVICE, 'application/yaml');
    assert.equal(api.status, 400);
    assert.equal(api.body.reason, 'Invalid');
    assert.deepEqual(api.body.details.causes.map((c) => c.field), ['spec.ports[0].port']);
    assert.equal((await cp.weft(['get', 'service', 'bad-port'])).code, 1, 'nothing was stored');
  });

  it('an unknown kind is refused by weft apply, weft get and the API, each naming the known kinds', async () => {
    const unknown = 'apiVersion: mesh.weft.dev/v1alpha1\nkind: Frobnicator\nmetadata:\n  name: frob\nspec: {}\n';
    const applied = await cp.weft(['apply', '-f', '-'], unknown);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /stdin: document 1: kind: unknown kind "Frobnicator"; supported kinds: Mesh .*TrafficSplit/);

    const got = await cp.weft(['get', 'frobnicators']);
    assert.equal(got.code, 1);
    assert.match(got.stderr, /unknown kind "frobnicators"; known kinds: meshes, services/);

    const api = await post(unknown, 'application/yaml', '/apis/mesh.weft.dev/v1alpha1/namespaces/default/frobnicators');
    assert.equal(api.status, 404);
    assert.match(api.body.message, /no kind is served at POST .*frobnicators; known kinds: .*services/);
  });

  it('a document over 1 MiB is refused with 413, through weft apply and the API', async () => {
    const huge = JSON.stringify({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'Service',
      metadata: { name: 'huge', annotations: { blob: 'x'.repeat(1100 * 1024) } },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    const api = await post(huge, 'application/json');
    assert.equal(api.status, 413);
    assert.equal(api.body.reason, 'RequestEntityTooLarge');
    assert.match(api.body.message, /larger than 1048576 bytes \(1 MiB\)/);

    const applied = await cp.weft(['apply', '-f', file('huge.json', huge)]);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /^weft: POST \/apis\/mesh\.weft\.dev\/v1alpha1\/namespaces\/default\/services: 413 RequestEntityTooLarge: request body is larger than/m);
    assert.equal((await cp.weft(['get', 'service', 'huge'])).code, 1, 'nothing was stored');
  });

  it('malformed YAML is refused with its line and column, and a file with one bad document changes nothing', async () => {
    const malformed = `${BAD_PORT_SERVICE.replace('bad-port', 'first').replace('70000', '8080')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n spec: [\n`;
    const applied = await cp.weft(['apply', '-f', file('malformed.yaml', malformed)]);
    assert.equal(applied.code, 1);
    assert.match(applied.stderr, /^weft: .*malformed\.yaml: document 2: invalid YAML: .* at line 14, column 1$/m);
    assert.equal((await cp.weft(['get', 'service', 'first'])).code, 1, 'the valid first document was not applied either');

    const api = await post('metadata:\n  name: x\n spec: [\n', 'application/yaml');
    assert.equal(api.status, 400);
    assert.match(api.body.message, /invalid YAML: .*line 3, column 1/);
  });

  it('a TrafficSplit naming missing services is stored as Invalid; the process and the client config are unaffected', async () => {
    const before = await clientTypes();
    const ghost = 'apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\nmetadata:\n  name: ghost-rollout\nspec:\n  service: ghost\n  backends:\n    - service: ghost-v1\n      weight: 50\n    - service: ghost-v2\n      weight: 50\n';
    const applied = await cp.weft(['apply', '-f', '-'], ghost);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), 'trafficsplit/ghost-rollout created');

    const table = await cp.weft(['get', 'ts']);
    assert.match(table.stdout, /^ghost-rollout\s+default\s+Invalid\s/m);
    assert.match(table.stdout, /^echo-rollout\s+default\s+Accepted\s/m);
    const doc = JSON.parse((await cp.weft(['get', 'ts', 'ghost-rollout', '-o', 'json'])).stdout) as { status: { conditions: Array<{ type: string; reason: string; message: string }> } };
    assert.equal(doc.status.conditions[0]!.type, 'Invalid');
    assert.equal(doc.status.conditions[0]!.reason, 'MissingReference');
    assert.match(doc.status.conditions[0]!.message, /spec\.service: Service default\/ghost does not exist/);
    assert.match(doc.status.conditions[0]!.message, /spec\.backends\[1\]\.service: Service default\/ghost-v2 does not exist/);

    const counts = await countBackends(client, 1000);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.9) <= 0.05, `still 90/10: v1 answered ${(v1Share * 100).toFixed(1)}%`);
    assert.equal(cp.child.exitCode, null, 'the control plane is still running');
    assert.deepEqual((await (await cp.api('/healthz')).json()) as unknown, { status: 'ok', leader: true });
    const afterTypes = await clientTypes();
    for (const [typeUrl, status] of Object.entries(afterTypes)) {
      assert.equal(status.nackError, undefined, `${typeUrl} not NACKed`);
      assert.equal(status.ackedVersion, before[typeUrl as keyof typeof before]?.ackedVersion, `${typeUrl}: nothing changed for the client, nothing was pushed`);
    }
  });
});
