import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApiServer, type ApiServer } from '../../../src/controlplane/api/server.js';
import { createTokenAuthority } from '../../../src/controlplane/api/tokens.js';
import { KINDS } from '../../../src/controlplane/model/kinds.js';
import type { Resource } from '../../../src/controlplane/model/resource.js';
import { openSqliteStore } from '../../../src/controlplane/store/sqlite-store.js';
import type { Store } from '../../../src/controlplane/store/store.js';
import { SseClient } from './sse-client.js';

const log = pino({ level: 'silent' });
const API = '/apis/mesh.weft.dev/v1alpha1';

interface Reply {
  status: number;
  headers: Headers;
  body: any; // parsed JSON of whatever shape the endpoint answers; each test asserts the fields it needs
}

function service(name: string, namespace = 'default', port = 9080): Resource {
  return { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port }] } };
}

const YAML_SERVICE = (name: string): string => `apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec: {ports: [{name: http, port: 80}]}\n`;

function workload(name: string, serviceName: string, namespace = 'default'): Resource {
  return { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Workload', metadata: { name, namespace }, spec: { address: '10.0.0.7', service: serviceName, ports: [{ name: 'http', port: 9080 }] } };
}

describe('REST API server', () => {
  let dataDir: string;
  let store: Store;
  let server: ApiServer;
  let base: string;
  let auth: Record<string, string>;

  async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
    const init: RequestInit = { method, headers: auth };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers = { ...auth, 'content-type': contentType };
    }
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
  }

  async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'weft-api-'));
    store = openSqliteStore(dataDir);
    const tokens = createTokenAuthority(store);
    auth = { authorization: `Bearer ${(await tokens.create('admin')).token}` };
    server = await startApiServer({ store, tokens, port: 0, log, proxies: () => [{ id: 'sidecar-1', workload: 'productpage', ack: true }], heartbeatMs: 100, recheckDelayMs: 10 });
    base = `http://127.0.0.1:${server.port}`;
  });

  after(async () => {
    await server.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('create, get, list, replace and delete a Service', async () => {
    const created = await call('POST', `${API}/namespaces/default/services`, service('details'));
    assert.equal(created.status, 201);
    assert.equal(created.body.metadata.name, 'details');
    assert.ok(created.body.metadata.resourceVersion, 'the store set a resourceVersion');
    assert.equal(created.body.spec.ports[0].protocol, 'http', 'defaults from the schema are applied');
    assert.deepEqual(created.body.status.conditions.map((c: { type: string; status: string }) => [c.type, c.status]), [['Accepted', 'True']]);

    const got = await call('GET', `${API}/namespaces/default/services/details`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.spec, created.body.spec);

    const listed = await call('GET', `${API}/namespaces/default/services`);
    assert.equal(listed.body.kind, 'ServiceList');
    assert.ok(listed.body.metadata.resourceVersion);
    assert.deepEqual(listed.body.items.map((r: Resource) => r.metadata.name), ['details']);

    const replaced = await call('PUT', `${API}/namespaces/default/services/details`, { ...service('details', 'default', 9081), metadata: { name: 'details', namespace: 'default', resourceVersion: got.body.metadata.resourceVersion } });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.spec.ports[0].port, 9081);
    assert.notEqual(replaced.body.metadata.resourceVersion, got.body.metadata.resourceVersion);
    assert.equal(replaced.body.metadata.creationTimestamp, created.body.metadata.creationTimestamp);

    const deleted = await call('DELETE', `${API}/namespaces/default/services/details`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.metadata.name, 'details');
    const gone = await call('GET', `${API}/namespaces/default/services/details`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.kind, 'Status');
    assert.equal(gone.body.reason, 'NotFound');
    assert.equal((await call('DELETE', `${API}/namespaces/default/services/details`)).status, 404);
  });

  test('the cluster-wide list spans namespaces; a namespace list does not', async () => {
    assert.equal((await call('POST', `${API}/namespaces/team-a/services`, service('alpha', 'team-a'))).status, 201);
    assert.equal((await call('POST', `${API}/namespaces/team-b/services`, { ...service('beta'), metadata: { name: 'beta' } })).status, 201, 'namespace taken from the URL');
    const all = await call('GET', `${API}/services`);
    const names = all.body.items.map((r: Resource) => `${r.metadata.namespace}/${r.metadata.name}`);
    assert.ok(names.includes('team-a/alpha') && names.includes('team-b/beta'), names.join(','));
    const teamA = await call('GET', `${API}/namespaces/team-a/services`);
    assert.deepEqual(teamA.body.items.map((r: Resource) => r.metadata.name), ['alpha']);
  });

  test('409 on create-exists, on a stale PUT and on a stale DELETE precondition', async () => {
    const first = await call('POST', `${API}/namespaces/default/services`, service('ratings'));
    assert.equal(first.status, 201);
    const again = await call('POST', `${API}/namespaces/default/services`, service('ratings'));
    assert.equal(again.status, 409);
    assert.equal(again.body.reason, 'AlreadyExists');

    const stale = '1';
    const put = await call('PUT', `${API}/namespaces/default/services/ratings`, { ...service('ratings', 'default', 1234), metadata: { name: 'ratings', namespace: 'default', resourceVersion: stale } });
    assert.equal(put.status, 409);
    assert.equal(put.body.reason, 'Conflict');
    assert.match(put.body.message, /resourceVersion/);
    assert.equal((await call('GET', `${API}/namespaces/default/services/ratings`)).body.spec.ports[0].port, 9080, 'the stale write changed nothing');

    const del = await call('DELETE', `${API}/namespaces/default/services/ratings?resourceVersion=${stale}`);
    assert.equal(del.status, 409);
    const current = (await call('GET', `${API}/namespaces/default/services/ratings`)).body.metadata.resourceVersion;
    assert.equal((await call('DELETE', `${API}/namespaces/default/services/ratings?resourceVersion=${current}`)).status, 200);

    const putMissing = await call('PUT', `${API}/namespaces/default/services/ratings`, service('ratings'));
    assert.equal(putMissing.status, 404, 'PUT does not create');
  });

  test('a DeleteOptions body\'s preconditions are honoured, as Kubernetes clients send them', async () => {
    const path = `${API}/namespaces/default/services/guarded`;
    const created = (await call('POST', `${API}/namespaces/default/services`, service('guarded'))).body;
    const options = (preconditions: unknown): unknown => ({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions });
    const stale = await call('DELETE', path, options({ resourceVersion: '1' }));
    assert.equal(stale.status, 409, 'a stale resourceVersion in the body is a conflict, not ignored');
    const otherUid = await call('DELETE', path, options({ uid: 'someone-else' }));
    assert.equal(otherUid.status, 409);
    assert.match(otherUid.body.message, /uid someone-else does not match/);
    const dryRun = await call('DELETE', path, { kind: 'DeleteOptions', dryRun: ['All'] });
    assert.equal(dryRun.status, 400, 'a dry run it cannot do is refused, not carried out for real');
    assert.deepEqual(dryRun.body.details.causes.map((c: { field: string }) => c.field), ['dryRun']);
    const disagree = await call('DELETE', `${path}?resourceVersion=${created.metadata.resourceVersion}`, options({ resourceVersion: '1' }));
    assert.equal(disagree.status, 400);
    assert.equal((await call('GET', path)).status, 200, 'none of those deleted it');
    const current = (await call('GET', path)).body.metadata;
    const ok = await call('DELETE', path, options({ uid: current.uid, resourceVersion: current.resourceVersion }));
    assert.equal(ok.status, 200);
  });

  test('a cluster-scoped resource is named without a namespace in every message (Mesh default, not Mesh /default)', async () => {
    const mesh = { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: {} };
    assert.equal((await call('POST', `${API}/meshes`, mesh)).status, 201);
    try {
      assert.equal((await call('POST', `${API}/meshes`, mesh)).body.message, 'Mesh default already exists');
      const stale = await call('PUT', `${API}/meshes/default`, { ...mesh, metadata: { name: 'default', resourceVersion: '1' } });
      assert.match(stale.body.message, /^Mesh default: resourceVersion 1 does not match/);
      assert.equal((await call('GET', `${API}/meshes/absent`)).body.message, 'Mesh absent not found');
    } finally {
      assert.equal((await call('DELETE', `${API}/meshes/default`)).status, 200);
    }
  });

  test('400 with field paths for schema errors, in JSON and in YAML', async () => {
    const bad = { ...service('reviews'), spec: { ports: [{ name: 'http', port: 70000 }], colour: 'blue' } };
    const json = await call('POST', `${API}/namespaces/default/services`, bad);
    assert.equal(json.status, 400);
    assert.equal(json.body.kind, 'Status');
    assert.equal(json.body.status, 'Failure');
    assert.equal(json.body.code, 400);
    const fields = json.body.details.causes.map((c: { field: string }) => c.field).sort();
    assert.deepEqual(fields, ['spec.colour', 'spec.ports[0].port']);
    assert.match(json.body.message, /spec\./);

    const yaml = await call('POST', `${API}/namespaces/default/services`, 'apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata:\n  name: reviews\nspec:\n  ports:\n  - name: http\n    port: "x"\n', 'application/yaml');
    assert.equal(yaml.status, 400);
    assert.deepEqual(yaml.body.details.causes.map((c: { field: string }) => c.field), ['spec.ports[0].port']);

    const malformed = await call('POST', `${API}/namespaces/default/services`, 'kind: [unclosed', 'application/yaml');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /invalid YAML/);

    const badJson = await call('POST', `${API}/namespaces/default/services`, '{"kind":1,}', 'application/json');
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.kind, 'Status');
    assert.match(badJson.body.message, /^request body: invalid JSON: .*position 10/, 'says where');
    const poisoned = await call('POST', `${API}/namespaces/default/services`, '{"__proto__":{"admin":true}}', 'application/json');
    assert.equal(poisoned.status, 400);
    assert.match(poisoned.body.message, /"__proto__"/);

    // One document per request: a second one is refused whole, in words a writer understands.
    const twoDocs = `${YAML_SERVICE('first-of-two')}---\n${YAML_SERVICE('second-of-two')}`;
    const multi = await call('POST', `${API}/namespaces/default/services`, twoDocs, 'application/yaml');
    assert.equal(multi.status, 400);
    assert.equal(multi.body.message, 'request body: invalid YAML: more than one document, one is expected (the second starts at line 6)');
    assert.equal((await call('GET', `${API}/namespaces/default/services/first-of-two`)).status, 404);
  });

  test('a YAML body creates the resource', async () => {
    const created = await call('POST', `${API}/namespaces/default/services`, 'apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata:\n  name: from-yaml\nspec:\n  ports:\n  - {name: http, port: 8080}\n', 'application/yaml');
    assert.equal(created.status, 201);
    assert.equal(created.body.spec.ports[0].port, 8080);
  });

  test('the document must match the URL: kind, namespace and name', async () => {
    const wrongKind = await call('POST', `${API}/namespaces/default/services`, workload('w', 'details'));
    assert.equal(wrongKind.status, 400);
    assert.equal(wrongKind.body.details.causes[0].field, 'kind');
    const wrongNamespace = await call('POST', `${API}/namespaces/other/services`, service('x', 'default'));
    assert.equal(wrongNamespace.status, 400);
    assert.equal(wrongNamespace.body.details.causes[0].field, 'metadata.namespace');
    await call('POST', `${API}/namespaces/default/services`, service('named'));
    const wrongName = await call('PUT', `${API}/namespaces/default/services/named`, service('other-name'));
    assert.equal(wrongName.status, 400);
    assert.equal(wrongName.body.details.causes[0].field, 'metadata.name');
  });

  test('413 for a document over 1 MiB, 415 for a content type that is not JSON or YAML', async () => {
    const huge = { ...service('huge'), metadata: { name: 'huge', annotations: { blob: 'x'.repeat(1024 * 1024 + 10) } } };
    const tooLarge = await call('POST', `${API}/namespaces/default/services`, huge);
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.body.reason, 'RequestEntityTooLarge');

    const text = await call('POST', `${API}/namespaces/default/services`, JSON.stringify(service('texty')), 'text/plain');
    assert.equal(text.status, 415);
    assert.equal(text.body.reason, 'UnsupportedMediaType');
    assert.equal((await call('GET', `${API}/namespaces/default/services/texty`)).status, 404);
  });

  test('a name of up to 253 characters is served by every route; longer ones and bad URLs are 400/414 Statuses', async () => {
    // A DNS-1123 subdomain may have 253 characters; fastify's router stopped at 100.
    const name = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(name.length, 253);
    const path = `${API}/namespaces/default/workloads/${name}`;
    assert.equal((await call('POST', `${API}/namespaces/default/workloads`, workload(name, 'details'))).status, 201);
    assert.equal((await call('GET', path)).body.metadata.name, name);
    assert.equal((await call('PUT', path, workload(name, 'details-v2'))).status, 200);
    assert.equal((await call('DELETE', path)).status, 200);

    const tooLong = await call('GET', `${API}/namespaces/default/workloads/${'x'.repeat(254)}`);
    assert.equal(tooLong.status, 400);
    assert.deepEqual(tooLong.body.details.causes.map((c: { field: string }) => c.field), ['params.name']);
    const overRouter = await call('GET', `${API}/namespaces/default/workloads/${'x'.repeat(2000)}`);
    assert.equal(overRouter.status, 414);
    assert.equal(overRouter.body.kind, 'Status');
    const undecodable = await call('GET', `${API}/namespaces/default/workloads/%ZZ`);
    assert.equal(undecodable.status, 400);
    assert.equal(undecodable.body.kind, 'Status');
  });

  test('a YAML alias bomb is a 400, not a 500', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 6; i++) levels.push(`${'abcdef'[i]}: &${'abcdef'[i]} [${Array(10).fill(`*${'abcdef'[i - 1]}`).join(', ')}]`);
    const bomb = await call('POST', `${API}/namespaces/default/services`, levels.join('\n'), 'application/yaml');
    assert.equal(bomb.status, 400);
    assert.match(bomb.body.message, /invalid YAML: Excessive alias count/);
  });

  test('a list or watch with a label or field selector is a 400, never every item as if it matched', async () => {
    for (const path of [`${API}/namespaces/default/services?labelSelector=app%3Dreviews`, `${API}/services?watch=true&fieldSelector=metadata.name%3Dx`]) {
      const reply = await call('GET', path);
      assert.equal(reply.status, 400, path);
      assert.match(reply.body.message, /Selector is not supported/);
      assert.equal(reply.body.details.causes[0].field.startsWith('query.'), true);
    }
  });

  test('a write with ?dryRun is a 400 and stores nothing: it is not carried out for real', async () => {
    const create = await call('POST', `${API}/namespaces/default/services?dryRun=All`, service('dry'));
    assert.equal(create.status, 400);
    assert.deepEqual(create.body.details.causes.map((c: { field: string }) => c.field), ['query.dryRun']);
    assert.equal((await call('GET', `${API}/namespaces/default/services/dry`)).status, 404);
    await call('POST', `${API}/namespaces/default/services`, service('wet'));
    assert.equal((await call('PUT', `${API}/namespaces/default/services/wet?dryRun=All`, service('wet', 'default', 1))).status, 400);
    assert.equal((await call('DELETE', `${API}/namespaces/default/services/wet?dryRun=All`)).status, 400);
    assert.equal((await call('GET', `${API}/namespaces/default/services/wet`)).body.spec.ports[0].port, 9080, 'neither changed it');
  });

  test('a verb a served path does not take is 405 with Allow, before its body is parsed', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', `${API}/namespaces/default/services/x`, 'GET, PUT, DELETE'],
      ['POST', `${API}/namespaces/default/services/x`, 'GET, PUT, DELETE'],
      ['DELETE', `${API}/namespaces/default/services`, 'GET, POST'],
      ['POST', `${API}/services`, 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const reply = await call(method, path, '{"op":"replace"}', 'application/merge-patch+json');
      assert.equal(reply.status, 405, `${method} ${path}`);
      assert.equal(reply.headers.get('allow'), allow);
      assert.equal(reply.body.reason, 'MethodNotAllowed');
    }
  });

  test('unknown kinds and unknown routes answer 404 Status', async () => {
    const unknown = await call('GET', `${API}/namespaces/default/frobnicators`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.kind, 'Status');
    assert.match(unknown.body.message, /no kind is served.*services/);
    const postUnknown = await call('POST', `${API}/namespaces/default/frobnicators`, service('x'));
    assert.equal(postUnknown.status, 404);
    // Other non-API paths are the web UI's (its index.html when built): only API paths answer API 404s.
    assert.equal((await call('GET', '/api/nope')).status, 404);
  });

  test('a missing reference is stored with an Invalid condition that clears once the referent exists', async () => {
    const created = await call('POST', `${API}/namespaces/refs/workloads`, workload('orphan-1', 'ghost', 'refs'));
    assert.equal(created.status, 201);
    const [condition] = created.body.status.conditions;
    assert.equal(condition.type, 'Invalid');
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'MissingReference');
    assert.match(condition.message, /spec\.service: Service refs\/ghost does not exist/);

    assert.equal((await call('POST', `${API}/namespaces/refs/services`, service('ghost', 'refs'))).status, 201);
    const accepted = await waitFor(async () => {
      const r = await call('GET', `${API}/namespaces/refs/workloads/orphan-1`);
      return r.body.status?.conditions?.[0]?.type === 'Accepted' ? r.body : undefined;
    }, 'the Workload to become Accepted');
    assert.equal(accepted.status.conditions[0].status, 'True');

    assert.equal((await call('DELETE', `${API}/namespaces/refs/services/ghost`)).status, 200);
    await waitFor(async () => {
      const r = await call('GET', `${API}/namespaces/refs/workloads/orphan-1`);
      return r.body.status?.conditions?.[0]?.type === 'Invalid' ? r.body : undefined;
    }, 'the Workload to become Invalid again after its Service was deleted');
  });

  test('watch streams events in order as SSE and resumes from Last-Event-ID', async () => {
    const watchUrl = `${base}${API}/namespaces/watched/services?watch=true`;
    const stream = await SseClient.open(watchUrl, auth);
    assert.equal(stream.response.statusCode, 200);
    assert.match(String(stream.response.headers['content-type']), /^text\/event-stream/);
    try {
      const created = await call('POST', `${API}/namespaces/watched/services`, service('w1', 'watched'));
      await call('POST', `${API}/namespaces/elsewhere/services`, service('not-watched', 'elsewhere'));
      await call('PUT', `${API}/namespaces/watched/services/w1`, service('w1', 'watched', 7000));
      await call('DELETE', `${API}/namespaces/watched/services/w1`);
      await stream.waitUntil(() => stream.events.some((e) => e.event === 'DELETED'), 5000, 'DELETED');
      const events = stream.events;
      assert.equal(events[0]!.event, 'ADDED');
      assert.equal(JSON.parse(events[0]!.data).metadata.uid, created.body.metadata.uid);
      assert.equal(events.at(-1)!.event, 'DELETED');
      assert.ok(events.slice(1, -1).every((e) => e.event === 'MODIFIED'), events.map((e) => e.event).join(','));
      assert.ok(events.some((e) => e.event === 'MODIFIED' && JSON.parse(e.data).spec.ports[0].port === 7000), 'the replace is streamed');
      assert.ok(events.every((e) => JSON.parse(e.data).metadata.namespace === 'watched'), 'other namespaces are filtered out');
      const ids = events.map((e) => BigInt(e.id));
      assert.deepEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), ids, 'ids increase');
      assert.equal(new Set(ids).size, ids.length);

      const resumed = await SseClient.open(watchUrl, { ...auth, 'last-event-id': events[0]!.id });
      try {
        const replay = await resumed.waitForEvents(events.length - 1);
        assert.deepEqual(replay, events.slice(1), 'resuming replays exactly the events after the given id');
      } finally {
        resumed.close();
      }
      const byQuery = await SseClient.open(`${watchUrl}&resourceVersion=${events[0]!.id}`, auth);
      try {
        assert.deepEqual(await byQuery.waitForEvents(events.length - 1), events.slice(1));
      } finally {
        byQuery.close();
      }
      await stream.waitUntil(() => stream.comments > 0, 2000, 'a heartbeat comment');
    } finally {
      stream.close();
    }
  });

  test('a watch from something that is not a revision is a 400 naming resourceVersion, not a 500', async () => {
    for (const path of [`${API}/namespaces/default/services?watch=true&resourceVersion=abc`, '/api/watch?resourceVersion=-5']) {
      const reply = await call('GET', path);
      assert.equal(reply.status, 400, path);
      assert.equal(reply.body.reason, 'BadRequest');
      assert.deepEqual(reply.body.details.causes.map((c: { field: string }) => c.field), ['resourceVersion']);
    }
    const byHeader = await fetch(`${base}${API}/services?watch=true`, { headers: { ...auth, 'last-event-id': 'not-an-id' } });
    assert.equal(byHeader.status, 400);
    await byHeader.body?.cancel();
  });

  test('/api/watch streams every kind', async () => {
    const stream = await SseClient.open(`${base}/api/watch`, auth);
    try {
      await call('POST', `${API}/namespaces/all-kinds/services`, service('s', 'all-kinds'));
      await call('POST', `${API}/namespaces/all-kinds/workloads`, workload('w', 's', 'all-kinds'));
      await stream.waitUntil(() => new Set(stream.events.map((e) => JSON.parse(e.data).kind)).size === 2, 5000, 'a Service and a Workload event');
      assert.deepEqual(stream.events.filter((e) => e.event === 'ADDED').map((e) => JSON.parse(e.data).kind), ['Service', 'Workload']);
    } finally {
      stream.close();
    }
  });

  test('/openapi.json describes every kind and every other route', async () => {
    const doc = await call('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    for (const kind of KINDS) {
      const collection = kind.namespaced ? `/apis/${kind.apiVersion}/namespaces/{namespace}/${kind.plural}` : `/apis/${kind.apiVersion}/${kind.plural}`;
      assert.ok(doc.body.paths[collection]?.post, `POST ${collection}`);
      assert.ok(doc.body.paths[`${collection}/{name}`]?.put, `PUT ${collection}/{name}`);
      assert.equal(doc.body.components.schemas[kind.kind].properties.kind.const, kind.kind);
      assert.equal(typeof doc.body.components.schemas[kind.kind].properties.spec, 'object');
    }
    const servicePort = doc.body.components.schemas.Service.properties.spec.properties.ports.items.properties.port;
    assert.equal(servicePort.maximum, 65535, 'the spec schema is the model\'s TypeBox schema');
    // The routes that are not per kind are there too, and the bearer scheme every route but /healthz needs.
    const others = ['/api/watch', '/api/proxies', '/api/tokens', '/api/tokens/{id}/rotate', '/api/tokens/{id}', '/api/ca', '/api/ca/rotate', '/api/identities/{namespace}/{workload}', '/healthz', '/openapi.json'];
    for (const path of others) assert.ok(doc.body.paths[path], path);
    assert.deepEqual(doc.body.security, [{ bearer: [] }]);
    assert.equal(doc.body.components.securitySchemes.bearer.scheme, 'bearer');
    assert.deepEqual(doc.body.paths['/healthz'].get.security, [], '/healthz is public');
    // Every path parameter is declared, every operation id is unique, every $ref resolves.
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.body.paths as Record<string, Record<string, { operationId: string; parameters?: Array<{ in: string; name: string }> }>>)) {
      for (const op of Object.values(item)) {
        assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`);
        ids.add(op.operationId);
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
        assert.deepEqual(declared, [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort(), `${path} declares its path parameters`);
      }
    }
    for (const [, ref] of JSON.stringify(doc.body).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(doc.body.components.schemas[ref!], `$ref ${ref}`);
  });

  test('/healthz and /api/proxies', async () => {
    const health = await call('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok', leader: true });
    const proxies = await call('GET', '/api/proxies');
    assert.deepEqual(proxies.body, { items: [{ id: 'sidecar-1', workload: 'productpage', ack: true }] });
  });
});

describe('REST API shutdown', () => {
  /** A POST of `body` whose first bytes go out now; `finish()` sends the rest. */
  function slowPost(url: string, headers: Record<string, string>, body: string): { finish(): void; response: Promise<{ status: number; body: string }>; error: Promise<Error> } {
    const req = httpRequest(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } });
    req.write(body.slice(0, 10));
    const response = once(req, 'response').then(async (args) => {
      const res = args[0] as IncomingMessage;
      let text = '';
      for await (const chunk of res) text += String(chunk);
      return { status: res.statusCode ?? 0, body: text };
    });
    response.catch(() => undefined);
    return { finish: () => req.end(body.slice(10)), response, error: once(req, 'error').then((args) => args[0] as Error) };
  }

  test('close() ends watch streams, lets a request in flight finish, cuts a stalled one after drainTimeoutMs, and stops listening', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'weft-api-close-'));
    const store = openSqliteStore(dataDir);
    try {
      const tokens = createTokenAuthority(store);
      const auth = { authorization: `Bearer ${(await tokens.create('admin')).token}` };
      const server = await startApiServer({ store, tokens, port: 0, log, drainTimeoutMs: 1000 });
      const base = `http://127.0.0.1:${server.port}`;
      const stream = await SseClient.open(`${base}/api/watch`, auth);
      assert.equal(stream.response.statusCode, 200, 'a real stream, not a refusal that ends at once');
      const slow = slowPost(`${base}${API}/namespaces/default/services`, auth, JSON.stringify(service('drained')));
      const stalled = slowPost(`${base}${API}/namespaces/default/services`, auth, JSON.stringify(service('stalled')));
      await new Promise((r) => setTimeout(r, 200)); // both requests' headers reach the server

      const started = Date.now();
      const closing = server.close();
      await stream.waitUntil(() => stream.ended, 2000, 'the watch stream to end');
      await new Promise((r) => setTimeout(r, 200));
      slow.finish();
      const answered = await slow.response;
      assert.equal(answered.status, 201, answered.body);
      await closing;
      assert.ok(Date.now() - started >= 900, 'close() waited for the stalled request up to drainTimeoutMs');
      assert.match((await stalled.error).message, /socket hang up|ECONNRESET/);
      assert.ok(await store.get({ kind: 'Service', namespace: 'default', name: 'drained' }), 'the drained write is stored');
      assert.equal(await store.get({ kind: 'Service', namespace: 'default', name: 'stalled' }), undefined);
      await assert.rejects(fetch(`${base}/healthz`));
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
