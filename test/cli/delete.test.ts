import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOKINFO_YAML, startCliFixture, type CliFixture } from './cli-harness.js';

describe('weft delete', () => {
  let fx: CliFixture;
  before(async () => {
    fx = await startCliFixture();
    assert.equal((await fx.weft(['apply', '-f', '-'], BOOKINFO_YAML)).code, 0);
  });
  after(async () => {
    await fx.close();
  });

  test('deletes a resource; deleting it again fails with NotFound', async () => {
    const result = await fx.weft(['delete', 'workload', 'reviews-v1']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'workload/reviews-v1 deleted\n');
    assert.equal(await fx.store.get({ kind: 'Workload', namespace: 'default', name: 'reviews-v1' }), undefined);

    const again = await fx.weft(['delete', 'workload', 'reviews-v1']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /^weft: DELETE \/apis\/mesh\.weft\.dev\/v1alpha1\/namespaces\/default\/workloads\/reviews-v1: 404 NotFound: Workload default\/reviews-v1 not found\n$/);
  });

  test('the namespace flag selects the namespace', async () => {
    const wrongNamespace = await fx.weft(['delete', 'service', 'reviews', '-n', 'other']);
    assert.notEqual(wrongNamespace.code, 0);
    assert.ok(await fx.store.get({ kind: 'Service', namespace: 'default', name: 'reviews' }));
    assert.equal((await fx.weft(['delete', 'service', 'reviews', '-n', 'default'])).code, 0);
  });
});
