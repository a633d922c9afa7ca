import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { BOOKINFO_YAML, startCliFixture, type CliFixture } from './cli-harness.js';

describe('weft get', () => {
  let fx: CliFixture;
  before(async () => {
    fx = await startCliFixture();
    const applied = await fx.weft(['apply', '-f', '-'], BOOKINFO_YAML);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(async () => {
    await fx.close();
  });

  test('a table with NAME, NAMESPACE, STATUS and AGE; Invalid for a missing reference', async () => {
    const result = await fx.weft(['get', 'workloads']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s+/), ['NAME', 'NAMESPACE', 'STATUS', 'AGE']);
    const rows = Object.fromEntries(lines.slice(1).map((l) => { const [name, ...rest] = l.split(/\s+/); return [name, rest]; }));
    assert.deepEqual(rows['reviews-v1']!.slice(0, 2), ['default', 'Accepted']);
    assert.deepEqual(rows['ratings-v1']!.slice(0, 2), ['default', 'Invalid'], 'its Service ratings does not exist');
    assert.match(rows['reviews-v1']![2]!, /^\d+s$/);
  });

  test('one resource as YAML and as JSON, by kind name or short name', async () => {
    const yaml = await fx.weft(['get', 'Service', 'reviews', '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const doc = parse(yaml.stdout);
    assert.equal(doc.kind, 'Service');
    assert.equal(doc.metadata.name, 'reviews');
    assert.deepEqual(doc.spec.ports, [{ name: 'http', port: 9080, protocol: 'http' }]);
    assert.equal(doc.status.conditions[0].type, 'Accepted');

    const json = await fx.weft(['get', 'svc', 'reviews', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), doc);
  });

  test('lists as JSON are List documents; -A spans namespaces', async () => {
    const other = await fx.weft(['apply', '-n', 'other', '-f', '-'], 'apiVersion: mesh.weft.dev/v1alpha1\nkind: Service\nmetadata: {name: elsewhere}\nspec: {ports: [{name: http, port: 80}]}\n');
    assert.equal(other.code, 0, other.stderr);
    const inDefault = JSON.parse((await fx.weft(['get', 'services', '-o', 'json'])).stdout);
    assert.equal(inDefault.kind, 'ServiceList');
    assert.deepEqual(inDefault.items.map((r: { metadata: { name: string } }) => r.metadata.name), ['reviews']);
    const all = JSON.parse((await fx.weft(['get', 'services', '-A', '-o', 'json'])).stdout);
    assert.deepEqual(all.items.map((r: { metadata: { name: string } }) => r.metadata.name).sort(), ['elsewhere', 'reviews']);
  });

  test('an empty list says so, naming the namespace only for namespaced kinds', async () => {
    const meshes = await fx.weft(['get', 'meshes']);
    assert.equal(meshes.code, 0, meshes.stderr);
    assert.equal(meshes.stderr, 'no meshes found\n');
    const workloads = await fx.weft(['get', 'workloads', '-n', 'empty']);
    assert.equal(workloads.stderr, 'no workloads found in namespace empty\n');
  });

  test('not found, unknown kinds and bad -o values fail with one line', async () => {
    const missing = await fx.weft(['get', 'service', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.equal(missing.stderr, 'weft: Service default/nope not found\n');
    const unknown = await fx.weft(['get', 'frobs']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /^weft: unknown kind "frobs"; known kinds: .*services/);
    const badFormat = await fx.weft(['get', 'services', '-o', 'xml']);
    assert.notEqual(badFormat.code, 0);
    assert.match(badFormat.stderr, /xml/);
  });
});
