/**
 * PerformanceResult: one load test's outcome, stored by the control plane so
 * runs can be listed, charted and compared later. `spec.smp` is the Service
 * Mesh Performance document `weft perf run -o` writes, kept whole (SMP
 * readers and Weft's own histogram key need every field); the fields a
 * comparison relies on are checked.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, StrictObject } from './schema-common.js';

const LATENCY_FIELDS = ['min', 'average', 'p50', 'p90', 'p99', 'max'] as const;

const SmpLatencySchema = StrictObject(
  Object.fromEntries(LATENCY_FIELDS.map((name) => [name, Type.Number({ minimum: 0 })])) as Record<(typeof LATENCY_FIELDS)[number], ReturnType<typeof Type.Number>>,
  { description: 'SMP PerformanceTestResult.Latency, milliseconds.' },
);

export const PerformanceResultSpecSchema = StrictObject({
  profile: Type.Optional(FormattedString('dns1123-subdomain', { description: 'The PerformanceProfile (this namespace) that produced the run.' })),
  partial: Type.Optional(Type.Boolean({ default: false, description: 'true when the run was interrupted before its duration.' })),
  smp: Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    required: ['performance_test_result'],
    properties: {
      performance_test_result: Type.Unsafe<Record<string, unknown>>({
        type: 'object',
        'x-kubernetes-preserve-unknown-fields': true,
        required: ['latencies_ms', 'actual_QPS'],
        properties: { latencies_ms: SmpLatencySchema, actual_QPS: Type.Number({ minimum: 0 }) },
      }),
    },
    description: 'The SMP document: performance_test_config, performance_test_result, service_mesh_config, environment_config, and Weft\'s fuller result under weft.',
  }),
});

export type PerformanceResultSpec = Static<typeof PerformanceResultSpecSchema>;

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as PerformanceResultSpec;
  const latency = (spec.smp['performance_test_result'] as { latencies_ms: Record<string, number> }).latencies_ms;
  const latencyPath = fieldPath(fieldPath(fieldPath(fieldPath(path, 'spec'), 'smp'), 'performance_test_result'), 'latencies_ms');
  const errors: FieldError[] = [];
  // Each percentile is at least the one before it, as any histogram's are.
  const ordered = ['min', 'p50', 'p90', 'p99', 'max'] as const;
  for (let i = 1; i < ordered.length; i++) {
    const [lower, upper] = [ordered[i - 1]!, ordered[i]!];
    if (latency[upper]! < latency[lower]!) errors.push({ path: fieldPath(latencyPath, upper), message: `${upper} (${latency[upper]}) is below ${lower} (${latency[lower]})` });
  }
  return errors;
}

function references(resource: Resource): Reference[] {
  const profile = (resource.spec as PerformanceResultSpec).profile;
  return profile === undefined ? [] : [{ path: 'spec.profile', key: { kind: 'PerformanceProfile', namespace: resource.metadata.namespace, name: profile } }];
}

export const performanceResultKind: KindInfo = {
  kind: 'PerformanceResult',
  apiVersion: MESH_API_VERSION,
  plural: 'performanceresults',
  shortNames: ['perfresult'],
  namespaced: true,
  description: 'The outcome of one load test, as a Service Mesh Performance (SMP) document.',
  specSchema: PerformanceResultSpecSchema,
  validateSemantics,
  references,
};
