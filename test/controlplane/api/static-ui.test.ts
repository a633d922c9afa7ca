/**
 * The built UI on the API port, over real HTTP: files with their content
 * types, long caching for hashed assets only, the SPA fallback for client
 * routes, API paths untouched, and a clear 404 when there is no build.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startApiServer, type ApiServer } from '../../../src/controlplane/api/server.js';
import { createTokenAuthority } from '../../../src/controlplane/api/tokens.js';
import { openSqliteStore } from '../../../src/controlplane/store/sqlite-store.js';
import type { Store } from '../../../src/controlplane/store/store.js';

const INDEX = '<!doctype html><title>Weft</title><script type="module" src="./assets/index-Dk3f9aZ1.js"></script>';

describe('web UI serving', () => {
  let dir: string;
  let store: Store;
  let auth: Record<string, string> = {};
  let built: ApiServer;
  let unbuilt: ApiServer;
  const url = (server: ApiServer, path: string): string => `http://127.0.0.1:${server.port}${path}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-ui-'));
    const ui = join(dir, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), INDEX);
    writeFileSync(join(ui, 'assets', 'index-Dk3f9aZ1.js'), 'console.log("weft")');
    writeFileSync(join(ui, 'assets', 'index-B7x2Qp0c.css'), 'body{}');
    writeFileSync(join(ui, 'favicon.svg'), '<svg/>');
    store = openSqliteStore(join(dir, 'data'));
    const log = pino({ level: 'silent' });
    const tokens = createTokenAuthority(store);
    auth = { authorization: `Bearer ${(await tokens.create('admin')).token}` };
    built = await startApiServer({ store, tokens, port: 0, log, uiDir: ui });
    unbuilt = await startApiServer({ store, tokens: createTokenAuthority(store), port: 0, log, uiDir: join(dir, 'missing') });
  });

  after(async () => {
    await built.close();
    await unbuilt.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and for client routes, revalidated', async () => {
    for (const path of ['/', '/topology', '/services/default/reviews?window=5m']) {
      const res = await fetch(url(built, path));
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.equal(await res.text(), INDEX);
    }
  });

  it('serves files with their content types; hashed assets are immutable', async () => {
    const js = await fetch(url(built, '/assets/index-Dk3f9aZ1.js'));
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(await js.text(), 'console.log("weft")');
    const css = await fetch(url(built, '/assets/index-B7x2Qp0c.css'));
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    const svg = await fetch(url(built, '/favicon.svg'));
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    assert.equal(svg.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(url(built, '/assets/index-OLDHASH1.js'))).status, 404, 'a missing asset is not the app');
    const climb = await fetch(url(built, '/..%2f..%2fetc%2fpasswd'));
    assert.equal(await climb.text(), INDEX, 'a path out of the UI directory gets the app, never the file');
  });

  it('leaves API paths to the API: JSON 404s, and non-GET methods', async () => {
    // The UI's files are public; the API needs a token (without one these would be 401s).
    const api = await fetch(url(built, '/api/v1/nosuch'), { headers: auth });
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { kind: string }).kind, 'Status');
    assert.equal((await fetch(url(built, '/apis/mesh.weft.dev/v1alpha1/nosuch'), { headers: auth })).status, 404);
    assert.equal((await fetch(url(built, '/apis/mesh.weft.dev/v1alpha1/nosuch'))).status, 401);
    assert.equal((await fetch(url(built, '/topology'), { method: 'POST', headers: auth })).status, 404);
    assert.equal((await fetch(url(built, '/healthz'))).status, 200);
  });

  it('answers 404 with how to build when there is no build', async () => {
    const res = await fetch(url(unbuilt, '/'));
    assert.equal(res.status, 404);
    assert.match(await res.text(), /npm run build/);
  });
});
