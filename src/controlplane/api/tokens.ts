/**
 * API bearer tokens: who may use the REST API and the UI, and how.
 *
 * A token is `weft_<id>_<secret>`: `id` names its record, `secret` is 32 random
 * bytes (base64url). The store keeps only the SHA-256 of the whole token (the
 * secret is random, so a fast hash is enough: nothing to brute-force), in an
 * internal `ApiToken` record (cluster scope, named by id) that the API never
 * serves. A token is shown once, when it is created or rotated; it never goes
 * into logs or API responses after that.
 *
 * Roles: `admin` may do everything; `read-only` may only read (GET, watches).
 * The first start creates the record `bootstrap-admin` (a conditional create,
 * so two replicas on one etcd make only one) and hands its token to the caller.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Resource } from '../model/resource.js';
import type { Store } from '../store/store.js';
import { ConflictError } from '../store/store.js';

export const TOKEN_ROLES = ['admin', 'read-only'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

export const API_TOKEN_API_VERSION = 'internal.weft.dev/v1';
export const API_TOKEN_KIND = 'ApiToken';
export const BOOTSTRAP_ADMIN_TOKEN_ID = 'bootstrap-admin';

const TOKEN_PATTERN = /^weft_([a-z0-9-]{1,63})_([A-Za-z0-9_-]{43})$/;

interface ApiTokenSpec {
  role: TokenRole;
  /** SHA-256 of the whole token, hex. */
  sha256: string;
  createdAt: string;
}

/** What the API may show about a token: never its hash or secret. */
export interface TokenInfo {
  id: string;
  role: TokenRole;
  createdAt: string;
}

export interface IssuedToken extends TokenInfo {
  /** The bearer token itself; shown once. */
  token: string;
}

export interface TokenAuthority {
  /** The role of a bearer token, or undefined when it is unknown, malformed or revoked. */
  authenticate(token: string): Promise<TokenInfo | undefined>;
  create(role: TokenRole): Promise<IssuedToken>;
  /** A new secret for token `id` (same id and role); the old token stops working at once. undefined: no such token. */
  rotate(id: string): Promise<IssuedToken | undefined>;
  revoke(id: string): Promise<boolean>;
  list(): Promise<TokenInfo[]>;
  /** Creates the bootstrap admin token when no admin token exists yet; undefined when one does (its secret is not recoverable). */
  bootstrapAdmin(): Promise<IssuedToken | undefined>;
}

export function createTokenAuthority(store: Store): TokenAuthority {
  const keyOf = (id: string) => ({ kind: API_TOKEN_KIND, namespace: '', name: id });
  const info = (record: Resource): TokenInfo => {
    const spec = record.spec as ApiTokenSpec;
    return { id: record.metadata.name, role: spec.role, createdAt: spec.createdAt };
  };
  /** Writes a fresh secret under `id`; `expectedVersion` as Store.put. */
  const issue = async (id: string, role: TokenRole, expectedVersion: string | undefined): Promise<IssuedToken> => {
    const token = `weft_${id}_${randomBytes(32).toString('base64url')}`;
    const spec: ApiTokenSpec = { role, sha256: sha256(token), createdAt: new Date().toISOString() };
    await store.put({ apiVersion: API_TOKEN_API_VERSION, kind: API_TOKEN_KIND, metadata: { name: id, namespace: '' }, spec }, expectedVersion);
    return { id, role, createdAt: spec.createdAt, token };
  };

  return {
    async authenticate(token) {
      const parsed = TOKEN_PATTERN.exec(token);
      if (parsed === null) return undefined;
      const record = await store.get(keyOf(parsed[1]!));
      if (record === undefined) return undefined;
      const expected = Buffer.from((record.spec as ApiTokenSpec).sha256, 'hex');
      const actual = Buffer.from(sha256(token), 'hex');
      return expected.length === actual.length && timingSafeEqual(expected, actual) ? info(record) : undefined;
    },
    create: (role) => issue(randomBytes(6).toString('hex'), role, ''),
    async rotate(id) {
      const record = await store.get(keyOf(id));
      if (record === undefined) return undefined;
      return issue(id, (record.spec as ApiTokenSpec).role, record.metadata.resourceVersion);
    },
    async revoke(id) {
      return (await store.delete(keyOf(id))) !== undefined;
    },
    async list() {
      return (await store.list({ kind: API_TOKEN_KIND })).map(info).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async bootstrapAdmin() {
      const tokens = await store.list({ kind: API_TOKEN_KIND });
      if (tokens.some((t) => (t.spec as ApiTokenSpec).role === 'admin')) return undefined;
      try {
        return await issue(BOOTSTRAP_ADMIN_TOKEN_ID, 'admin', '');
      } catch (err) {
        // Another replica (or an earlier start whose admin token was since revoked and re-made) got there first.
        if (err instanceof ConflictError) return undefined;
        throw err;
      }
    },
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
