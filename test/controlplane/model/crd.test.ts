import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { parse } from 'yaml';
import { crdFileName, renderCustomResourceDefinition, toCustomResourceDefinition, toStructuralSchema } from '../../../src/controlplane/model/crd.js';
import { findKind, KINDS } from '../../../src/controlplane/model/kinds.js';

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    versions: Array<{ name: string; served: boolean; storage: boolean; subresources: unknown; schema: { openAPIV3Schema: Schema } }>;
  };
}
type Schema = Record<string, unknown> & { properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

/** Every schema node under `schema`, with its path. */
function* walk(schema: Schema, path: string): Generator<[string, Schema]> {
  yield [path, schema];
  for (const [name, child] of Object.entries(schema.properties ?? {})) yield* walk(child, `${path}.${name}`);
  if (schema.items !== undefined) yield* walk(schema.items, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') yield* walk(schema.additionalProperties, `${path}{}`);
}

const STRUCTURAL_KEYWORDS = new Set([
  'type', 'description', 'default', 'enum', 'nullable', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'required',
  'properties', 'items', 'additionalProperties', 'format', 'x-kubernetes-preserve-unknown-fields',
]);

describe('CRD generation', () => {
  it('names each CRD <plural>.<group> with the kind, scope and version of the registry', () => {
    for (const kind of KINDS) {
      const crd = toCustomResourceDefinition(kind) as Crd;
      const [group, version] = kind.apiVersion.split('/');
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.kind, 'CustomResourceDefinition');
      assert.equal(crd.metadata.name, `${kind.plural}.${group}`);
      assert.equal(crd.spec.group, group);
      assert.equal(crd.spec.scope, kind.namespaced ? 'Namespaced' : 'Cluster');
      assert.deepEqual(crd.spec.names, {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        ...(kind.shortNames ? { shortNames: kind.shortNames } : {}),
      });
      assert.equal(crd.spec.versions.length, 1);
      const [served] = crd.spec.versions;
      assert.deepEqual({ name: served?.name, served: served?.served, storage: served?.storage, subresources: served?.subresources }, { name: version, served: true, storage: true, subresources: { status: {} } });
      const root = served?.schema.openAPIV3Schema as Schema;
      assert.equal(root['type'], 'object');
      assert.deepEqual(Object.keys(root.properties ?? {}), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
      assert.equal(root.properties?.['spec']?.['type'], 'object');
    }
  });

  it('emits structural schemas: typed nodes, known keywords, no closed objects, only Kubernetes formats', () => {
    for (const kind of KINDS) {
      const root = (toCustomResourceDefinition(kind) as Crd).spec.versions[0]?.schema.openAPIV3Schema as Schema;
      for (const [path, node] of walk(root, kind.kind)) {
        assert.equal(typeof node['type'], 'string', `${path} has a type`);
        for (const keyword of Object.keys(node)) assert.ok(STRUCTURAL_KEYWORDS.has(keyword), `${path}: keyword ${keyword}`);
        assert.notEqual(node.additionalProperties, false, `${path}: additionalProperties: false`);
        if (node['format'] !== undefined) assert.equal(node['format'], 'duration', `${path}: format`);
      }
    }
  });

  it('carries the constraints and defaults of the TypeBox schemas', () => {
    const split = (toCustomResourceDefinition(findKind('TrafficSplit')!) as Crd).spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'] as Schema;
    assert.deepEqual(split['required'], ['service', 'backends']);
    const backend = split.properties?.['backends']?.items as Schema;
    assert.deepEqual(backend.properties?.['weight'], { type: 'integer', description: backend.properties?.['weight']?.['description'], minimum: 0 });
    assert.deepEqual(backend.properties?.['service']?.['pattern'], '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$');
    const mesh = (toCustomResourceDefinition(findKind('Mesh')!) as Crd).spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'] as Schema;
    assert.equal(mesh.properties?.['trustDomain']?.['default'], 'cluster.local');
    assert.deepEqual(mesh.properties?.['mtls']?.properties?.['mode']?.['enum'], ['STRICT', 'PERMISSIVE', 'DISABLED']);
    const policy = (toCustomResourceDefinition(findKind('TrafficPolicy')!) as Crd).spec.versions[0]?.schema.openAPIV3Schema.properties?.['spec'] as Schema;
    assert.equal(policy.properties?.['timeouts']?.properties?.['request']?.['format'], 'duration');
    assert.equal(policy.properties?.['loadBalancer']?.properties?.['hashOn']?.['maxProperties'], 1);
  });

  it('refuses keywords it cannot translate instead of dropping them', () => {
    assert.throws(() => toStructuralSchema(Type.Union([Type.String(), Type.Number()]), 'spec.x'), /keyword "anyOf" at spec.x has no structural-schema equivalent/);
    assert.throws(() => toStructuralSchema(Type.String({ format: 'email-ish' }), 'spec.y'), /unknown format "email-ish" at spec.y/);
  });

  it('renders YAML that parses back to the CRD, under a do-not-edit header', () => {
    for (const kind of KINDS) {
      const text = renderCustomResourceDefinition(kind);
      assert.match(text, /^# Generated from the TypeBox schemas/);
      assert.deepEqual(parse(text), toCustomResourceDefinition(kind));
    }
    assert.equal(crdFileName(findKind('TrafficSplit')!), 'split.smi-spec.io_trafficsplits.yaml');
  });
});
