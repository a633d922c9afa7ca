/**
 * Store errors beyond the shared ConflictError (store.ts). The API maps
 * RevisionCompactedError to 410 Gone, as Kubernetes does for an expired watch,
 * and InvalidRevisionError to 400.
 */

/** A watch asked to start from something that is not a revision (`abc`, `-5`): the caller's mistake. */
export class InvalidRevisionError extends RangeError {
  constructor(readonly requested: string) {
    super(`cannot watch from revision ${JSON.stringify(requested)}: not a store revision (a resourceVersion from a list or an event id)`);
    this.name = 'InvalidRevisionError';
  }
}

/** A watch asked for changes the store no longer keeps; list again and watch from the new revision. */
export class RevisionCompactedError extends Error {
  constructor(
    readonly requested: string,
    readonly compactedThrough: string,
  ) {
    super(`cannot watch from revision ${requested}: changes up to revision ${compactedThrough} were compacted; list again and watch from the current revision`);
    this.name = 'RevisionCompactedError';
  }
}

/** A resource whose kind, namespace or name cannot form a storage key. */
export class InvalidResourceKeyError extends Error {
  constructor(readonly field: 'kind' | 'namespace' | 'name', readonly value: unknown) {
    super(`resource ${field} ${JSON.stringify(value)} is not storable: ${field === 'namespace' ? "it must be a string without '/' ('' for cluster-scoped kinds)" : "it must be a non-empty string without '/'"}`);
    this.name = 'InvalidResourceKeyError';
  }
}
