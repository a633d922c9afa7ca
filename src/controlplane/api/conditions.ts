/**
 * Status conditions. A resource that passed the schema is stored either way;
 * its one condition says whether everything it names exists:
 *   Accepted (True, reason Accepted), or
 *   Invalid  (True, reason MissingReference, message listing what is missing).
 * Each write settles its own resource before the API answers; creates and
 * deletes can flip other resources too, so they schedule one coalesced pass
 * over everything (a bulk apply of N resources costs a few passes, not N).
 */
import type pino from 'pino';
import { findKind } from '../model/kinds.js';
import { findMissingReferences, findReferences } from '../model/references.js';
import type { Condition, Resource, ResourceKey } from '../model/resource.js';
import type { Store } from '../store/store.js';
import { ACCEPTED, INVALID, MISSING_REFERENCE } from './condition-types.js';


const keyString = (key: ResourceKey): string => `${key.kind}\u0000${key.namespace}\u0000${key.name}`;

/** The condition list for a resource with these missing references; keeps lastTransitionTime while the state holds. */
export function conditionsFor(missing: readonly string[], previous: readonly Condition[] | undefined, now: string): Condition[] {
  const next: Omit<Condition, 'lastTransitionTime'> =
    missing.length === 0
      ? { type: ACCEPTED, status: 'True', reason: ACCEPTED, message: 'every referenced resource exists' }
      : { type: INVALID, status: 'True', reason: MISSING_REFERENCE, message: `missing: ${missing.join(', ')}` };
  const unchanged = previous?.find((c) => c.type === next.type && c.status === next.status);
  return [{ ...next, lastTransitionTime: unchanged?.lastTransitionTime ?? now }];
}

function sameConditions(a: readonly Condition[] | undefined, b: readonly Condition[]): boolean {
  return a !== undefined && a.length === b.length && a.every((c, i) => c.type === b[i]!.type && c.status === b[i]!.status && c.reason === b[i]!.reason && c.message === b[i]!.message);
}

export class StatusConditions {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly log: pino.Logger,
    private readonly recheckDelayMs: number,
  ) {}

  /** Computes and stores the condition of a just-written resource; returns it with its status. */
  async settle(resource: Resource): Promise<Resource> {
    const present = await this.existingReferences(resource);
    return this.update(resource, (key) => present.has(keyString(key)));
  }

  /** A resource appeared or disappeared: re-check everyone's references soon. */
  existenceChanged(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.dirty = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.running = this.recheckAll()
        .catch((err: unknown) => this.log.error({ err }, 'condition re-check failed'))
        .finally(() => {
          this.running = undefined;
          if (this.dirty) {
            this.dirty = false;
            this.existenceChanged();
          }
        });
    }, this.recheckDelayMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async recheckAll(): Promise<void> {
    // Internal records (API tokens, the CA's) are not mesh resources and carry no conditions.
    const all = (await this.store.list()).filter((r) => findKind(r.kind) !== undefined);
    const present = new Set(all.map((r) => keyString({ kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name })));
    for (const resource of all) {
      if (this.closed) return;
      await this.update(resource, (key) => present.has(keyString(key)));
    }
  }

  /** Only the keys this resource names, looked up one by one (a write touches a handful). */
  private async existingReferences(resource: Resource): Promise<Set<string>> {
    const references = findReferences(resource);
    const found = await Promise.all(references.map(async ({ key }) => ((await this.store.get(key)) === undefined ? undefined : keyString(key))));
    return new Set(found.filter((k): k is string => k !== undefined));
  }

  private async update(resource: Resource, exists: (key: ResourceKey) => boolean): Promise<Resource> {
    const conditions = conditionsFor(findMissingReferences(resource, exists), resource.status?.conditions, new Date().toISOString());
    if (sameConditions(resource.status?.conditions, conditions)) return resource;
    const key = { kind: resource.kind, namespace: resource.metadata.namespace, name: resource.metadata.name };
    // Deleted meanwhile: nothing to record.
    return (await this.store.putStatus(key, { conditions })) ?? resource;
  }
}
