import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMeshCa, CaRequestError, type MeshCa } from '../../../src/controlplane/ca/mesh-ca.js';
import { splitPem } from '../../../src/controlplane/ca/authority.js';
import { CA_RECORD_KEY } from '../../../src/controlplane/ca/records.js';
import { validateResource } from '../../../src/controlplane/model/validate.js';
import { openSqliteStore } from '../../../src/controlplane/store/sqlite-store.js';
import type { Store } from '../../../src/controlplane/store/store.js';
import { opensslCsr, opensslText, opensslVerify, scratchDir } from './openssl.js';

const dir = scratchDir('weft-ca-');
after(() => rmSync(dir, { recursive: true, force: true }));
const silent = pino({ level: 'silent' });
let stores = 0;

async function registered(store: Store, kind: string, spec: unknown, namespace = 'shop', name = 'reviews-v1'): Promise<void> {
  const result = validateResource({ apiVersion: 'mesh.weft.dev/v1alpha1', kind, metadata: { name, ...(kind === 'Mesh' ? {} : { namespace }) }, spec });
  if (!result.ok) assert.fail(JSON.stringify(result.errors));
  await store.put(result.resource);
}

async function freshCa(options: { now?: () => number } = {}): Promise<{ store: Store; ca: MeshCa }> {
  const store = openSqliteStore(join(dir, `store-${++stores}`));
  await registered(store, 'Mesh', { trustDomain: 'weft.test', mtls: { mode: 'STRICT', certificateLifetime: '2h' } }, '', 'default');
  await registered(store, 'Workload', { address: '10.0.0.7', service: 'reviews', serviceAccount: 'bookinfo-reviews', ports: [{ name: 'http', port: 9080 }] });
  const ca = createMeshCa({ store, log: silent, sweepIntervalMs: 0, activationDelayMs: 0, ...options });
  await ca.start();
  return { store, ca };
}

const REVIEWS_ID = 'spiffe://weft.test/ns/shop/sa/bookinfo-reviews';

