/**
 * The control plane's doors, against a real `weft controlplane` process with
 * curl and the real CLI: no token or a bad one is 401, a read-only token reads
 * but may not write (403) nor read a registration token, percent-encoded paths
 * need the same token, tokens are created and rotated with `weft token`,
 * the first admin token lands in <data-dir>/admin-token (0600) and never in the
 * log, /healthz stays public, and plaintext xDS binds loopback only.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curl } from './harness.js';
import { newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';

const SERVICES = '/apis/mesh.weft.dev/v1alpha1/namespaces/default/services';
const SERVICE_JSON = JSON.stringify({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'details' }, spec: { ports: [{ name: 'http', port: 9080 }] } });
const TOKEN_LINE = /^weft_[a-z0-9-]+_[A-Za-z0-9_-]{43}$/;

describe('weft controlplane: API authentication and roles', () => {
  let cp: ControlPlaneProcess;

  /** curl -i; status code, lower-cased headers and body. */
  async function call(method: string, path: string, token?: string, body?: string): Promise<{ status: number; headers: string; body: string }> {
    // --path-as-is: the path goes out as written (percent-encodings and all), as an attacker would send it.
    const args = ['-i', '--path-as-is', '-X', method, '--max-time', '10'];
    if (token !== undefined) args.push('-H', `Authorization: Bearer ${token}`);
    if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', body);
    const res = await curl([...args, `${cp.url}${path}`]);
    assert.equal(res.code, 0, res.stderr);
    const end = res.stdout.indexOf('\r\n\r\n');
    return { status: Number(res.stdout.split(' ')[1]), headers: res.stdout.slice(0, end).toLowerCase(), body: res.stdout.slice(end + 4) };
  }

  before(async () => {
    cp = await startControlPlane(await newSqliteConfig());
  });

  after(async () => {
    await cp?.stop();
  });

  it('writes the first admin token to <data-dir>/admin-token with mode 0600 and keeps it out of the log', () => {
    const token = cp.adminToken();
    assert.match(token, TOKEN_LINE);
    assert.equal(statSync(join(cp.dataDir, 'admin-token')).mode & 0o777, 0o600);
    assert.ok(!cp.output().includes(token), 'the token appears nowhere in the output (stdout is not a terminal)');
    assert.match(cp.output(), /Admin API token written to .*admin-token \(mode 0600\)/);
    assert.equal(cp.logLines('created the first admin API token').length, 1);
  });

  it('answers 401 without a token, with a malformed header and with an unknown token', async () => {
    const none = await call('GET', SERVICES);
    assert.equal(none.status, 401);
    assert.match(none.headers, /www-authenticate: bearer realm="weft"/);
    assert.equal(JSON.parse(none.body).reason, 'Unauthorized');
    assert.equal((await call('POST', SERVICES, undefined, SERVICE_JSON)).status, 401);
    const basic = await curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: Basic YWRtaW46YWRtaW4=', `${cp.url}${SERVICES}`]);
    assert.equal(basic.stdout, '401');
    const forged = await call('GET', SERVICES, `weft_bootstrap-admin_${'A'.repeat(43)}`);
    assert.equal(forged.status, 401);
    assert.match(forged.headers, /error="invalid_token"/);
    assert.equal((await call('GET', '/api/proxies', 'not-a-token')).status, 401);
    assert.equal((await call('GET', '/api/watch', 'not-a-token')).status, 401);
  });

  it('keeps /healthz public', async () => {
    const health = await call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok', leader: true });
  });

  it('lets the admin token read and write; weft reads the token from WEFT_TOKEN', async () => {
    assert.equal((await call('POST', SERVICES, cp.adminToken(), SERVICE_JSON)).status, 201);
    assert.equal((await call('GET', `${SERVICES}/details`, cp.adminToken())).status, 200);
    const got = await cp.weft(['get', 'services']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /details/);
  });

  it('weft token create --role read-only: reads 200, writes 403 (curl and weft apply)', async () => {
    const created = await cp.weft(['token', 'create', '--role', 'read-only']);
    assert.equal(created.code, 0, created.stderr);
    const readOnly = created.stdout.trim();
    assert.match(readOnly, TOKEN_LINE);
    assert.ok(!cp.output().includes(readOnly), 'a created token is not logged');

    assert.equal((await call('GET', SERVICES, readOnly)).status, 200);
    assert.equal((await call('GET', '/api/proxies', readOnly)).status, 200);
    const write = await call('POST', SERVICES, readOnly, SERVICE_JSON.replace('details', 'ratings'));
    assert.equal(write.status, 403);
    assert.equal(JSON.parse(write.body).reason, 'Forbidden');
    assert.equal((await call('DELETE', `${SERVICES}/details`, readOnly)).status, 403);
    assert.equal((await call('GET', '/api/tokens', readOnly)).status, 403, 'managing tokens is admin-only');

    const applied = await cp.weft(['apply', '-f', '-'], SERVICE_JSON.replace('details', 'ratings'), readOnly);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, /403 Forbidden: token [0-9a-f]+ is read-only/);
    const unauthenticated = await cp.weft(['get', 'services'], undefined, 'weft_nope_' + 'B'.repeat(43));
    assert.notEqual(unauthenticated.code, 0);
    assert.match(unauthenticated.stderr, /401 Unauthorized: invalid or revoked token/);
  });

  it('percent-encoded paths reach the same routes and need the same token (the router decodes %61pis to apis)', async () => {
    for (const path of [SERVICES.replace('/apis/', '/%61pis/'), '/%61pi/watch?resourceVersion=0', '/%61pi/ca', '/%61pi/proxies', '/openapi%2Ejson']) {
      const reply = await call('GET', path);
      assert.equal(reply.status, 401, `${path}: ${reply.body}`);
      assert.equal(JSON.parse(reply.body).reason, 'Unauthorized');
    }
    assert.equal((await call('GET', SERVICES.replace('/apis/', '/%61pis/'), cp.adminToken())).status, 200, 'the same route with a token');
    assert.equal((await call('GET', '/%68ealthz')).status, 200, '/healthz stays public however it is spelled');
    assert.equal((await call('GET', '/%ZZ')).status, 400);
  });

  it('a read-only token reads an identity but not its registration token, which would get it a workload certificate', async () => {
    const workload = JSON.stringify({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Workload', metadata: { name: 'details-0' }, spec: { address: '10.0.0.9', service: 'details' } });
    assert.equal((await call('POST', '/apis/mesh.weft.dev/v1alpha1/namespaces/default/workloads', cp.adminToken(), workload)).status, 201);
    const readOnly = (await cp.weft(['token', 'create', '--role', 'read-only'])).stdout.trim();
    const identity = await call('GET', '/api/identities/default/details-0', readOnly);
    assert.equal(identity.status, 200, identity.body);
    assert.equal(JSON.parse(identity.body).token, undefined);
    const withToken = await call('GET', '/api/identities/default/details-0?token=true', readOnly);
    assert.equal(withToken.status, 403, withToken.body);
    assert.match(JSON.parse(withToken.body).message, /is read-only: reading a registration token needs an admin token/);
    const cli = await cp.weft(['identity', 'details-0', '--registration-token'], undefined, readOnly);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /403 Forbidden/);
    const admin = await cp.weft(['identity', 'details-0', '--registration-token', '-o', 'json']);
    assert.equal(admin.code, 0, admin.stderr);
    assert.match((JSON.parse(admin.stdout) as { token: string }).token, /^wlt1\./);
  });

  it('lists tokens without secrets or hashes, and never serves them as resources', async () => {
    const list = await call('GET', '/api/tokens', cp.adminToken());
    assert.equal(list.status, 200);
    const items = JSON.parse(list.body).items as Array<Record<string, unknown>>;
    assert.deepEqual(items.map((t) => Object.keys(t).sort()), items.map(() => ['createdAt', 'id', 'role']));
    assert.ok(items.some((t) => t['id'] === 'bootstrap-admin' && t['role'] === 'admin'));
    assert.ok(!list.body.includes(cp.adminToken()));
    // The watch-all stream replays every stored record from revision 0: only mesh resources come out.
    const watch = await curl(['-s', '--max-time', '2', '-H', `Authorization: Bearer ${cp.adminToken()}`, `${cp.url}/api/watch?resourceVersion=0`]);
    assert.match(watch.stdout, /"kind":"Service"/);
    assert.ok(!watch.stdout.includes('ApiToken') && !watch.stdout.includes('sha256'), 'no token record in the watch stream');
  });

  it('weft token rotate ID: the old token stops working at once, the new one works', async () => {
    const created = await cp.weft(['token', 'create', '--role', 'read-only']);
    const old = created.stdout.trim();
    const id = /^weft_([a-z0-9-]+)_/.exec(old)![1]!;
    const rotated = await cp.weft(['token', 'rotate', id]);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = rotated.stdout.trim();
    assert.match(fresh, TOKEN_LINE);
    assert.notEqual(fresh, old);
    assert.equal((await call('GET', SERVICES, old)).status, 401);
    assert.equal((await call('GET', SERVICES, fresh)).status, 200);
    const revoked = await cp.weft(['token', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await call('GET', SERVICES, fresh)).status, 401);
  });

  it('binds plaintext xDS on loopback only', () => {
    const [line] = cp.logLines('xds server listening');
    assert.match(String(line?.['address']), /^127\.0\.0\.1:\d+$/);
  });
});
