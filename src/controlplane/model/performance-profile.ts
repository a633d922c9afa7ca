/**
 * PerformanceProfile: a named, repeatable load test (`weft perf profile run
 * NAME`), like Meshery's performance profiles. Its fields are `weft perf
 * run`'s flags, so a profile is a saved command line.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo } from './kind-info.js';
import type { Resource } from './resource.js';
import { Duration, StrictObject, StringEnum, StringMap } from './schema-common.js';

export const LOAD_PROTOCOLS = ['http1', 'http2', 'grpc'] as const;

export const PerformanceProfileSpecSchema = StrictObject({
  url: Type.String({ pattern: '^https?://', description: 'The endpoint under load: http://host:port/path (for grpc the path is /package.Service/Method).' }),
  rate: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Open-loop constant rate, requests per second (with coordinated-omission correction).' })),
  max: Type.Optional(Type.Boolean({ description: 'Closed loop: as fast as the connections allow. Exactly one of rate and max.' })),
  duration: Type.Optional(Duration('How long the load runs after warm-up (default 30s).')),
  warmup: Type.Optional(Duration('Load before measuring starts, not recorded.')),
  connections: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'Concurrent connections.' })),
  threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'Load generator worker threads.' })),
  method: Type.Optional(Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'HTTP method (default GET).' })),
  headers: Type.Optional(StringMap({ description: 'Request headers.' })),
  bodySize: Type.Optional(Type.Integer({ minimum: 0, description: 'Request body of this many bytes.' })),
  protocol: Type.Optional(StringEnum(LOAD_PROTOCOLS, { description: 'http1 (default), http2 or grpc.' })),
  agents: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Distributed load: `weft perf agent` addresses that share the rate.' })),
  tolerancePercent: Type.Optional(Type.Number({ minimum: 0, description: 'How far a run may drift from the previous one before `weft perf compare` calls it a regression (default 5).' })),
});

export type PerformanceProfileSpec = Static<typeof PerformanceProfileSpecSchema>;

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as PerformanceProfileSpec;
  const hasRate = spec.rate !== undefined;
  const isMax = spec.max === true;
  if (hasRate === isMax) {
    return [{ path: fieldPath(fieldPath(path, 'spec'), hasRate ? 'max' : 'rate'), message: 'set exactly one of rate (open loop) and max: true (closed loop)' }];
  }
  return [];
}

export const performanceProfileKind: KindInfo = {
  kind: 'PerformanceProfile',
  apiVersion: MESH_API_VERSION,
  plural: 'performanceprofiles',
  shortNames: ['perfprofile'],
  namespaced: true,
  description: 'A named, repeatable load test: the flags of `weft perf run`.',
  specSchema: PerformanceProfileSpecSchema,
  validateSemantics,
};
