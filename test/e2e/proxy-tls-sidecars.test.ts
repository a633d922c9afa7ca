/**
 * TLS and mTLS through real `weft proxy` processes, with curl and openssl
 * s_client as independent clients and certificates made at test time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { curl, freePort, startProxy, statValue, waitFor, type ProxyProcess, type Upstream } from './harness.js';
import { clientSidecar, opensslDetails, spiffe, type Identities, type SidecarPki } from './tls-fixtures.js';
import { startSidecarPair, type SidecarPair } from './tls-sidecar-pair.js';

describe('two sidecars over mTLS (client sidecar -> server sidecar)', () => {
  let ids: Identities;
  let app: Upstream;
  let server: ProxyProcess;
  let client: ProxyProcess;
  let serverPort: number;
  let clientPort: number;
  let pair: SidecarPair | undefined;

  before(async () => {
    pair = await startSidecarPair();
    ({ ids, app, server, client, serverPort, clientPort } = pair);
  });

  after(() => pair?.stop());

  it('carries requests end to end, verifying both SPIFFE IDs', async () => {
    const res = await curl([`http://127.0.0.1:${clientPort}/through`]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).url, '/through');
    assert.equal(await statValue(client, 'cluster.server.ssl.handshake'), 1);
    assert.equal(await statValue(server, `listener.127.0.0.1_${serverPort}.ssl.handshake`), 1);
  });

  it("admin /certs lists each TLS context's certificate chain and CA in Envoy's shape, never a key", async () => {
    const ca = { path: '<inline>', ...opensslDetails(ids.ca.certPem), subject_alt_names: [], days_until_expiration: '29' };
    // The fixture's leaves live one day from a minute ago: 0 whole days left.
    const leaf = (pem: string, sans: readonly object[]) => ({ path: '<inline>', ...opensslDetails(pem), subject_alt_names: sans, days_until_expiration: '0' });
    for (const [proxy, identity, sans] of [
      [server, ids.server, [{ uri: spiffe('server') }, { dns: 'localhost' }]],
      [client, ids.client, [{ uri: spiffe('client') }]],
    ] as const) {
      const response = await proxy.admin('/certs');
      assert.equal(response.headers.get('content-type'), 'application/json');
      const body = await response.text();
      assert.doesNotMatch(body, /PRIVATE KEY|-----BEGIN/);
      assert.deepEqual(JSON.parse(body), { certificates: [{ ca_cert: [ca], cert_chain: [leaf(identity.certPem, sans)] }] });
    }
  });

  it('health-checks an mTLS cluster through its transport socket: HTTP and TCP checks pass the server sidecar, which accepts mTLS only', async () => {
    const pki: SidecarPki = { caBundle: ids.ca.certPem, server: ids.server, client: ids.client };
    for (const check of [{ http_health_check: { path: '/healthz' } }, { tcp_health_check: {} }]) {
      const kind = Object.keys(check)[0]!;
      const checked = await startProxy(clientSidecar(await freePort(), await freePort(), serverPort, pki, spiffe('server'), {
        health_checks: [{ timeout: '1s', interval: '0.2s', unhealthy_threshold: 1, healthy_threshold: 1, ...check }],
      }));
      try {
        await waitFor(async () => (await statValue(checked, 'cluster.server.health_check.success')) >= 2, `${kind}: two passing checks over mTLS`);
        assert.equal(await statValue(checked, 'cluster.server.health_check.failure'), 0, kind);
        assert.equal(await statValue(checked, 'cluster.server.health_check.network_failure'), 0, kind);
        assert.ok((await statValue(checked, 'cluster.server.ssl.handshake')) >= 2, `${kind}: each check was a TLS handshake`);
        if (kind === 'http_health_check') assert.ok(app.seen.some((r) => r.url === '/healthz'), 'the HTTP check reached the app through the server sidecar');
      } finally {
        await checked.stop();
      }
    }
  });

  it('a client sidecar expecting another SPIFFE ID refuses the server: 503 with the reset reason, ssl.fail_verify_san', async () => {
    const pki: SidecarPki = { caBundle: ids.ca.certPem, server: ids.server, client: ids.client };
    const port = await freePort();
    const strict = await startProxy(clientSidecar(await freePort(), port, serverPort, pki, spiffe('someone-else')));
    try {
      const res = await curl(['-i', `http://127.0.0.1:${port}/x`]);
      assert.match(res.stdout, /^HTTP\/1\.1 503/);
      assert.match(res.stdout, /reset reason: connection failure, transport failure reason: TLS error: SAN mismatch/);
      assert.ok((await statValue(strict, 'cluster.server.ssl.fail_verify_san')) >= 1);
      assert.equal(app.seen.filter((r) => r.url === '/x').length, 0);
    } finally {
      await strict.stop();
    }
  });
});
