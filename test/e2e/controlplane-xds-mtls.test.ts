/**
 * The control plane's mTLS xDS port (istiod's 15012) with a real `weft
 * controlplane`: openssl sees its SPIFFE certificate from the mesh CA; a
 * `weft proxy --ca-file` sidecar gets its certificate there with its
 * registration token (server-authenticated TLS) and then its config over
 * mutual TLS; raw ADS clients are refused without a client certificate, with
 * another CA's, and when the node they name is not the certificate's workload.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { requestCertificate } from '../../src/controlplane/ca/client.js';
import { CLUSTER_TYPE_URL } from '../../src/xds/type-urls.js';
import { opensslCsr, scratchDir } from '../controlplane/ca/openssl.js';
import { connectAdsClient } from '../controlplane/xds/ads-test-client.js';
import { createTestCa } from '../support/pki.js';
import { newSqliteConfig, registrationToken, startControlPlane, startSidecar, STRICT_MESH_YAML, type ControlPlaneProcess, type Sidecar } from './controlplane-harness.js';
import { freePort, startUpstream, waitFor, type Upstream } from './harness.js';

const CONTROL_PLANE_ID = 'spiffe://weft.test/ns/weft-system/sa/weft-controlplane';

const meshYaml = (appPort: number, inboundPort: number): string => `${STRICT_MESH_YAML}
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: web }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: web-1 }
spec: { address: 127.0.0.1, service: web, serviceAccount: web, inboundPort: ${inboundPort}, ports: [{ name: http, port: ${appPort} }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: api-1 }
spec: { address: 127.0.0.1, service: web, serviceAccount: api, ports: [{ name: http, port: 9081 }] }
`;

/**
 * What one openssl s_client handshake printed of the server's certificate
 * (its SANs) and whether its chain verified against `caFile`. One handshake,
 * so both lines describe the same certificate.
 */
function serverCertificate(port: number, caFile: string): Promise<string> {
  const handshake = `openssl s_client -alpn h2 -connect 127.0.0.1:${port} -CAfile ${caFile} </dev/null 2>&1`;
  return new Promise((resolve) => {
    execFile('sh', ['-c', `out=$(${handshake}); printf '%s\\n' "$out" | openssl x509 -noout -ext subjectAltName 2>&1; printf '%s\\n' "$out" | grep 'Verify return code'`], { timeout: 15_000 }, (_err, stdout) => resolve(stdout));
  });
}

