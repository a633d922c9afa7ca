/**
 * TLS and mTLS through real `weft proxy` processes, with curl and openssl
 * s_client as independent clients and certificates made at test time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pemDir } from '../support/pki.js';
import { curl, freePort, startProxy, startUpstream, statValue, type ProxyProcess, type Upstream } from './harness.js';
import { identities, sClient, serverSidecar, type Identities, type SidecarPki } from './tls-fixtures.js';

describe('mTLS on a listener (STRICT: client certificate required)', () => {
  let ids: Identities;
  let files: ReturnType<typeof pemDir>;
  let app: Upstream;
  let proxy: ProxyProcess;
  let port: number;
  const pem: Record<string, string> = {};

  before(async () => {
    ids = await identities();
    files = pemDir();
    pem['ca'] = files.write('ca.pem', ids.ca.certPem);
    for (const name of ['client', 'expired', 'foreign', 'wrongId'] as const) {
      pem[`${name}.crt`] = files.write(`${name}.crt`, ids[name].certPem);
      pem[`${name}.key`] = files.write(`${name}.key`, ids[name].keyPem);
    }
    app = await startUpstream(undefined, 'app');
    port = await freePort();
    const pki: SidecarPki = { caBundle: ids.ca.certPem, server: ids.server, client: ids.client };
    proxy = await startProxy(serverSidecar(await freePort(), port, app.port, pki));
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
    files?.cleanup();
  });

  const withCert = (name: string): string[] => ['--cert', pem[`${name}.crt`]!, '--key', pem[`${name}.key`]!];

  it('serves a client with a certificate from the mesh CA and the allowed SPIFFE ID (curl, openssl s_client)', async () => {
    const ok = await curl(['--cacert', pem['ca']!, ...withCert('client'), `https://localhost:${port}/hello`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).url, '/hello');
    const out = await sClient(port, ['-CAfile', pem['ca']!, '-cert', pem['client.crt']!, '-key', pem['client.key']!]);
    assert.match(out, /HTTP\/1\.1 200 OK/);
    assert.ok((await statValue(proxy, `listener.127.0.0.1_${port}.ssl.handshake`)) >= 2);
  });

  it('refuses no certificate, an expired one, one from another CA and one with the wrong SPIFFE ID, each counted', async () => {
    for (const args of [[], withCert('expired'), withCert('foreign'), withCert('wrongId')]) {
      const res = await curl(['--cacert', pem['ca']!, ...args, `https://localhost:${port}/hello`]);
      assert.notEqual(res.code, 0, `refused: ${args.join(' ')} -> ${res.stdout}`);
      assert.equal(res.stdout, '');
    }
    const noCert = await sClient(port, ['-CAfile', pem['ca']!]);
    assert.doesNotMatch(noCert, /HTTP\/1\.1/);
    const stat = (name: string): Promise<number> => statValue(proxy, `listener.127.0.0.1_${port}.ssl.${name}`);
    assert.ok((await stat('fail_verify_no_cert')) >= 2);
    assert.ok((await stat('fail_verify_error')) >= 2);
    assert.ok((await stat('fail_verify_san')) >= 1);
    assert.equal(app.seen.filter((r) => r.url === '/hello').length, 2, 'only the two good clients reached the app');
  });

  it('plaintext on the mTLS port gets no HTTP answer', async () => {
    const res = await curl([`http://127.0.0.1:${port}/hello`]);
    assert.notEqual(res.code, 0);
  });
});

