/**
 * TLS and mTLS through real `weft proxy` processes, with curl and openssl
 * s_client as independent clients and certificates made at test time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pemDir } from '../support/pki.js';
import { curl, freePort, startProxy, startUpstream, statValue, type ProxyProcess, type Upstream } from './harness.js';
import {
  bootstrap, certificateSecret, commonTls, downstreamTls, hcmFilter, identities, listener, spiffe, staticCluster, TLS_INSPECTOR, validationSecret,
  type Identities,
} from './tls-fixtures.js';

describe('PERMISSIVE: the TLS inspector serves plaintext and mTLS on one port', () => {
  let ids: Identities;
  let files: ReturnType<typeof pemDir>;
  let app: Upstream;
  let proxy: ProxyProcess;
  let port: number;

  before(async () => {
    ids = await identities();
    files = pemDir();
    app = await startUpstream(undefined, 'app');
    port = await freePort();
    proxy = await startProxy(bootstrap(await freePort(), {
      listeners: [listener('inbound', port, [
        { filter_chain_match: { transport_protocol: 'tls' }, filters: [hcmFilter('app', 'inbound_tls')], transport_socket: downstreamTls(commonTls('cert', 'ca')) },
        { filter_chain_match: { transport_protocol: 'raw_buffer' }, filters: [hcmFilter('app', 'inbound_plain')] },
      ], { listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TLS_INSPECTOR } }] })],
      clusters: [staticCluster('app', app.port)],
      secrets: [certificateSecret('cert', ids.server), validationSecret('ca', ids.ca.certPem, [spiffe('client')])],
    }));
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    files?.cleanup();
  });

  it('answers plaintext HTTP and mTLS on the same port, each through its own chain', async () => {
    const ca = files.write('ca.pem', ids.ca.certPem);
    const cert = files.write('c.crt', ids.client.certPem);
    const key = files.write('c.key', ids.client.keyPem);
    const plain = await curl([`http://127.0.0.1:${port}/plain`]);
    assert.equal(plain.code, 0, plain.stderr);
    const mtls = await curl(['--cacert', ca, '--cert', cert, '--key', key, `https://localhost:${port}/mtls`]);
    assert.equal(mtls.code, 0, mtls.stderr);
    assert.deepEqual(app.seen.map((r) => r.url), ['/plain', '/mtls']);
    assert.equal(await statValue(proxy, 'http.inbound_plain.downstream_rq_2xx'), 1);
    assert.equal(await statValue(proxy, 'http.inbound_tls.downstream_rq_2xx'), 1);
    // TLS with a certificate from another CA is still refused on the TLS chain.
    const foreignCert = files.write('f.crt', ids.foreign.certPem);
    const foreignKey = files.write('f.key', ids.foreign.keyPem);
    const refused = await curl(['--cacert', ca, '--cert', foreignCert, '--key', foreignKey, `https://localhost:${port}/mtls`]);
    assert.notEqual(refused.code, 0);
  });
});

