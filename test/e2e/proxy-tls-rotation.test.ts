/**
 * TLS and mTLS through real `weft proxy` processes, with curl and openssl
 * s_client as independent clients and certificates made at test time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCa, pemDir } from '../support/pki.js';
import { statValue, type ProxyProcess, type Upstream } from './harness.js';
import { clientSidecar, sClient, serverSidecar, spiffe, steadyLoad, type Identities, type SidecarPki } from './tls-fixtures.js';
import { startSidecarPair, type SidecarPair } from './tls-sidecar-pair.js';

/** The client sidecar opens a new mTLS connection every 20 requests, so handshakes happen throughout the rotation. */
const NEW_CONNECTIONS = { max_requests_per_connection: 20 };

describe('certificate rotation between two mTLS sidecars', () => {
  let ids: Identities;
  let app: Upstream;
  let server: ProxyProcess;
  let client: ProxyProcess;
  let serverPort: number;
  let clientPort: number;
  let pair: SidecarPair | undefined;

  before(async () => {
    pair = await startSidecarPair(NEW_CONNECTIONS);
    ({ ids, app, server, client, serverPort, clientPort } = pair);
  });

  after(() => pair?.stop());

  it('rotates the root CA and both leaves under steady load (overlapping trust bundle) and loses nothing', async () => {
    const newRoot = await createTestCa('Mesh Root 2');
    const newServer = await newRoot.issue({ spiffeId: spiffe('server'), dnsNames: ['localhost'] });
    const newClient = await newRoot.issue({ spiffeId: spiffe('client') });
    const serverAdmin = server.adminPort;
    const clientAdmin = client.adminPort;
    const load = steadyLoad(clientPort);
    const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));
    let result: { ok: number; failed: string[] };
    try {
      await settle();
      const bundle = ids.ca.certPem + newRoot.certPem;
      // Each step is safe whichever sidecar applies it first, so both are rewritten at once.
      const steps: SidecarPki[] = [
        { caBundle: bundle, server: ids.server, client: ids.client }, // 1. both trust the old and the new root
        { caBundle: bundle, server: newServer, client: newClient }, // 2. both leaves from the new root
        { caBundle: newRoot.certPem, server: newServer, client: newClient }, // 3. the old root is dropped
      ];
      for (const pki of steps) {
        await Promise.all([
          server.rewrite(serverSidecar(serverAdmin, serverPort, app.port, pki)),
          client.rewrite(clientSidecar(clientAdmin, clientPort, serverPort, pki, spiffe('server'), NEW_CONNECTIONS)),
        ]);
        await settle();
      }
    } finally {
      result = await load.stop();
    }
    assert.deepEqual(result.failed, []);
    assert.ok(result.ok > 50, `requests during the rotation: ${result.ok}`);
    assert.equal(await statValue(server, 'listener_manager.listener_modified'), 0, 'the listener was never rebuilt');
    assert.ok((await statValue(client, 'cluster.server.ssl.handshake')) > 3, 'new handshakes happened during the rotation');
    // New connections now present the new server leaf, and a new-root client certificate is required.
    const files = pemDir();
    try {
      const out = await sClient(serverPort, ['-CAfile', files.write('ca2.pem', newRoot.certPem), '-cert', files.write('c.crt', newClient.certPem), '-key', files.write('c.key', newClient.keyPem)]);
      assert.match(out, /HTTP\/1\.1 200 OK/);
      const old = await sClient(serverPort, ['-CAfile', files.write('ca1.pem', ids.ca.certPem + newRoot.certPem), '-cert', files.write('o.crt', ids.client.certPem), '-key', files.write('o.key', ids.client.keyPem)]);
      assert.doesNotMatch(old, /HTTP\/1\.1 200/);
    } finally {
      files.cleanup();
    }
  });
});
