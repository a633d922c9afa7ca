/**
 * Mesh resources as the REST API serves them, the kinds it serves (read from
 * /openapi.json, so kinds added later appear without a UI change) and their URLs.
 */
import { get, request } from './client';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; creationTimestamp?: string };
  spec: Record<string, unknown>;
  status?: { conditions?: Condition[] };
}

export interface KindInfo {
  kind: string;
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { operationId?: string }>>;
}

/**
 * Every resource kind: a collection with a create operation (`create{Kind}`) in
 * the OpenAPI document the server builds from its kind table. Read-only views
 * under /apis (SMI TrafficMetrics) have none and are not resources.
 */
export async function loadKinds(signal?: AbortSignal): Promise<KindInfo[]> {
  const doc = await get<OpenApiDoc>('/openapi.json', signal);
  const kinds: KindInfo[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    const match = /^\/apis\/([^/]+\/[^/]+)\/(namespaces\/\{namespace\}\/)?([a-z0-9]+)$/.exec(path);
    const create = /^create([A-Za-z0-9]+)$/.exec(operations['post']?.operationId ?? '');
    if (!match || !create) continue;
    kinds.push({ kind: create[1]!, apiVersion: match[1]!, plural: match[3]!, namespaced: match[2] !== undefined });
  }
  return kinds;
}

export function collectionPath(kind: KindInfo, namespace?: string): string {
  if (!kind.namespaced || namespace === undefined) return `/apis/${kind.apiVersion}/${kind.plural}`;
  return `/apis/${kind.apiVersion}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
}

export function itemPath(kind: KindInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(kind, kind.namespaced ? (namespace || 'default') : undefined)}/${encodeURIComponent(name)}`;
}

export function resourceKey(r: Pick<Resource, 'kind' | 'metadata'>): string {
  return `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;
}

export function listAll(kind: KindInfo, signal?: AbortSignal): Promise<{ metadata: { resourceVersion: string }; items: Resource[] }> {
  return get(collectionPath(kind), signal);
}

/** Creates the resource (POST) when `exists` is false, else replaces it (PUT); a create that finds it exists (409) replaces it. */
export async function applyResource(kind: KindInfo, namespace: string | undefined, name: string, body: unknown, contentType: string, exists: boolean): Promise<Resource> {
  const ns = kind.namespaced ? (namespace || 'default') : undefined;
  if (exists) return request<Resource>('PUT', itemPath(kind, ns, name), { body, contentType });
  try {
    return await request<Resource>('POST', collectionPath(kind, ns), { body, contentType });
  } catch (err) {
    if ((err as { reason?: string }).reason !== 'AlreadyExists') throw err;
    return request<Resource>('PUT', itemPath(kind, ns, name), { body, contentType });
  }
}

export function deleteResource(kind: KindInfo, namespace: string | undefined, name: string): Promise<Resource> {
  return request<Resource>('DELETE', itemPath(kind, namespace, name));
}

/** The condition that says whether the control plane accepted the resource. */
export function acceptance(resource: Resource): { ok: boolean; text: string } {
  const conditions = resource.status?.conditions ?? [];
  const invalid = conditions.find((c) => c.type === 'Invalid' && c.status === 'True');
  if (invalid) return { ok: false, text: invalid.message ?? invalid.reason ?? 'Invalid' };
  const accepted = conditions.find((c) => c.type === 'Accepted');
  return { ok: accepted?.status !== 'False', text: accepted ? (accepted.status === 'True' ? 'Accepted' : (accepted.message ?? 'Not accepted')) : '—' };
}
