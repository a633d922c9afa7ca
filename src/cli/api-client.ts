/**
 * The CLI's side of the REST API: one small client over fetch, the shared
 * `--server` / `--namespace` options, and kind lookup. Every failure becomes
 * an Error whose message is one line a user can act on (the server's Status
 * message with its field path, or why the server could not be reached).
 * The model (schemas, ajv) is imported lazily: every `weft` process, sidecars
 * included, loads these command files, and only these commands need it.
 */
import type { Command } from 'commander';
import type { KindInfo } from '../controlplane/model/kinds.js';
import type { Resource } from '../controlplane/model/resource.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE, CA_PATH, CA_ROTATE_PATH, collectionPath, DEFAULT_DATA_DIR, IDENTITIES_PATH, itemPath, PROXIES_PATH } from '../controlplane/api/paths.js';
import type { StatusBody } from '../controlplane/api/status.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:15080';
export const DEFAULT_NAMESPACE = 'default';
const REQUEST_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  server: string;
  namespace: string;
  /** `--token`; undefined: WEFT_TOKEN, then the local control plane's admin-token file. */
  token?: string;
}

/** Adds `--server URL`, `--token TOKEN` and `-n, --namespace NS` to a command. */
export function withServerOptions(command: Command): Command {
  return command
    .option('--server <url>', 'control plane API address', process.env['WEFT_SERVER'] || DEFAULT_SERVER)
    .option('--token <token>', `API bearer token (default: $WEFT_TOKEN, else <$WEFT_DATA_DIR or ${DEFAULT_DATA_DIR}>/${ADMIN_TOKEN_FILE})`)
    .option('-n, --namespace <namespace>', 'namespace', DEFAULT_NAMESPACE);
}

/** Where the local control plane writes its first admin token: <$WEFT_DATA_DIR or .weft/data>/admin-token. */
export function localAdminTokenFile(): string {
  return join(process.env['WEFT_DATA_DIR'] || DEFAULT_DATA_DIR, ADMIN_TOKEN_FILE);
}

/**
 * The token to send: `--token`, else WEFT_TOKEN, else the admin token the local
 * control plane wrote into its data dir. undefined: none found (the server will say 401).
 */
export function resolveToken(flag: string | undefined): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  const env = process.env['WEFT_TOKEN'];
  if (env !== undefined && env !== '') return env;
  try {
    return readFileSync(localAdminTokenFile(), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface ResourceList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: Resource[];
}

/** A kind by name, plural or short name, any case: `Service`, `services`, `ts`. */
export async function resolveKind(name: string): Promise<KindInfo> {
  const { findKind, KINDS } = await import('../controlplane/model/kinds.js');
  const kind = findKind(name);
  if (kind === undefined) throw new Error(`unknown kind "${name}"; known kinds: ${KINDS.map((k) => k.plural).join(', ')}`);
  return kind;
}

export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly status?: StatusBody,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

export class ApiClient {
  private readonly base: string;
  private readonly authorization: Record<string, string>;

  /** `token`: the `--token` flag (resolveToken finds the rest). */
  constructor(server: string, token?: string) {
    this.base = server.replace(/\/+$/, '');
    const resolved = resolveToken(token);
    this.authorization = resolved === undefined ? {} : { authorization: `Bearer ${resolved}` };
  }

  async get(kind: KindInfo, namespace: string, name: string): Promise<Resource | undefined> {
    try {
      return (await this.request('GET', itemPath(kind, namespace, name))) as Resource;
    } catch (err) {
      if (err instanceof ApiRequestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /** `namespace` undefined: every namespace. */
  async list(kind: KindInfo, namespace: string | undefined): Promise<ResourceList> {
    return (await this.request('GET', collectionPath(kind, namespace))) as ResourceList;
  }

  async create(kind: KindInfo, resource: Resource): Promise<Resource> {
    return (await this.request('POST', collectionPath(kind, resource.metadata.namespace), resource)) as Resource;
  }

  /** Replaces; `resource.metadata.resourceVersion` makes it conditional (409 when stale). */
  async replace(kind: KindInfo, resource: Resource): Promise<Resource> {
    return (await this.request('PUT', itemPath(kind, resource.metadata.namespace, resource.metadata.name), resource)) as Resource;
  }

  async delete(kind: KindInfo, namespace: string, name: string): Promise<Resource> {
    return (await this.request('DELETE', itemPath(kind, namespace, name))) as Resource;
  }

  async proxies(): Promise<unknown[]> {
    return ((await this.request('GET', PROXIES_PATH)) as { items: unknown[] }).items;
  }

  /** The mesh CA's status (`weft ca show`). */
  async caStatus(): Promise<unknown> {
    return this.request('GET', CA_PATH);
  }

  async rotateCa(overlap: string | undefined): Promise<unknown> {
    return this.request('POST', CA_ROTATE_PATH, overlap === undefined ? {} : { overlap });
  }

  /** A workload's identity (`weft identity`); `withToken` adds its registration token. */
  async identity(namespace: string, workload: string, withToken: boolean): Promise<unknown> {
    return this.request('GET', `${IDENTITIES_PATH}/${encodeURIComponent(namespace)}/${encodeURIComponent(workload)}${withToken ? '?token=true' : ''}`);
  }

  /** `method path` on the API with the caller's token; JSON in and out. For endpoints without a typed helper (tokens). */
  async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.base}${path}`;
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: body === undefined ? this.authorization : { ...this.authorization, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ApiRequestError(`cannot reach the control plane at ${this.base}: ${networkReason(err)}`);
    }
    const text = await response.text();
    if (response.ok) return parseJson(text, method, url);
    const status = statusBody(text);
    const detail = status === undefined ? text.trim().split('\n')[0] || response.statusText : describeStatus(status);
    throw new ApiRequestError(`${method} ${path}: ${response.status} ${detail}`, response.status, status);
  }
}

function parseJson(text: string, method: string, url: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiRequestError(`${method} ${url}: the server answered with something that is not JSON`);
  }
}

function statusBody(text: string): StatusBody | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<StatusBody>;
    return parsed.kind === 'Status' ? (parsed as StatusBody) : undefined;
  } catch {
    return undefined;
  }
}

/** `Invalid: Service is invalid: spec.ports[0].port: ... (and 2 more: spec.x, spec.y)`. */
function describeStatus(status: StatusBody): string {
  const others = (status.details?.causes ?? []).slice(1).map((c) => c.field);
  return `${status.reason}: ${status.message}${others.length === 0 ? '' : ` (and ${others.length} more: ${others.join(', ')})`}`;
}

function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? err.message;
}
