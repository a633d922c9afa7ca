/**
 * The sidecar's identity end to end with a real `weft controlplane`: `weft proxy
 * --workload` makes its own key, sends a CSR with the workload's registration
 * token, receives its certificate and the trust bundle over SDS, and serves
 * STRICT mTLS on its inbound port; openssl s_client with another workload's
 * certificate from the same CA gets through, without a certificate it does not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestCertificate } from '../../src/controlplane/ca/client.js';
import { opensslCsr, scratchDir } from '../controlplane/ca/openssl.js';
import { newSqliteConfig, registrationToken, startControlPlane, STRICT_MESH_YAML, type ControlPlaneProcess } from './controlplane-harness.js';
import { freePort, startUpstream, waitFor, WEFT_BIN, type Upstream } from './harness.js';
import { sClient } from './tls-fixtures.js';

const meshYaml = (appPort: number, inboundPort: number): string => `${STRICT_MESH_YAML}
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: reviews, namespace: shop }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: reviews-v1, namespace: shop }
spec: { address: 127.0.0.1, service: reviews, serviceAccount: reviews, inboundPort: ${inboundPort}, ports: [{ name: http, port: ${appPort} }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: productpage, namespace: shop }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: productpage-v1, namespace: shop }
spec: { address: 127.0.0.1, service: productpage, serviceAccount: productpage, ports: [{ name: http, port: 9080 }] }
`;

const token = (cp: ControlPlaneProcess, workload: string): Promise<string> => registrationToken(cp, workload, 'shop');

describe('weft proxy --workload: its own key, a certificate from the control plane CA, STRICT mTLS inbound', () => {
  const dir = scratchDir('weft-sidecar-identity-');
  let cp: ControlPlaneProcess;
  let app: Upstream;
  let sidecar: ChildProcess;
  let output = '';
  let adminPort: number;
  let inboundPort: number;

  before(async () => {
    app = await startUpstream(undefined, 'reviews');
    inboundPort = await freePort();
    adminPort = await freePort();
    cp = await startControlPlane(await newSqliteConfig());
    const applied = await cp.weft(['apply', '-f', '-'], meshYaml(app.port, inboundPort));
    assert.equal(applied.code, 0, applied.stderr);
    const tokenFile = join(dir, 'reviews.token');
    writeFileSync(tokenFile, await token(cp, 'reviews-v1'), { mode: 0o600 });
    sidecar = spawn(WEFT_BIN, [
      'proxy', '--workload', 'reviews-v1', '--namespace', 'shop', '--control-plane', `127.0.0.1:${cp.xdsPort}`, '--token-file', tokenFile,
      '--admin-port', String(adminPort), '--inbound-port', String(inboundPort), '--outbound-port', String(await freePort()), '--drain-timeout', '1',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    sidecar.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    sidecar.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  });

  after(async () => {
    if (sidecar !== undefined && sidecar.exitCode === null) {
      sidecar.kill('SIGKILL');
      await once(sidecar, 'exit');
    }
    await cp?.stop();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports ready only once its inbound TLS listener has its certificate (Envoy\'s listener warming)', async () => {
    const client = await productpageCertificate();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => undefined))?.ok === true, `the sidecar's /ready: ${output}`, 90_000);
    // No retry: ready means the first mTLS request is served.
    const out = await sClient(inboundPort, ['-CAfile', client.caPath, '-verify_return_error', '-cert', client.certPath, '-key', client.keyPath]);
    assert.match(out, /HTTP\/1\.1 200/);
  });

  /** A client certificate for productpage from the same CA (openssl makes its key and CSR). */
  async function productpageCertificate(): Promise<{ keyPath: string; certPath: string; caPath: string }> {
    const { keyPath, csrPem } = opensslCsr(dir, 'productpage');
    const issued = await requestCertificate({ address: `127.0.0.1:${cp.xdsPort}`, token: await token(cp, 'productpage-v1'), csrPem });
    const certPath = join(dir, 'productpage.crt');
    const caPath = join(dir, 'bundle.pem');
    writeFileSync(certPath, issued.certificateChainPem);
    writeFileSync(caPath, issued.trustBundlePem);
    return { keyPath, certPath, caPath };
  }

  it('gets its certificate through a CSR (the key stays in the proxy) and serves mTLS to another workload of the mesh', async () => {
    const stat = async (name: string): Promise<number> => {
      try {
        const body = (await (await fetch(`http://127.0.0.1:${adminPort}/stats?format=json`)).json()) as { stats: Array<{ name?: string; value?: number }> };
        return body.stats.find((s) => s.name === name)?.value ?? 0;
      } catch {
        return 0;
      }
    };
    await waitFor(async () => (await stat('server.identity.certificate_issued')) >= 1, `the sidecar's certificate: ${output}`, 90_000);
    assert.doesNotMatch(output, /BEGIN (EC )?PRIVATE KEY/, 'no key in the logs');
    const dump = await (await fetch(`http://127.0.0.1:${adminPort}/config_dump`)).text();
    assert.doesNotMatch(dump, /PRIVATE KEY/, 'no key in the config dump');

    const { keyPath, certPath, caPath } = await productpageCertificate();
    const served = await waitFor(async () => {
      const out = await sClient(inboundPort, ['-CAfile', caPath, '-verify_return_error', '-cert', certPath, '-key', keyPath]);
      return /HTTP\/1\.1 200/.test(out) ? out : undefined;
    }, `mTLS through the sidecar's inbound listener: ${output}`, 60_000);
    assert.match(served, /"upstream":"reviews"/);
    const refused = await sClient(inboundPort, ['-CAfile', caPath]);
    assert.doesNotMatch(refused, /HTTP\/1\.1 200/, 'no client certificate: refused');
  });
});