describe('xDS over mTLS: the control plane\'s 15012', () => {
  const dir = scratchDir('weft-xds-mtls-');
  const bundleFile = join(dir, 'bundle.pem');
  let cp: ControlPlaneProcess;
  let app: Upstream;
  let sidecar: Sidecar | undefined;
  /** web-1's sidecar inbound port (its Workload's inboundPort). */
  let inboundPort: number;
  /** Verifies the control plane by the bundle; its host name is not what it is checked by (its SPIFFE ID is). */
  const serverAuth = (key?: string, chain?: string): grpc.ChannelCredentials =>
    grpc.credentials.createSsl(readFileSync(bundleFile), key === undefined ? null : Buffer.from(key), chain === undefined ? null : Buffer.from(chain), { checkServerIdentity: () => undefined });

  before(async () => {
    app = await startUpstream(undefined, 'web');
    cp = await startControlPlane(await newSqliteConfig());
    inboundPort = await freePort();
    const applied = await cp.weft(['apply', '-f', '-'], meshYaml(app.port, inboundPort));
    assert.equal(applied.code, 0, applied.stderr);
    const bundle = await cp.weft(['ca', 'show', '--bundle']);
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.match(bundle.stdout, /^-----BEGIN CERTIFICATE-----/);
    writeFileSync(bundleFile, bundle.stdout);
  });

  after(async () => {
    await sidecar?.stop();
    await cp?.stop();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('presents the control plane\'s SPIFFE certificate from the mesh CA (openssl s_client), named in the Mesh\'s trust domain', async () => {
    // Issued at start in the default trust domain; the applied Mesh renames it within a refresh.
    const out = await waitFor(async () => {
      const printed = await serverCertificate(cp.xdsTlsPort, bundleFile);
      return printed.includes(`URI:${CONTROL_PLANE_ID}`) && printed.includes('Verify return code') ? printed : undefined;
    }, `the control plane's certificate as ${CONTROL_PLANE_ID}`, 20_000);
    assert.match(out, /Verify return code: 0 \(ok\)/, out);
    const listening = cp.logLines('xds server listening').map((l) => `${String(l['transport'])} ${String(l['address'])}`);
    assert.deepEqual(listening.sort(), [`mtls 127.0.0.1:${cp.xdsTlsPort}`, `plaintext 127.0.0.1:${cp.xdsPort}`]);
  });

  it('serves a weft proxy --ca-file sidecar: its certificate over TLS with its token, then its config over mutual TLS', async () => {
    const adminPort = await freePort();
    sidecar = startSidecar(cp, { workload: 'web-1', token: await registrationToken(cp, 'web-1'), caFile: bundleFile }, { admin: adminPort, outbound: await freePort(), inbound: inboundPort });
    await waitFor(async () => (await sidecar!.admin('/ready').catch(() => undefined))?.ok === true, `the sidecar's /ready: ${sidecar.output()}`, 60_000);
    // Its inbound listener came over ADS (/ready may come first: the initial fetch timeout on a busy machine).
    await waitFor(async () => /inbound_0\.0\.0\.0_/.test(await (await sidecar!.admin('/config_dump')).text()), 'the inbound listener over ADS', 60_000);
    const proxies = await cp.weft(['proxies', '-o', 'json']);
    assert.match(proxies.stdout, /sidecar~web-1\.default/);
    assert.equal(cp.logLines('xds stream refused').length, 0, cp.output());
  });

  it('refuses ADS without a client certificate, with another CA\'s, and for a node that is not the certificate\'s workload', async () => {
    const cds = (nodeId: string) => ({ node: { id: nodeId }, type_url: CLUSTER_TYPE_URL });
    const refusal = async (credentials: grpc.ChannelCredentials, nodeId: string): Promise<grpc.StatusObject> => {
      const client = connectAdsClient(cp.xdsTlsPort, credentials);
      try {
        const stream = client.sotw();
        stream.send(cds(nodeId));
        return await stream.waitForEnd(10_000);
      } finally {
        client.close();
      }
    };
    const none = await refusal(serverAuth(), 'sidecar~web-1.default');
    assert.equal(none.code, grpc.status.PERMISSION_DENIED);
    assert.match(none.details, /needs a client certificate from the mesh CA/);

    // web-1's certificate (openssl makes the key and CSR), asked for over TLS with its token.
    const { keyPath, csrPem } = opensslCsr(dir, 'web-1', 'spiffe://weft.test/ns/default/sa/web');
    const issued = await requestCertificate({ address: `127.0.0.1:${cp.xdsTlsPort}`, token: await registrationToken(cp, 'web-1'), csrPem, credentials: serverAuth() });
    const web = serverAuth(readFileSync(keyPath, 'utf8'), issued.certificateChainPem);
    const other = await refusal(web, 'sidecar~api-1.default');
    assert.equal(other.code, grpc.status.PERMISSION_DENIED);
    assert.match(other.details, /is spiffe:\/\/weft\.test\/ns\/default\/sa\/api, but the client certificate is spiffe:\/\/weft\.test\/ns\/default\/sa\/web/);

    const foreignCa = await createTestCa('Another Root');
    const foreign = await foreignCa.issue({ spiffeId: 'spiffe://weft.test/ns/default/sa/web' });
    const forged = await refusal(serverAuth(foreign.keyPem, foreign.certPem), 'sidecar~web-1.default');
    assert.equal(forged.code, grpc.status.PERMISSION_DENIED);
    assert.match(forged.details, /needs a client certificate from the mesh CA/);

    // The same certificate for its own node gets config.
    const client = connectAdsClient(cp.xdsTlsPort, web);
    try {
      const stream = client.sotw();
      stream.send(cds('sidecar~web-1.default'));
      const response = await stream.next(10_000);
      assert.equal(response['type_url'], CLUSTER_TYPE_URL);
    } finally {
      client.close();
    }
  });
});
