/**
 * URL layout of the REST API, Kubernetes style, shared by the server (route
 * patterns) and the CLI (concrete URLs):
 *   /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]   namespaced kinds
 *   /apis/{group}/{version}/{plural}[/{name}]                   cluster-scoped kinds
 *   /apis/{group}/{version}/{plural}                            every namespace (list, watch)
 */
import type { KindInfo } from '../model/kinds.js';

export const WATCH_ALL_PATH = '/api/watch';
export const PROXIES_PATH = '/api/proxies';
export const CA_PATH = '/api/ca';
export const CA_ROTATE_PATH = '/api/ca/rotate';
/** `/api/identities/{namespace}/{workload}` */
export const IDENTITIES_PATH = '/api/identities';
export const OPENAPI_PATH = '/openapi.json';
export const HEALTH_PATH = '/healthz';
export const TOKENS_PATH = '/api/tokens';
/** The bootstrap admin token's file in the control plane's data dir (mode 0600), read by `weft` commands on the same host. */
export const ADMIN_TOKEN_FILE = 'admin-token';
export const DEFAULT_DATA_DIR = '.weft/data';

function groupVersionPrefix(kind: KindInfo): string {
  return `/apis/${kind.apiVersion}`;
}

/** fastify route patterns (`:namespace`, `:name` parameters) for one kind. */
export function routePatterns(kind: KindInfo): { collection: string; item: string; allNamespaces: string } {
  const prefix = groupVersionPrefix(kind);
  const collection = kind.namespaced ? `${prefix}/namespaces/:namespace/${kind.plural}` : `${prefix}/${kind.plural}`;
  return { collection, item: `${collection}/:name`, allNamespaces: `${prefix}/${kind.plural}` };
}

/** The collection URL path; `namespace` undefined lists every namespace. */
export function collectionPath(kind: KindInfo, namespace?: string): string {
  if (!kind.namespaced || namespace === undefined) return `${groupVersionPrefix(kind)}/${kind.plural}`;
  return `${groupVersionPrefix(kind)}/namespaces/${encodeURIComponent(namespace)}/${kind.plural}`;
}

export function itemPath(kind: KindInfo, namespace: string, name: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}`;
}
