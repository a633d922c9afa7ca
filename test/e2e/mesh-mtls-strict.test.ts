/**
 * The whole identity path with real processes: `weft controlplane` (mesh CA),
 * two `weft proxy --workload` sidecars that make their own keys, get their
 * certificates through the CSR flow with their registration tokens, and receive
 * secrets and STRICT mTLS config over ADS. curl goes through both; openssl
 * s_client without a certificate and plaintext curl are refused at the server
 * sidecar.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { curl, freePorts, startUpstream, waitFor, type Upstream } from './harness.js';
import { newSqliteConfig, startControlPlane, startSidecar, STRICT_MESH_YAML, type ControlPlaneProcess, type Sidecar } from './controlplane-harness.js';
import { opensslDetails } from './tls-fixtures.js';
import { openUi } from './ui-harness.js';

describe('mesh in STRICT mTLS: control plane CA + two sidecars over ADS', () => {
  let cp: ControlPlaneProcess;
  let app: Upstream;
  const sidecars: Sidecar[] = [];
  let ports: { webAdmin: number; webOut: number; webIn: number; apiAdmin: number; apiOut: number; apiIn: number };

  before(async () => {
    const [webAdmin, webOut, webIn, apiAdmin, apiOut, apiIn] = (await freePorts(6)) as [number, number, number, number, number, number];
    ports = { webAdmin, webOut, webIn, apiAdmin, apiOut, apiIn };
    app = await startUpstream(undefined, 'api-app');
    cp = await startControlPlane(await newSqliteConfig());
    const applied = await cp.weft(['apply', '-f', '-'], `${STRICT_MESH_YAML}
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: api, namespace: shop }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: api-1, namespace: shop }
spec: { address: 127.0.0.1, service: api, serviceAccount: api, inboundPort: ${apiIn}, ports: [{ name: http, port: ${app.port} }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: web, namespace: shop }
spec: { ports: [{ name: http, port: 8080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: web-1, namespace: shop }
spec: { address: 127.0.0.1, service: web, serviceAccount: web, inboundPort: ${webIn} }
`);
    assert.equal(applied.code, 0, applied.stderr);
    // The API route behind `weft identity --registration-token` (the CLI is exercised in controlplane-ca.test.ts): fewer processes to start.
    const token = async (workload: string): Promise<string> => {
      const shown = await cp.api(`/api/identities/shop/${workload}?token=true`);
      assert.equal(shown.status, 200);
      return ((await shown.json()) as { token: string }).token;
    };
    sidecars.push(startSidecar(cp, { workload: 'api-1', namespace: 'shop', token: await token('api-1') }, { admin: apiAdmin, outbound: apiOut, inbound: apiIn }));
    sidecars.push(startSidecar(cp, { workload: 'web-1', namespace: 'shop', token: await token('web-1') }, { admin: webAdmin, outbound: webOut, inbound: webIn }));
  });

  after(async () => {
    for (const sidecar of sidecars) await sidecar.stop();
    await cp?.stop();
    await app?.close();
  });

  // Generous wait: each sidecar generates a key, asks for a certificate and warms its config (slow on a loaded machine).
  it('curl through the client sidecar reaches the app through the server sidecar over mTLS', async () => {
    let last = '';
    const response = await waitFor(async () => {
      const res = await curl(['-sS', '-H', 'Host: api.shop', `http://127.0.0.1:${ports.webOut}/hello`]);
      last = `${res.code} ${res.stdout} ${res.stderr}`;
      return res.code === 0 && res.stdout.includes('/hello') ? res : undefined;
    }, 'a response through both sidecars', 90_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last curl: ${last}\n--- web-1:\n${sidecars[1]?.output().slice(-3000)}\n--- api-1:\n${sidecars[0]?.output().slice(-3000)}`);
    });
    assert.equal(JSON.parse(response.stdout).url, '/hello');
    for (const workload of ['api-1', 'web-1']) {
      const identity = (await (await cp.api(`/api/identities/shop/${workload}`)).json()) as { certificate?: { chainPem: string } };
      assert.ok(identity.certificate !== undefined, `${workload} got its certificate through the CSR flow`);
    }
    const shown = (await (await cp.api('/api/ca')).json()) as { stats: Record<string, number> };
    assert.ok(shown.stats['issued']! >= 2);
  });

  it("each sidecar's admin /certs shows its SDS certificate from the CA, and the API's proxy detail its expiry", async () => {
    const { items } = (await (await cp.api('/api/v1/proxies')).json()) as { items: Array<{ nodeId: string; workload: string | null }> };
    for (const [index, workload, serviceAccount] of [[0, 'api-1', 'api'], [1, 'web-1', 'web']] as const) {
      const identity = (await (await cp.api(`/api/identities/shop/${workload}`)).json()) as { certificate: { chainPem: string } };
      const issued = opensslDetails(identity.certificate.chainPem);
      const body = await (await sidecars[index]!.admin('/certs')).text();
      assert.doesNotMatch(body, /PRIVATE KEY|-----BEGIN/);
      const { certificates } = JSON.parse(body) as { certificates: Array<{ ca_cert: Array<{ subject_alt_names: unknown[] }>; cert_chain: Array<Record<string, unknown>> }> };
      assert.ok(certificates.length >= 1, body);
      for (const context of certificates) {
        // Every TLS context of the sidecar (inbound listener, outbound clusters) uses the issued chain and the mesh's root.
        assert.equal(context.ca_cert.length, 1);
        assert.deepEqual(context.cert_chain, [{
          path: '<inline>', ...issued, subject_alt_names: [{ uri: `spiffe://weft.test/ns/shop/sa/${serviceAccount}` }],
          days_until_expiration: String(Math.floor((Date.parse(issued.expiration_time) - Date.now()) / 86_400_000)),
        }]);
      }
      const proxy = items.find((p) => p.workload === workload);
      assert.ok(proxy, `${workload} is connected: ${JSON.stringify(items)}`);
      const detail = (await (await cp.api(`/api/v1/proxies/${encodeURIComponent(proxy.nodeId)}`)).json()) as { certExpiry: string | null };
      assert.equal(detail.certExpiry, new Date(issued.expiration_time).toISOString());
    }
  });

  it("the UI's Proxies page shows the sidecar's certificate expiry (Chromium)", async () => {
    const { items } = (await (await cp.api('/api/v1/proxies')).json()) as { items: Array<{ nodeId: string; workload: string | null }> };
    const nodeId = items.find((p) => p.workload === 'api-1')!.nodeId;
    const { certExpiry } = (await (await cp.api(`/api/v1/proxies/${encodeURIComponent(nodeId)}`)).json()) as { certExpiry: string };
    const ui = await openUi(cp.url, { token: cp.adminToken() });
    try {
      await ui.open('proxies', 'Proxies');
      await ui.page.getByRole('link', { name: nodeId }).first().click();
      const pill = ui.page.getByLabel(`Proxy ${nodeId}`).locator(`.pill[title="${certExpiry}"]`);
      await pill.waitFor({ timeout: 15_000 }).catch(async (err: Error) => {
        await ui.screenshot('proxies-certificate-failed');
        throw new Error(`${err.message}\n${await ui.page.locator('main').innerText().catch(() => '')}`);
      });
      assert.match(await pill.innerText(), /^in \d+ h$/);
      await ui.screenshot('proxies-certificate');
      assert.deepEqual(ui.errors(), []);
    } finally {
      await ui.close();
    }
  });

  it('the server sidecar refuses openssl s_client without a client certificate, and plaintext', async () => {
    const sclient = spawnSync('openssl', ['s_client', '-tls1_2', '-connect', `127.0.0.1:${ports.apiIn}`, '-servername', 'api'], {
      input: 'GET / HTTP/1.1\r\nHost: api\r\n\r\n', encoding: 'utf8', timeout: 15_000,
    });
    const said = `${sclient.stdout}${sclient.stderr}`;
    assert.doesNotMatch(said, /HTTP\/1\.1 200/, 'no response without a client certificate');
    assert.match(said, /alert|certificate required|handshake failure|unexpected eof|errno|write:|read:/i);
    const plain = await curl(['-sS', '--max-time', '5', `http://127.0.0.1:${ports.apiIn}/`]);
    assert.ok(plain.code !== 0 || !plain.stdout.includes('"url"'), `plaintext must not reach the app: ${plain.stdout}`);
  });
});