async function rejection(promise: Promise<unknown>): Promise<CaRequestError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof CaRequestError, `expected a CaRequestError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected the request to be refused');
}

describe('mesh CA', () => {
  it('signs an openssl CSR with the registration token; openssl verifies the chain against the trust bundle', async () => {
    const { store, ca } = await freshCa();
    const { token } = await ca.identity('shop', 'reviews-v1', true);
    assert.ok(token !== undefined && token.startsWith('wlt1.'));
    const { csrPem } = opensslCsr(dir, 'ok', REVIEWS_ID);
    const result = await ca.sign({ csrPem, token });
    assert.equal(result.spiffeId, REVIEWS_ID);
    const verified = opensslVerify(dir, 'ok', result.trustBundlePem, result.certificateChainPem);
    assert.ok(verified.ok, verified.output);
    const text = opensslText(result.certificateChainPem);
    assert.match(text, /URI:spiffe:\/\/weft\.test\/ns\/shop\/sa\/bookinfo-reviews/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /CA:FALSE/);
    const lifetimeMs = Date.parse(result.expiresAt) - Date.now();
    assert.ok(lifetimeMs > 1.9 * 3_600_000 && lifetimeMs <= 2 * 3_600_000, `Mesh certificateLifetime 2h, got ${lifetimeMs} ms`);
    // A CSR without SAN gets the workload's identity too.
    const bare = await ca.sign({ csrPem: opensslCsr(dir, 'bare').csrPem, token });
    assert.equal(bare.spiffeId, REVIEWS_ID);
    const identity = await ca.identity('shop', 'reviews-v1', false);
    assert.equal(identity.token, undefined);
    assert.equal(identity.certificate?.chainPem, bare.certificateChainPem);
    assert.equal(ca.stats().issued, 2);
    const stored = JSON.stringify(await store.list({ kind: 'IssuedCertificate' }));
    assert.doesNotMatch(stored, /PRIVATE KEY/, 'the proxy key never reaches the CA');
    ca.close();
    await store.close();
  });

  it('gives a Gateway an identity too: its token signs a CSR for the Gateway\'s service account', async () => {
    const { store, ca } = await freshCa();
    await registered(store, 'Gateway', { serviceAccount: 'edge', listeners: [{ name: 'http', port: 8080 }], routes: [{ backend: { service: 'reviews', port: 9080 } }] }, 'shop', 'ingress');
    const identity = await ca.identity('shop', 'ingress', true);
    assert.equal(identity.spiffeId, 'spiffe://weft.test/ns/shop/sa/edge');
    const { csrPem } = opensslCsr(dir, 'gateway', identity.spiffeId);
    const result = await ca.sign({ csrPem, token: identity.token! });
    assert.equal(result.spiffeId, 'spiffe://weft.test/ns/shop/sa/edge');
    // The gateway's token is not a workload's, and the gateway cannot ask for a workload's identity.
    const other = opensslCsr(dir, 'gateway-as-reviews', REVIEWS_ID);
    assert.equal((await rejection(ca.sign({ csrPem: other.csrPem, token: identity.token! }))).rejection, 'wrong_identity');
    assert.equal((await rejection(ca.sign({ csrPem, token: identity.token!, workload: 'reviews-v1', namespace: 'shop' }))).rejection, 'wrong_identity');
    ca.close();
    await store.close();
  });

  it('refuses a CSR for another identity, a bad signature, a wrong token and an unknown workload, and counts each', async () => {
    const { store, ca } = await freshCa();
    const { token } = await ca.identity('shop', 'reviews-v1', true);
    const other = await rejection(ca.sign({ csrPem: opensslCsr(dir, 'other', 'spiffe://weft.test/ns/shop/sa/ratings').csrPem, token }));
    assert.equal(other.rejection, 'wrong_identity');
    assert.match(other.message, /asks for spiffe:\/\/weft\.test\/ns\/shop\/sa\/ratings, but workload shop\/reviews-v1 is spiffe:\/\/weft\.test\/ns\/shop\/sa\/bookinfo-reviews/);

    // Flip a byte of the signature (the last bytes of the DER) and re-encode.
    const { csrPem } = opensslCsr(dir, 'tampered', REVIEWS_ID);
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    der[der.length - 3]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const bad = await rejection(ca.sign({ csrPem: tampered, token }));
    assert.equal(bad.rejection, 'invalid_csr');
    assert.match(bad.message, /csr: (bad signature|cannot check its signature)/);
    assert.equal((await rejection(ca.sign({ csrPem: 'hello', token }))).rejection, 'invalid_csr');

    const good = opensslCsr(dir, 'good', REVIEWS_ID).csrPem;
    const forged = `${token!.slice(0, -4)}AAAA`;
    const wrong = await rejection(ca.sign({ csrPem: good, token: forged }));
    assert.equal(wrong.rejection, 'unauthenticated');
    assert.match(wrong.message, /not the registration token of workload shop\/reviews-v1/);
    assert.equal((await rejection(ca.sign({ csrPem: good, token: 'not-a-token' }))).rejection, 'unauthenticated');
    assert.equal((await rejection(ca.sign({ csrPem: good, namespace: 'shop', workload: 'reviews-v1' }))).rejection, 'unauthenticated');
    const claimed = await rejection(ca.sign({ csrPem: good, token, workload: 'ratings-v1' }));
    assert.equal(claimed.rejection, 'wrong_identity');

    // Re-registering the workload (new uid) revokes the old token.
    await store.delete({ kind: 'Workload', namespace: 'shop', name: 'reviews-v1' });
    assert.equal((await rejection(ca.sign({ csrPem: good, token }))).rejection, 'unknown_workload');
    await registered(store, 'Workload', { address: '10.0.0.7', service: 'reviews', serviceAccount: 'bookinfo-reviews' });
    assert.equal((await rejection(ca.sign({ csrPem: good, token }))).rejection, 'unauthenticated');
    const fresh = await ca.identity('shop', 'reviews-v1', true);
    assert.notEqual(fresh.token, token);
    await ca.sign({ csrPem: good, token: fresh.token });

    assert.deepEqual(
      { ...ca.stats(), rotations: undefined },
      { issued: 1, reissued: 0, rotations: undefined, rejected_invalid_csr: 2, rejected_unauthenticated: 4, rejected_wrong_identity: 2, rejected_unknown_workload: 1, rejected_unavailable: 0 },
    );
    ca.close();
    await store.close();
  });

  it('renews with the current certificate as the credential, and refuses a certificate of another identity', async () => {
    const { store, ca } = await freshCa();
    await registered(store, 'Workload', { address: '10.0.0.8', service: 'ratings', serviceAccount: 'bookinfo-ratings' }, 'shop', 'ratings-v1');
    const { token } = await ca.identity('shop', 'reviews-v1', true);
    const first = await ca.sign({ csrPem: opensslCsr(dir, 'renew-1', REVIEWS_ID).csrPem, token });
    const leafDer = Buffer.from(splitPem(first.certificateChainPem)[0]!.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    const renewed = await ca.sign({ csrPem: opensslCsr(dir, 'renew-2', REVIEWS_ID).csrPem, namespace: 'shop', workload: 'reviews-v1', peerCertificateDer: leafDer });
    assert.equal(renewed.spiffeId, REVIEWS_ID);
    const impostor = await rejection(ca.sign({ csrPem: opensslCsr(dir, 'renew-3').csrPem, namespace: 'shop', workload: 'ratings-v1', peerCertificateDer: leafDer }));
    assert.equal(impostor.rejection, 'wrong_identity');
    ca.close();
    await store.close();
  });

  it('keeps one root across restarts and replicas (it lives in the store)', async () => {
    const { store, ca } = await freshCa();
    const before = await ca.status();
    ca.close();
    const second = createMeshCa({ store, log: silent, sweepIntervalMs: 0 });
    await second.start();
    const after = await second.status();
    assert.equal(after.root.fingerprintSha256, before.root.fingerprintSha256);
    assert.equal(after.trustDomain, 'weft.test');
    assert.equal(after.source, 'generated');
    assert.doesNotMatch(JSON.stringify(after), /PRIVATE KEY/);
    assert.ok((await store.get(CA_RECORD_KEY)) !== undefined);
    second.close();
    await store.close();
  });

  it('rotates: the bundle holds old and new roots, leaves are re-issued by the new root, the old root leaves after the overlap', async () => {
    let now = Date.now();
    const { store, ca } = await freshCa({ now: () => now });
    const { token } = await ca.identity('shop', 'reviews-v1', true);
    const before = await ca.sign({ csrPem: opensslCsr(dir, 'rot-1', REVIEWS_ID).csrPem, token });
    const oldRoot = (await ca.status()).root;

    const rotating = await ca.rotate(60_000);
    assert.ok(rotating.pending !== undefined, 'phase one: the new root is pending');
    assert.equal(rotating.root.fingerprintSha256, oldRoot.fingerprintSha256, 'the old root still signs until activation');
    const during = await ca.sign({ csrPem: opensslCsr(dir, 'rot-2', REVIEWS_ID).csrPem, token });
    assert.equal(splitPem(during.trustBundlePem).length, 2, 'the bundle carries both roots before the new one signs');

    now += 1000;
    await ca.sweep(); // activates the new root and re-issues the leaf
    const rotated = await ca.status();
    assert.notEqual(rotated.root.fingerprintSha256, oldRoot.fingerprintSha256);
    assert.equal(rotated.retired[0]?.fingerprintSha256, oldRoot.fingerprintSha256);
    assert.equal(ca.stats().reissued, 1);
    const reissued = (await ca.identity('shop', 'reviews-v1', false)).certificate!;
    assert.notEqual(reissued.chainPem, during.certificateChainPem);
    const after = await ca.sign({ csrPem: opensslCsr(dir, 'rot-3', REVIEWS_ID).csrPem, token });
    const bundle = after.trustBundlePem;
    assert.equal(splitPem(bundle).length, 2, 'old and new roots overlap');
    // Old leaves and new leaves both verify against the overlapping bundle.
    for (const [name, chain] of [['old', before.certificateChainPem], ['reissued', reissued.chainPem], ['new', after.certificateChainPem]] as const) {
      const verified = opensslVerify(dir, `rot-${name}`, bundle, chain);
      assert.ok(verified.ok, `${name}: ${verified.output}`);
    }
    // The re-issued leaf verifies against the new root alone.
    assert.ok(opensslVerify(dir, 'rot-newonly', `${splitPem(bundle)[0]}\n`, reissued.chainPem).ok);
    assert.ok(!opensslVerify(dir, 'rot-oldonly', `${splitPem(bundle)[1]}\n`, reissued.chainPem).ok);

    now += 61_000;
    await ca.sweep();
    const final = await ca.status();
    assert.equal(final.retired.length, 0, 'the old root left the bundle after the overlap window');
    const last = await ca.sign({ csrPem: opensslCsr(dir, 'rot-4', REVIEWS_ID).csrPem, token });
    assert.equal(splitPem(last.trustBundlePem).length, 1);
    assert.ok(!opensslVerify(dir, 'rot-dropped', last.trustBundlePem, before.certificateChainPem).ok, 'a leaf of the dropped root no longer verifies');
    ca.close();
    await store.close();
  });
});
