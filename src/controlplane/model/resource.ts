/**
 * The shape every mesh resource shares: a Kubernetes-style document. Kinds add
 * their own `spec` (one TypeBox schema per kind, in this folder); the control
 * plane adds `metadata.resourceVersion` and `status`.
 */
export interface ObjectMeta {
  name: string;
  /** Defaults to 'default'. */
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Opaque; set by the store on every write, compared on optimistic-concurrency writes. */
  resourceVersion?: string;
  /** Set by the store on the first write (RFC 3339). */
  creationTimestamp?: string;
  /** Set by the store on the first write. */
  uid?: string;
}

/** Kubernetes-style condition (Accepted / Invalid with a reason). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface ResourceStatus {
  conditions: Condition[];
}

export interface Resource<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: ResourceStatus;
}

/** Identifies one resource. */
export interface ResourceKey {
  kind: string;
  namespace: string;
  name: string;
}

/** `Service default/reviews`; a cluster-scoped resource has no namespace part (`Mesh default`). */
export function describeKey(key: ResourceKey): string {
  return `${key.kind} ${key.namespace === '' ? '' : `${key.namespace}/`}${key.name}`;
}

export function keyOf(resource: Pick<Resource, 'kind' | 'metadata'>): ResourceKey {
  return { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
}
