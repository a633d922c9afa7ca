/**
 * Kubernetes CustomResourceDefinitions (apiextensions.k8s.io/v1) generated
 * from the same TypeBox schemas that validate the API, so the two cannot
 * disagree. A structural schema knows fewer keywords than ajv: closed objects
 * become Kubernetes' default pruning, our custom string formats become
 * patterns (or stay control-plane checks), and any keyword with no
 * translation fails generation rather than being dropped silently.
 */
import { stringify } from 'yaml';
import { StatusSchema } from './document.js';
import { findStringFormat } from './formats.js';
import { KINDS, type KindInfo } from './kinds.js';

/** Keywords a Kubernetes structural schema accepts as they are. */
const COPIED_KEYWORDS = new Set([
  'type', 'description', 'default', 'enum', 'nullable',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems',
  'minProperties', 'maxProperties', 'required',
  // Keeps a field's unknown members instead of pruning them (an SMP document held whole).
  'x-kubernetes-preserve-unknown-fields',
]);

type JsonSchema = Readonly<Record<string, unknown>>;

/** The openAPIV3Schema equivalent of a TypeBox/JSON schema. TypeBox's symbol-keyed markers are not enumerated, so they drop out. */
export function toStructuralSchema(schema: JsonSchema, path = '(schema)'): Record<string, unknown> {
  // type and description first: the order a reader of the YAML expects.
  const out: Record<string, unknown> = { type: schema['type'], description: schema['description'] };
  for (const [keyword, value] of Object.entries(schema)) {
    if (COPIED_KEYWORDS.has(keyword)) {
      out[keyword] = value;
    } else if (keyword === 'properties') {
      out['properties'] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, property]) => [name, toStructuralSchema(property, `${path}.${name}`)]),
      );
    } else if (keyword === 'items') {
      out['items'] = toStructuralSchema(value as JsonSchema, `${path}[]`);
    } else if (keyword === 'additionalProperties') {
      // `false` is Kubernetes' behaviour anyway (unknown fields are pruned) and is not allowed in a structural schema.
      if (value !== false) out['additionalProperties'] = toStructuralSchema(value as JsonSchema, `${path}{}`);
    } else if (keyword === 'format') {
      const format = findStringFormat(String(value));
      if (format === undefined) throw new Error(`CRD generation: unknown format ${JSON.stringify(value)} at ${path}`);
      Object.assign(out, format.crd);
    } else {
      throw new Error(`CRD generation: keyword "${keyword}" at ${path} has no structural-schema equivalent`);
    }
  }
  if (out['type'] === undefined) throw new Error(`CRD generation: ${path} has no type, which a structural schema requires`);
  if (out['description'] === undefined) delete out['description'];
  return out;
}

export function toCustomResourceDefinition(kind: KindInfo): object {
  const [group, version] = kind.apiVersion.split('/') as [string, string];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.plural}.${group}` },
    spec: {
      group,
      scope: kind.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: kind.kind,
        listKind: `${kind.kind}List`,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        ...(kind.shortNames === undefined ? {} : { shortNames: [...kind.shortNames] }),
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: kind.description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructuralSchema(kind.specSchema, 'spec'),
                status: toStructuralSchema(StatusSchema, 'status'),
              },
            },
          },
        },
      ],
    },
  };
}

/** controller-gen's naming: `<group>_<plural>.yaml`. */
export function crdFileName(kind: KindInfo): string {
  return `${kind.apiVersion.split('/')[0]}_${kind.plural}.yaml`;
}

const GENERATED_HEADER =
  '# Generated from the TypeBox schemas in src/controlplane/model by\n' +
  '# `node dist/src/controlplane/model/generate-crds.js deploy/crds`. Do not edit.\n';

export function renderCustomResourceDefinition(kind: KindInfo): string {
  return GENERATED_HEADER + stringify(toCustomResourceDefinition(kind), { lineWidth: 0 });
}

/** Every kind's CRD file: name and YAML content. */
export function renderCrdFiles(): Array<{ fileName: string; content: string }> {
  return KINDS.map((kind) => ({ fileName: crdFileName(kind), content: renderCustomResourceDefinition(kind) }));
}
