/**
 * The one interface every store backend implements (embedded SQLite, etcd,
 * later Kubernetes). Writes are versioned: each write gets a new, store-wide
 * increasing revision, which is also the resource's `metadata.resourceVersion`;
 * a write that names an expected resourceVersion fails with ConflictError when
 * the stored one differs (HTTP 409 in the API). Watchers see every change after
 * the revision they start from, in order, exactly once.
 */
import { describeKey, type Resource, type ResourceKey } from '../model/resource.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  /** For DELETED: the last stored state. */
  resource: Resource;
  /** The store revision of this change. */
  revision: string;
}

export interface ListOptions {
  kind?: string;
  namespace?: string;
}

export interface Store {
  get(key: ResourceKey): Promise<Resource | undefined>;
  list(options?: ListOptions): Promise<Resource[]>;
  /**
   * Creates or replaces. `expectedResourceVersion`: '' = must not exist yet;
   * a version = must currently have exactly that version; undefined = no check.
   * Returns the stored resource with its new resourceVersion (and creationTimestamp/uid kept from the first write).
   */
  put(resource: Resource, expectedResourceVersion?: string): Promise<Resource>;
  /** Only `status` changes; does not conflict with spec writes. */
  putStatus(key: ResourceKey, status: Resource['status']): Promise<Resource | undefined>;
  /** Returns the deleted resource, or undefined when it did not exist. Same expectedResourceVersion rule as put. */
  delete(key: ResourceKey, expectedResourceVersion?: string): Promise<Resource | undefined>;
  /** The store's current revision (for list-then-watch without gaps). */
  revision(): Promise<string>;
  /** Calls `onEvent` for every change after `fromRevision` (default: from now). */
  watch(onEvent: (event: WatchEvent) => void, fromRevision?: string): { close(): void };
  close(): Promise<void>;
}

export class ConflictError extends Error {
  constructor(
    readonly key: ResourceKey,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`${describeKey(key)}: resourceVersion ${expected === '' ? '(none: create)' : expected} does not match the stored ${actual ?? '(absent)'}`);
    this.name = 'ConflictError';
  }
}
