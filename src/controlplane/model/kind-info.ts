/**
 * What the control plane knows about one kind of mesh resource: its identity,
 * its spec schema, the checks a schema cannot express, and the resources it
 * refers to. One KindInfo per kind file; kinds.ts is the registry.
 */
import type { TSchema } from '@sinclair/typebox';
import type { FieldError } from './field-error.js';
import type { Resource, ResourceKey } from './resource.js';

export const MESH_API_VERSION = 'mesh.weft.dev/v1alpha1';
export const SMI_SPLIT_API_VERSION = 'split.smi-spec.io/v1alpha4';
export const SMI_SPECS_API_VERSION = 'specs.smi-spec.io/v1alpha4';
export const SMI_ACCESS_API_VERSION = 'access.smi-spec.io/v1alpha3';

/** A field of one resource that names another resource. */
export interface Reference {
  /** The referring field, e.g. `spec.backends[1].service`. */
  path: string;
  key: ResourceKey;
}

export interface KindInfo {
  kind: string;
  /** `group/version`. */
  apiVersion: string;
  /** Lower-case plural, as in API paths and CRD names. */
  plural: string;
  /** false: cluster-scoped, and `metadata.namespace` is ''. */
  namespaced: boolean;
  specSchema: TSchema;
  /** One sentence for the docs and the CRD's description. */
  description: string;
  /** Kubernetes-style short names for the CLI (`weft get ts`). */
  shortNames?: readonly string[];
  /**
   * Checks beyond the schema, run only on documents the schema accepted (so
   * `resource.spec` has the schema's shape, defaults applied). `path` is the
   * path of the document (''), errors carry full paths such as `spec.ports[1].name`.
   */
  validateSemantics?(resource: Resource, path: string): FieldError[];
  /** Resources this one names (for Invalid conditions and for re-translation when they change). */
  references?(resource: Resource): Reference[];
}
