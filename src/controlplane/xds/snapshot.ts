/**
 * A snapshot: every xDS resource one proxy (node) should have, by type and
 * name, each with its own version. Snapshots are values: the cache publishes
 * them whole and never changes one after publishing (go-control-plane's
 * model). The `version` labels the snapshot; a resource's `version` must
 * change whenever its content does (newSnapshot derives it from the content).
 */
import { createHash } from 'node:crypto';
import type { EnvoyJson } from '../../xds/codec.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, type ServedTypeUrl as TypeUrl } from '../../xds/type-urls.js';

export interface SnapshotResource {
  version: string;
  /** Envoy JSON in the proto's field names (nested Anys carry `@type`). */
  resource: EnvoyJson;
}

export interface Snapshot {
  version: string;
  resources: Map<TypeUrl, Map<string /* name */, SnapshotResource>>;
}

/** The name a resource is known by: `cluster_name` for a ClusterLoadAssignment, `name` for the others. */
export function resourceName(typeUrl: TypeUrl, resource: EnvoyJson): string {
  const name = typeUrl === CLUSTER_LOAD_ASSIGNMENT_TYPE_URL ? resource['cluster_name'] : resource['name'];
  return typeof name === 'string' ? name : '';
}

/**
 * Builds a snapshot from lists of resources. Each resource's version is a hash
 * of its content, so an unchanged resource keeps its version across snapshots
 * and is not pushed again.
 */
export function newSnapshot(version: string, resources: Partial<Record<TypeUrl, readonly EnvoyJson[]>>): Snapshot {
  const byType = new Map<TypeUrl, Map<string, SnapshotResource>>();
  for (const [typeUrl, list] of Object.entries(resources) as [TypeUrl, readonly EnvoyJson[]][]) {
    const byName = new Map<string, SnapshotResource>();
    for (const resource of list) {
      const name = resourceName(typeUrl, resource);
      if (byName.has(name)) throw new Error(`snapshot ${version}: two ${typeUrl} resources are named ${JSON.stringify(name)}`);
      byName.set(name, { version: versionOf(resource), resource });
    }
    byType.set(typeUrl, byName);
  }
  return { version, resources: byType };
}

/**
 * Content versions by object identity: a translator shares one object among every
 * proxy that sees it (translate.ts createTranslator), so it is hashed once, not
 * once per proxy. Resources are immutable once in a snapshot, which makes this safe.
 */
const versions = new WeakMap<object, string>();

function versionOf(resource: EnvoyJson): string {
  let version = versions.get(resource);
  if (version === undefined) {
    version = contentVersion(resource);
    versions.set(resource, version);
  }
  return version;
}

/** A short, stable hash of a JSON value (object keys sorted, so key order does not matter). */
export function contentVersion(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('base64url').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  return JSON.stringify(value) ?? 'null';
}
