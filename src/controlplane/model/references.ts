/**
 * Cross-resource references: a TrafficSplit's backends, a Workload's Service...
 * A resource naming one that does not exist is still stored, with an Invalid
 * condition (the referent may simply not have been applied yet).
 */
import { findKind, type Reference } from './kinds.js';
import { describeKey, type Resource, type ResourceKey } from './resource.js';

/** Every resource `resource` names, with the field that names it. */
export function findReferences(resource: Resource): Reference[] {
  return findKind(resource.kind)?.references?.(resource) ?? [];
}

/** One message per reference to a resource for which `exists` is false, e.g. `spec.backends[1].service: Service default/reviews-v4 does not exist`. */
export function findMissingReferences(resource: Resource, exists: (key: ResourceKey) => boolean): string[] {
  return findReferences(resource)
    .filter((reference) => !exists(reference.key))
    .map(({ path, key }) => `${path}: ${describeKey(key)} does not exist`);
}
