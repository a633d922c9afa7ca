/**
 * A root rotation through the real control plane under steady load. Two
 * `weft proxy` sidecars get their certificates from the mesh CA; the client
 * side health-checks the server side every 200 ms, each check a new mTLS
 * handshake with the certificates of the moment. `weft ca rotate` adds a new
 * root to the trust bundle, the new root starts signing, leaves are re-issued
 * and pushed over SDS, and the old root leaves after the overlap. Keep-alive
 * load runs through both sidecars all along: no request fails, no health check
 * fails, and afterwards the server sidecar presents a leaf of the new root.
 *
 * The control plane runs in this process so its CA can step quickly (activation
 * after 1.5 s, a pass every 300 ms); `weft` and the proxies are real processes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControlPlane, type RunningControlPlane } from '../../src/controlplane/server.js';
import { runWeft } from '../cli/cli-harness.js';
import { startSidecar, STRICT_MESH_YAML, type Sidecar } from './controlplane-harness.js';
import { curl, freePorts, startUpstream, statValue, waitFor, type Upstream } from './harness.js';
import { steadyLoad } from './tls-fixtures.js';

const API_CLUSTER = 'outbound|9080||api.default.svc';

/** What `openssl s_client` says about the server's chain verified against `caFile` alone. */
function verifyServerChain(port: number, caFile: string): Promise<string> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `openssl s_client -connect 127.0.0.1:${port} -CAfile ${caFile} </dev/null 2>&1 | grep 'Verify return code'`], { timeout: 10_000 }, (_err, stdout) => resolve(stdout.trim()));
  });
}

describe('CA root rotation under load (control plane, SDS, two sidecars)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-rotation-'));
  let cp: RunningControlPlane;
  let app: Upstream;
  const sidecars: Sidecar[] = [];
  let ports: { api: number; xds: number; xdsTls: number; apiIn: number; apiAdmin: number; apiOut: number; webAdmin: number; webOut: number };
  const server = (): string => `http://127.0.0.1:${ports.api}`;
  const weft = async (args: string[], input?: string): Promise<string> => {
    const result = await runWeft([...args, '--server', server()], input, cp.bootstrapAdminToken);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };

  before(async () => {
    const [api, xds, xdsTls, apiIn, apiAdmin, apiOut, webAdmin, webOut] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    ports = { api, xds, xdsTls, apiIn, apiAdmin, apiOut, webAdmin, webOut };
    app = await startUpstream(undefined, 'api-app');
    cp = await startControlPlane({
      store: { kind: 'sqlite', dataDir: join(dir, 'store') },
      xdsPort: xds,
      apiPort: api,
      host: '127.0.0.1',
      dataDir: join(dir, 'store'),
      log: pino({ level: 'silent' }),
      ca: { sweepIntervalMs: 300, activationDelayMs: 1500 },
    });
    await weft(['apply', '-f', '-'], `${STRICT_MESH_YAML}
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: api }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: api-1 }
spec: { address: 127.0.0.1, service: api, serviceAccount: api, inboundPort: ${apiIn}, ports: [{ name: http, port: ${app.port} }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: web }
spec: { ports: [{ name: http, port: 8080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: web-1 }
spec: { address: 127.0.0.1, service: web, serviceAccount: web }
---
# Each check is a new mTLS handshake; one failure marks the endpoint unhealthy (and the load would see 503s).
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: api }
spec:
  targetRef: { kind: Service, name: api }
  healthCheck: { tcp: {}, interval: 200ms, timeout: 1s, unhealthyThreshold: 1 }
`);
    const token = async (workload: string): Promise<string> => (JSON.parse(await weft(['identity', workload, '--registration-token', '-o', 'json'])) as { token: string }).token;
    const control = { xdsPort: cp.xdsPort, xdsTlsPort: 0 };
    sidecars.push(startSidecar(control, { workload: 'api-1', token: await token('api-1') }, { admin: apiAdmin, outbound: apiOut, inbound: apiIn }));
    sidecars.push(startSidecar(control, { workload: 'web-1', token: await token('web-1') }, { admin: webAdmin, outbound: webOut }));
  });

  after(async () => {
    for (const sidecar of sidecars) await sidecar.stop();
    await cp?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request and no health check while the root is replaced, and ends on leaves of the new root', { timeout: 120_000 }, async () => {
    const [, web] = sidecars as [Sidecar, Sidecar];
    await waitFor(async () => (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: api:9080', `http://127.0.0.1:${ports.webOut}/ready-check`])).stdout === '200', `mTLS through both sidecars: ${web.output()}`, 90_000);
    const checksBefore = await statValue(web, `cluster.${API_CLUSTER}.health_check.success`);

    const load = steadyLoad(ports.webOut, 4, 'api:9080');
    const oldRoot = (JSON.parse(await weft(['ca', 'show', '-o', 'json'])) as { root: { fingerprintSha256: string } }).root.fingerprintSha256;
    const rotated = JSON.parse(await weft(['ca', 'rotate', '--overlap', '3s', '-o', 'json'])) as { pending?: { fingerprintSha256: string } };
    const newRoot = rotated.pending!.fingerprintSha256;
    // Done when the new root signs, the old one has left the bundle, and the server sidecar presents a new-root leaf.
    await waitFor(async () => {
      const status = JSON.parse(await weft(['ca', 'show', '-o', 'json'])) as { root: { fingerprintSha256: string }; retired: unknown[]; pending?: unknown; trustBundlePem: string };
      if (status.root.fingerprintSha256 !== newRoot || status.retired.length > 0 || status.pending !== undefined) return false;
      const bundleFile = join(dir, 'new-root.pem');
      writeFileSync(bundleFile, status.trustBundlePem);
      return (await verifyServerChain(ports.apiIn, bundleFile)) === 'Verify return code: 0 (ok)';
    }, 'the rotation to finish (new root signing, old root retired, new leaf served)', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // load and checks on the new leaves only
    const { ok, failed } = await load.stop();

    assert.notEqual(newRoot, oldRoot);
    assert.deepEqual(failed, [], `${failed.length} of ${ok + failed.length} requests failed during the rotation`);
    assert.ok(ok > 50, `steady load ran throughout (${ok} requests)`);
    const stat = (name: string): Promise<number> => statValue(web, `cluster.${API_CLUSTER}.health_check.${name}`);
    assert.ok((await stat('success')) - checksBefore >= 10, 'health checks (new handshakes) ran throughout');
    assert.equal(await stat('failure'), 0, 'no health check failed');
    assert.equal(await stat('network_failure'), 0, 'no health check handshake failed');
  });
});
