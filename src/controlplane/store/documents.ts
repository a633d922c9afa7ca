/**
 * The write rules every backend shares: which keys are storable, the
 * optimistic-concurrency check, and how a resource becomes the stored document
 * (identity kept from the first write, resourceVersion never stored because
 * it is the revision of the write itself).
 */
import { randomUUID } from 'node:crypto';
import type { Resource, ResourceKey } from '../model/resource.js';
import { ConflictError } from './store.js';
import { InvalidResourceKeyError } from './errors.js';

/** kind and name are non-empty; namespace is '' only for cluster-scoped kinds (Mesh). None may contain '/'. */
export function assertStorableKey(key: ResourceKey): void {
  for (const field of ['kind', 'namespace', 'name'] as const) {
    const value: unknown = key[field];
    const empty = value === '' && field !== 'namespace';
    if (typeof value !== 'string' || empty || value.includes('/')) throw new InvalidResourceKeyError(field, value);
  }
}

/** The rule from store.ts: '' = must be absent; a version = must match exactly; undefined = no check. */
export function checkExpectedVersion(key: ResourceKey, expected: string | undefined, actual: string | undefined): void {
  if (expected === undefined) return;
  if (expected === '' ? actual !== undefined : expected !== actual) throw new ConflictError(key, expected, actual);
}

/**
 * The document to store for a put of `incoming` over `previous`:
 * creationTimestamp and uid come from the first write; status is taken from
 * `incoming` when it has one and otherwise kept (so re-applying a spec does
 * not wipe the conditions the control plane wrote).
 */
export function documentForPut(incoming: Resource, previous: Resource | undefined, now: Date = new Date()): string {
  const metadata = {
    ...incoming.metadata,
    creationTimestamp: previous?.metadata.creationTimestamp ?? now.toISOString(),
    uid: previous?.metadata.uid ?? randomUUID(),
  };
  delete metadata.resourceVersion;
  const status = incoming.status ?? previous?.status;
  const stored: Resource = { apiVersion: incoming.apiVersion, kind: incoming.kind, metadata, spec: incoming.spec };
  if (status !== undefined) stored.status = status;
  return JSON.stringify(stored);
}

/** The document to store when only the status of `current` changes. */
export function documentForStatus(current: Resource, status: Resource['status']): string {
  const metadata = { ...current.metadata };
  delete metadata.resourceVersion;
  const stored: Resource = { ...current, metadata };
  if (status === undefined) delete stored.status;
  else stored.status = status;
  return JSON.stringify(stored);
}

/** A stored document as the resource callers see, stamped with the revision of its last write. */
export function resourceFromDocument(document: string, revision: string): Resource {
  const resource = JSON.parse(document) as Resource;
  resource.metadata.resourceVersion = revision;
  return resource;
}
