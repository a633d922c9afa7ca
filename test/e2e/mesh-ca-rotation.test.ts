/**
 * A root rotation through the real control plane under steady load. Two
 * `weft proxy` sidecars get their certificates from the mesh CA; the client
 * side health-checks the server side every 200 ms, each check a new mTLS
 * handshake with the certificates of the moment. `weft ca rotate` adds a new
 * root to the trust bundle, the new root starts signing, leaves are re-issued
 * and pushed over SDS, and the old root leaves after the overlap. Keep-alive
 * load runs through both sidecars all along: no request fails, no handshake is
 * refused for its certificates on either side, and afterwards the server
 * sidecar presents a leaf of the new root.
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
  let ports: { api: number; xds: number; apiIn: number; apiAdmin: number; apiOut: number; webAdmin: number; webOut: number; webIn: number };
  const server = (): string => `http://127.0.0.1:${ports.api}`;
  const weft = async (args: string[], input?: string): Promise<string> => {
    const result = await runWeft([...args, '--server', server()], input, cp.bootstrapAdminToken);
    assert.equal(result.code, 0, `weft ${args.join(' ')}: exit ${result.code}; ${result.stderr}${result.stdout}`);
    return result.stdout;
  };

  before(async () => {
    // Every port explicit: a sidecar left to its defaults would bind 15001/15006, which parallel tests share.
    const [api, xds, apiIn, apiAdmin, apiOut, webAdmin, webOut, webIn] = (await freePorts(8)) as [number, number, number, number, number, number, number, number];
    ports = { api, xds, apiIn, apiAdmin, apiOut, webAdmin, webOut, webIn };
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
# Each check is a new mTLS connection and a request (the server must accept the client's certificate);
# one failure marks the endpoint unhealthy (and the load would see 503s).
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficPolicy
metadata: { name: api }
spec:
  targetRef: { kind: Service, name: api }
  healthCheck: { http: { path: /healthz }, interval: 200ms, timeout: 3s, unhealthyThreshold: 1 }
`);
    // The API route behind `weft identity --registration-token` (controlplane-ca.test.ts runs the CLI): fewer processes.
    const token = async (workload: string): Promise<string> => {
      const shown = await fetch(`${server()}/api/identities/default/${workload}?token=true`, { headers: { authorization: `Bearer ${cp.bootstrapAdminToken}` } });
      assert.equal(shown.status, 200, await shown.clone().text());
      return ((await shown.json()) as { token: string }).token;
    };
    const control = { xdsPort: cp.xdsPort, xdsTlsPort: 0 };
    sidecars.push(startSidecar(control, { workload: 'api-1', token: await token('api-1') }, { admin: apiAdmin, outbound: apiOut, inbound: apiIn }));
    sidecars.push(startSidecar(control, { workload: 'web-1', token: await token('web-1') }, { admin: webAdmin, outbound: webOut, inbound: webIn }));
  });

  after(async () => {
    for (const sidecar of sidecars) await sidecar.stop();
    await cp?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request and refuses no handshake while the root is replaced, and ends on leaves of the new root', { timeout: 120_000 }, async () => {
    const [, web] = sidecars as [Sidecar, Sidecar];
    await waitFor(async () => (await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: api:9080', `http://127.0.0.1:${ports.webOut}/ready-check`])).stdout === '200', 'mTLS through both sidecars', 90_000)
      .catch((err: Error) => assert.fail(`${err.message}; web sidecar: ${web.output()}; api sidecar: ${sidecars[0]!.output()}`));
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
    const checks = (await stat('success')) - checksBefore;
    assert.ok(checks >= 10, `health checks (new handshakes) ran throughout: ${checks} passed, ${await stat('failure')} failed, ${await stat('network_failure')} network failures`);
    // No handshake was refused for its certificates on either side (a check slow on a busy machine is not the rotation's doing).
    const [api] = sidecars as [Sidecar, Sidecar];
    // (The server's no-certificate refusals are this test's own openssl probes.)
    const refusals = [
      [web, `cluster.${API_CLUSTER}.ssl`, ['fail_verify_error', 'fail_verify_san', 'fail_verify_no_cert', 'connection_error']],
      [api, `listener.0.0.0.0_${ports.apiIn}.ssl`, ['fail_verify_error', 'fail_verify_san']],
    ] as const;
    for (const [proxy, prefix, failures] of refusals) {
      for (const failure of failures) assert.equal(await statValue(proxy, `${prefix}.${failure}`), 0, `${prefix}.${failure}`);
    }
    const serverHandshakes = await statValue(api, `listener.0.0.0.0_${ports.apiIn}.ssl.handshake`);
    assert.ok(serverHandshakes >= 10, `the server side counted the handshakes (${serverHandshakes})`);
  });
});
