import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../src/lib/free-ports.js';
import { BOOKINFO_YAML, runWeft, startCliFixture, type CliFixture } from './cli-harness.js';

describe('weft apply', () => {
  let fx: CliFixture;
  before(async () => {
    fx = await startCliFixture();
  });
  after(async () => {
    await fx.close();
  });

  test('creates every document, then reports unchanged when applied again', async () => {
    const path = fx.file('bookinfo.yaml', BOOKINFO_YAML);
    const first = await fx.weft(['apply', '-f', path]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'service/reviews created\nworkload/reviews-v1 created\nworkload/ratings-v1 created\n');

    const versions = (await fx.store.list()).map((r) => r.metadata.resourceVersion);
    const second = await fx.weft(['apply', '-f', path]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'service/reviews unchanged\nworkload/reviews-v1 unchanged\nworkload/ratings-v1 unchanged\n');
    await new Promise((r) => setTimeout(r, 50)); // let any condition re-check run: it must not rewrite anything either
    assert.deepEqual((await fx.store.list()).map((r) => r.metadata.resourceVersion), versions, 'an unchanged apply writes nothing');
  });

  test('a changed document is configured; stdin works', async () => {
    const changed = BOOKINFO_YAML.replace('address: 10.0.0.11', 'address: 10.0.0.21');
    const result = await fx.weft(['apply', '-f', '-'], changed);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'service/reviews unchanged\nworkload/reviews-v1 configured\nworkload/ratings-v1 unchanged\n');
    const stored = await fx.store.get({ kind: 'Workload', namespace: 'default', name: 'reviews-v1' });
    assert.equal((stored?.spec as { address: string }).address, '10.0.0.21');
  });

  test('-n puts documents without a namespace there; JSON files work too', async () => {
    const doc = { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'details' }, spec: { ports: [{ name: 'http', port: 9080 }] } };
    const result = await fx.weft(['apply', '-n', 'shop', '-f', fx.file('details.json', JSON.stringify(doc))]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'service/details created\n');
    assert.ok(await fx.store.get({ kind: 'Service', namespace: 'shop', name: 'details' }));
  });

  test('a bad file fails with the document and field path, and applies nothing', async () => {
    const bad = `${BOOKINFO_YAML.replace(/reviews/g, 'other')}---\napiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports:\n  - name: http\n    port: 99999\n`;
    const before = (await fx.store.list()).length;
    const result = await fx.weft(['apply', '-f', fx.file('bad.yaml', bad)]);
    assert.notEqual(result.code, 0);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^weft: .*bad\.yaml: document 4: spec\.ports\[0\]\.port: must be <= 65535/);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal((await fx.store.list()).length, before);
  });

  test('malformed YAML, unknown kinds and missing files fail with one line', async () => {
    const yaml = await fx.weft(['apply', '-f', fx.file('malformed.yaml', 'kind: Service\nmetadata: [unclosed\n')]);
    assert.notEqual(yaml.code, 0);
    assert.match(yaml.stderr, /malformed\.yaml: document 1: invalid YAML/);

    const unknown = await fx.weft(['apply', '-f', '-'], 'apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\nspec: {}\n');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /stdin: document 1: kind: unknown kind "Frobnicator"/);

    const missing = await fx.weft(['apply', '-f', `${fx.dir}/nope.yaml`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: ENOENT/);
  });

  test('what weft get -o yaml|json prints, a list included, applies back unchanged', async () => {
    for (const output of ['yaml', 'json']) {
      const one = await fx.weft(['get', 'workload', 'reviews-v1', '-o', output]);
      assert.equal(one.code, 0, one.stderr);
      const list = await fx.weft(['get', 'workloads', '-o', output]);
      assert.equal(list.code, 0, list.stderr);
      const oneAgain = await fx.weft(['apply', '-f', '-'], one.stdout);
      assert.equal(oneAgain.code, 0, oneAgain.stderr);
      assert.equal(oneAgain.stdout, 'workload/reviews-v1 unchanged\n');
      const listAgain = await fx.weft(['apply', '-f', '-'], list.stdout);
      assert.equal(listAgain.code, 0, listAgain.stderr);
      assert.equal(listAgain.stdout, 'workload/ratings-v1 unchanged\nworkload/reviews-v1 unchanged\n');
    }
    const badItem = await fx.weft(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'WorkloadList', items: [{ kind: 'Workload' }] }));
    assert.notEqual(badItem.code, 0);
    assert.match(badItem.stderr, /^weft: stdin: document 1: items\[0\]: apiVersion: required field is missing/);
  });

  test('a YAML alias bomb fails with one line naming the document', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 6; i++) levels.push(`${'abcdef'[i]}: &${'abcdef'[i]} [${Array(10).fill(`*${'abcdef'[i - 1]}`).join(', ')}]`);
    const bomb = await fx.weft(['apply', '-f', '-'], levels.join('\n'));
    assert.notEqual(bomb.code, 0);
    assert.equal(bomb.stderr, 'weft: stdin: document 1: invalid YAML: Excessive alias count indicates a resource exhaustion attack\n');
  });

  test('an unreachable server fails with one line naming it', async () => {
    // Nothing listens on a port freePort hands out.
    const port = await freePort();
    const result = await runWeft(['apply', '-f', '-', '--server', `http://127.0.0.1:${port}`], BOOKINFO_YAML);
    assert.notEqual(result.code, 0);
    assert.equal(result.stderr, `weft: cannot reach the control plane at http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });
});
