/**
 * The mesh CA through a real `weft controlplane`: the CLI fetches a workload's
 * registration token, openssl makes the key and CSR, the gRPC certificate
 * service signs it (openssl verifies the chain), bad requests are refused and
 * counted, SDS serves the chain (never a key) over ADS, and `weft ca rotate`
 * puts two roots in the bundle.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { requestCertificate } from '../../src/controlplane/ca/client.js';
import { splitPem } from '../../src/controlplane/ca/authority.js';
import { SECRET_TYPE_URL } from '../../src/xds/type-urls.js';
import { opensslCsr, opensslVerify, scratchDir } from '../controlplane/ca/openssl.js';
import { connectAdsClient, namesIn } from '../controlplane/xds/ads-test-client.js';
import { newSqliteConfig, startControlPlane, STRICT_MESH_YAML, type ControlPlaneProcess } from './controlplane-harness.js';

const MESH_YAML = `${STRICT_MESH_YAML}
apiVersion: mesh.weft.dev/v1alpha1
kind: Service
metadata: { name: reviews, namespace: shop }
spec: { ports: [{ name: http, port: 9080 }] }
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: { name: reviews-v1, namespace: shop }
spec: { address: 127.0.0.1, service: reviews, serviceAccount: bookinfo-reviews, inboundPort: 15006, ports: [{ name: http, port: 9080 }] }
`;
const REVIEWS_ID = 'spiffe://weft.test/ns/shop/sa/bookinfo-reviews';

describe('weft controlplane: mesh CA, CSR signing and SDS', () => {
  const dir = scratchDir('weft-ca-e2e-');
  let cp: ControlPlaneProcess;
  let token: string;
  let chainPem: string;

  before(async () => {
    cp = await startControlPlane(await newSqliteConfig());
    const applied = await cp.weft(['apply', '-f', '-'], MESH_YAML);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('weft identity --registration-token gives the registration token; a CSR with it is signed and openssl verifies the chain', async () => {
    const identity = await cp.weft(['identity', 'reviews-v1', '-n', 'shop', '--registration-token', '-o', 'json']);
    assert.equal(identity.code, 0, identity.stderr);
    const parsed = JSON.parse(identity.stdout) as { spiffeId: string; token: string; certificate?: unknown };
    assert.equal(parsed.spiffeId, REVIEWS_ID);
    assert.equal(parsed.certificate, undefined, 'no certificate before the proxy asks');
    token = parsed.token;

    const { csrPem } = opensslCsr(dir, 'reviews', REVIEWS_ID);
    const issued = await requestCertificate({ address: `127.0.0.1:${cp.xdsPort}`, token, csrPem });
    assert.equal(issued.spiffeId, REVIEWS_ID);
    assert.ok(Date.parse(issued.expiresAt) - Date.now() > 23 * 3_600_000, 'default lifetime 24 h');
    const verified = opensslVerify(dir, 'reviews', issued.trustBundlePem, issued.certificateChainPem);
    assert.ok(verified.ok, verified.output);
    chainPem = issued.certificateChainPem;

    const text = await cp.weft(['identity', 'reviews-v1', '-n', 'shop']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /spiffe id: {3}spiffe:\/\/weft\.test\/ns\/shop\/sa\/bookinfo-reviews/);
    assert.doesNotMatch(text.stdout, /token:/, 'the token only with --token');
  });

  it('refuses a wrong token, another identity and an unknown workload with gRPC codes, and counts them', async () => {
    const address = `127.0.0.1:${cp.xdsPort}`;
    const refused = async (options: Parameters<typeof requestCertificate>[0]): Promise<{ code: number; message: string }> => {
      try {
        await requestCertificate(options);
      } catch (err) {
        return { code: (err as { code: number }).code, message: (err as Error).message };
      }
      return assert.fail('expected a refusal');
    };
    const good = opensslCsr(dir, 'good', REVIEWS_ID).csrPem;
    const wrongToken = await refused({ address, token: `${token.slice(0, -3)}xyz`, csrPem: good });
    assert.equal(wrongToken.code, grpc.status.UNAUTHENTICATED);
    assert.match(wrongToken.message, /not the registration token of workload shop\/reviews-v1/);
    const other = await refused({ address, token, csrPem: opensslCsr(dir, 'other', 'spiffe://weft.test/ns/shop/sa/admin').csrPem });
    assert.equal(other.code, grpc.status.PERMISSION_DENIED);
    const none = await refused({ address, csrPem: good, namespace: 'shop', workload: 'reviews-v1' });
    assert.equal(none.code, grpc.status.UNAUTHENTICATED);
    const garbage = await refused({ address, token, csrPem: 'not a csr' });
    assert.equal(garbage.code, grpc.status.INVALID_ARGUMENT);

    const shown = await cp.weft(['ca', 'show', '-o', 'json']);
    assert.equal(shown.code, 0, shown.stderr);
    const status = JSON.parse(shown.stdout) as { trustDomain: string; stats: Record<string, number>; root: { fingerprintSha256: string } };
    assert.equal(status.trustDomain, 'weft.test');
    assert.equal(status.stats['issued'], 1);
    assert.equal(status.stats['rejected_unauthenticated'], 2);
    assert.equal(status.stats['rejected_wrong_identity'], 1);
    assert.equal(status.stats['rejected_invalid_csr'], 1);
    assert.match(status.root.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('serves the sidecar its SDS secrets over ADS: ROOTCA and the chain it was issued, no key', async () => {
    const ads = connectAdsClient(cp.xdsPort);
    try {
      const stream = ads.sotw();
      stream.send({ node: { id: 'sidecar~127.0.0.1~reviews-v1.shop', metadata: { WORKLOAD: 'reviews-v1', NAMESPACE: 'shop' } }, type_url: SECRET_TYPE_URL, resource_names: ['default', 'ROOTCA'] });
      const response = await stream.next(15_000);
      assert.deepEqual(namesIn(response), ['ROOTCA', 'default']);
      const resources = response['resources'] as Array<Record<string, unknown>>;
      const byName = new Map(resources.map((r) => [String(r['name']), r]));
      const certificate = byName.get('default') as { tls_certificate: { certificate_chain: { inline_string: string } } };
      assert.equal(certificate.tls_certificate.certificate_chain.inline_string, chainPem);
      assert.doesNotMatch(JSON.stringify(response), /PRIVATE KEY|private_key/);
    } finally {
      ads.close();
    }
  });

  it('weft ca rotate puts the new root beside the old one in the bundle; nothing secret leaves through the API', async () => {
    const before = JSON.parse((await cp.weft(['ca', 'show', '-o', 'json'])).stdout) as { root: { fingerprintSha256: string } };
    const rotated = await cp.weft(['ca', 'rotate', '--overlap', '1h', '-o', 'json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const status = JSON.parse(rotated.stdout) as { root: { fingerprintSha256: string }; pending?: { fingerprintSha256: string } };
    assert.equal(status.root.fingerprintSha256, before.root.fingerprintSha256);
    assert.ok(status.pending !== undefined && status.pending.fingerprintSha256 !== before.root.fingerprintSha256);
    const again = await cp.weft(['ca', 'rotate']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /a rotation is already under way/);

    const issued = await requestCertificate({ address: `127.0.0.1:${cp.xdsPort}`, token, csrPem: opensslCsr(dir, 'rot', REVIEWS_ID).csrPem });
    assert.equal(splitPem(issued.trustBundlePem).length, 2, 'old and new roots in the bundle');
    assert.ok(opensslVerify(dir, 'rot', issued.trustBundlePem, issued.certificateChainPem).ok);

    // The watch-all stream replays every stored change from revision 0: no CA record among them.
    const watch = await cp.api('/api/watch?resourceVersion=0', { signal: AbortSignal.timeout(1500) });
    let body = '';
    try {
      for await (const chunk of watch.body!) body += Buffer.from(chunk as Uint8Array).toString();
    } catch {
      // the timeout ends the stream
    }
    assert.match(body, /Workload/);
    assert.doesNotMatch(body, /CertificateAuthority|IssuedCertificate|PRIVATE KEY/);
    assert.doesNotMatch(cp.output(), /PRIVATE KEY|wlt1\./, 'no key or token in the logs');
  });
});
