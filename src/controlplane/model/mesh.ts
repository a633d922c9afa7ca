/** Mesh: mesh-wide settings (mTLS mode, SPIFFE trust domain, default access logging). Cluster-scoped, like Kuma's Mesh. */
import { Type, type Static } from '@sinclair/typebox';
import { accessLogProblems, MeshAccessLogSchema, type MeshAccessLog } from './access-log.js';
import { fieldPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo } from './kind-info.js';
import type { Resource } from './resource.js';
import { Duration, FormattedString, StrictObject, StringEnum } from './schema-common.js';

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLED'] as const;

export const MeshSpecSchema = StrictObject({
  mtls: Type.Optional(
    StrictObject(
      {
        mode: Type.Optional(
          StringEnum(MTLS_MODES, {
            default: 'PERMISSIVE',
            description: 'STRICT: proxies accept only mTLS; PERMISSIVE: mTLS and plaintext; DISABLED: plaintext only.',
          }),
        ),
        certificateLifetime: Type.Optional(
          Duration('How long workload certificates live (default 24h, or `weft controlplane --cert-lifetime`); proxies renew at half of it.'),
        ),
      },
      { default: {}, description: 'Mutual TLS between proxies.' },
    ),
  ),
  trustDomain: Type.Optional(
    FormattedString('dns1123-subdomain', {
      default: 'cluster.local',
      description: 'SPIFFE trust domain of workload identities: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>.',
    }),
  ),
  accessLog: Type.Optional(MeshAccessLogSchema),
});

export type MtlsMode = (typeof MTLS_MODES)[number];

/** A validated Mesh spec: the defaults make every field present. */
export interface MeshSpec extends Static<typeof MeshSpecSchema> {
  mtls: { mode: MtlsMode; certificateLifetime?: string };
  trustDomain: string;
  accessLog?: MeshAccessLog;
}

function validateSemantics(resource: Resource, path: string): FieldError[] {
  return accessLogProblems((resource.spec as MeshSpec).accessLog, fieldPath(fieldPath(path, 'spec'), 'accessLog'));
}

export const meshKind: KindInfo = {
  kind: 'Mesh',
  apiVersion: MESH_API_VERSION,
  plural: 'meshes',
  namespaced: false,
  description: 'Mesh-wide settings: the mTLS mode, the SPIFFE trust domain and the default access logging.',
  specSchema: MeshSpecSchema,
  validateSemantics,
};
