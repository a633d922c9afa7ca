/**
 * Per-node snapshots, checked and encoded before they are published, and the
 * one narrow interface the xDS server reads them through (go-control-plane's
 * cache/server split).
 *
 * - setSnapshot rejects a snapshot that fails the consistency check or holds a
 *   resource the protos cannot encode (SnapshotRejectedError, every problem
 *   with its path); the node keeps its previous snapshot.
 * - Each resource is encoded to Any bytes once per (type, name, version) and
 *   shared by every node whose snapshot holds it (reference counted). Nodes
 *   given the same Snapshot object share its check and its encoded maps too,
 *   so 2000 proxies with equal config cost one entry, not 2000.
 * - Each type has a version of its own: the snapshot version in which that
 *   type's resources last changed, so a change to clusters does not re-version
 *   listeners.
 * - Watchers hear of a node's snapshot only when something in it changed.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { ConfigError } from '../../lib/errors.js';
import { encodeResource, type EncodedAny } from '../../xds/codec.js';
import { SERVED_TYPE_SHORT_NAMES as TYPE_SHORT_NAMES, SERVED_TYPE_URLS_IN_PUSH_ORDER as TYPE_URLS_IN_PUSH_ORDER, type ServedTypeUrl as TypeUrl } from '../../xds/type-urls.js';
import { snapshotProblems, type SnapshotProblem } from './consistency.js';
import type { Snapshot, SnapshotResource } from './snapshot.js';

export interface CachedResource {
  version: string;
  any: EncodedAny;
}

/** A snapshot as the server sees it: encoded, with per-type versions. Immutable. */
export interface PublishedSnapshot {
  readonly snapshot: Snapshot;
  /** `version_info` for state-of-the-world responses of this type. */
  typeVersion(typeUrl: TypeUrl): string;
  resources(typeUrl: TypeUrl): ReadonlyMap<string, CachedResource>;
}

export interface SnapshotCache {
  /** Publishes a node's snapshot, or throws SnapshotRejectedError and keeps the previous one. */
  setSnapshot(nodeId: string, snapshot: Snapshot): void;
  getSnapshot(nodeId: string): Snapshot | undefined;
  /** Forgets a node's snapshot; connected streams keep what they were sent. */
  clearSnapshot(nodeId: string): void;
  nodeIds(): string[];
  /** For the server: the encoded snapshot. */
  published(nodeId: string): PublishedSnapshot | undefined;
  /** For the server: `onChange` runs after each change to the node's snapshot. */
  watch(nodeId: string, onChange: () => void): { close(): void };
}

export class SnapshotRejectedError extends ConfigError {
  constructor(
    readonly nodeId: string,
    readonly snapshotVersion: string,
    readonly problems: SnapshotProblem[],
  ) {
    super(`snapshot ${snapshotVersion} for node ${nodeId}`, problems.map((p) => `${p.path}: ${p.reason}`).join('; '));
    this.name = 'SnapshotRejectedError';
  }
}

/** Published on each snapshot a node gets: `{ nodeId, version }`. */
export const snapshotChannel = diagnosticsChannel.channel('weft:xds:snapshot');

const EMPTY_RESOURCES: ReadonlyMap<string, CachedResource> = new Map();

interface SharedEncoding {
  any: EncodedAny;
  references: number;
}

/** A checked, encoded snapshot value and how many nodes it is published for. */
interface Prepared {
  encoded: Map<TypeUrl, Map<string, CachedResource>>;
  users: number;
}

export function createSnapshotCache(): SnapshotCache {
  const snapshots = new Map<string, PublishedSnapshot>();
  /** One entry per snapshot value in use: nodes given the same Snapshot object share its check and encoding. */
  const prepared = new Map<Snapshot, Prepared>();
  const watchers = new Map<string, Set<() => void>>();
  const encodings = new Map<string, SharedEncoding>();

  const encodingKey = (typeUrl: TypeUrl, name: string, version: string) => `${typeUrl}\u0000${name}\u0000${version}`;

  function acquire(typeUrl: TypeUrl, name: string, entry: SnapshotResource): CachedResource {
    const key = encodingKey(typeUrl, name, entry.version);
    let shared = encodings.get(key);
    if (shared === undefined) {
      shared = { any: encodeResource(typeUrl, entry.resource), references: 0 };
      encodings.set(key, shared);
    }
    shared.references++;
    return { version: entry.version, any: shared.any };
  }

  function release(encoded: Map<TypeUrl, Map<string, CachedResource>>): void {
    for (const [typeUrl, byName] of encoded) {
      for (const [name, cached] of byName) {
        const key = encodingKey(typeUrl, name, cached.version);
        const shared = encodings.get(key);
        if (shared !== undefined && --shared.references === 0) encodings.delete(key);
      }
    }
  }

  function prepare(nodeId: string, snapshot: Snapshot): Prepared {
    let entry = prepared.get(snapshot);
    if (entry === undefined) {
      const problems = snapshotProblems(snapshot);
      if (problems.length > 0) throw new SnapshotRejectedError(nodeId, snapshot.version, problems);
      entry = { encoded: encodeAll(nodeId, snapshot), users: 0 };
      prepared.set(snapshot, entry);
    }
    entry.users++;
    return entry;
  }

  function unpublish(published: PublishedSnapshot): void {
    const entry = prepared.get(published.snapshot);
    if (entry === undefined || --entry.users > 0) return;
    prepared.delete(published.snapshot);
    release(entry.encoded);
  }

  function encodeAll(nodeId: string, snapshot: Snapshot): Map<TypeUrl, Map<string, CachedResource>> {
    const encoded = new Map<TypeUrl, Map<string, CachedResource>>();
    const problems: SnapshotProblem[] = [];
    for (const [typeUrl, byName] of snapshot.resources) {
      const cachedByName = new Map<string, CachedResource>();
      encoded.set(typeUrl, cachedByName);
      for (const [name, entry] of byName) {
        try {
          cachedByName.set(name, acquire(typeUrl, name, entry));
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          problems.push({ path: `${TYPE_SHORT_NAMES[typeUrl]}[${name}].${error.path}`, reason: error.reason });
        }
      }
    }
    if (problems.length > 0) {
      release(encoded);
      throw new SnapshotRejectedError(nodeId, snapshot.version, problems);
    }
    return encoded;
  }

  return {
    setSnapshot(nodeId, snapshot) {
      const { encoded } = prepare(nodeId, snapshot);
      const previous = snapshots.get(nodeId);
      const typeVersions = new Map<TypeUrl, string>();
      let changed = previous === undefined;
      for (const typeUrl of TYPE_URLS_IN_PUSH_ORDER) {
        const next = encoded.get(typeUrl) ?? EMPTY_RESOURCES;
        if (previous !== undefined && sameResources(previous.resources(typeUrl), next)) {
          typeVersions.set(typeUrl, previous.typeVersion(typeUrl));
        } else {
          typeVersions.set(typeUrl, snapshot.version);
          changed = true;
        }
      }
      snapshots.set(nodeId, publishedView(snapshot, encoded, typeVersions));
      if (previous !== undefined) unpublish(previous);
      if (!changed) return;
      if (snapshotChannel.hasSubscribers) snapshotChannel.publish({ nodeId, version: snapshot.version });
      for (const onChange of watchers.get(nodeId) ?? []) onChange();
    },
    getSnapshot(nodeId) {
      return snapshots.get(nodeId)?.snapshot;
    },
    clearSnapshot(nodeId) {
      const previous = snapshots.get(nodeId);
      if (previous === undefined) return;
      snapshots.delete(nodeId);
      unpublish(previous);
    },
    nodeIds() {
      return [...snapshots.keys()];
    },
    published(nodeId) {
      return snapshots.get(nodeId);
    },
    watch(nodeId, onChange) {
      let set = watchers.get(nodeId);
      if (set === undefined) watchers.set(nodeId, (set = new Set()));
      const listener = () => onChange();
      set.add(listener);
      return {
        close() {
          set.delete(listener);
          if (set.size === 0 && watchers.get(nodeId) === set) watchers.delete(nodeId);
        },
      };
    },
  } satisfies SnapshotCache;
}

function publishedView(
  snapshot: Snapshot,
  encoded: Map<TypeUrl, Map<string, CachedResource>>,
  typeVersions: Map<TypeUrl, string>,
): PublishedSnapshot {
  return {
    snapshot,
    typeVersion: (typeUrl) => typeVersions.get(typeUrl) ?? snapshot.version,
    resources: (typeUrl) => encoded.get(typeUrl) ?? EMPTY_RESOURCES,
  };
}

function sameResources(a: ReadonlyMap<string, CachedResource>, b: ReadonlyMap<string, CachedResource>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [name, cached] of a) if (b.get(name)?.version !== cached.version) return false;
  return true;
}
