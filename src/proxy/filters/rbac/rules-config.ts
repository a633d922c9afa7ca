/**
 * `envoy.config.rbac.v3.RBAC` (the `rules` / `shadow_rules` message shared by the
 * HTTP and network RBAC filters): schema, validation and the normalized form the
 * engine compiles. Permissions and principals are recursive (`and_rules`,
 * `not_id`, ...), so their schemas are shared ajv schemas that refer to themselves.
 *
 * Supported permissions: any, header, url_path, destination_ip, destination_port,
 * destination_port_range, and_rules, or_rules, not_rule. Principals: any,
 * authenticated (principal_name against the peer's URI SAN, the SPIFFE ID),
 * direct_remote_ip, remote_ip, source_ip, header, url_path, and_ids, or_ids, not_id.
 * Everything else (metadata, conditions, matchers, SNI, filter state, audit logs,
 * the LOG action) is rejected with its path. On a network filter, header and
 * url_path can never match (there is no request), so they are rejected too.
 */
import { Type } from '@sinclair/typebox';
import { ConfigError } from '../../../lib/errors.js';
import { parseCidr, type Cidr } from '../../../lib/cidr.js';
import { normalizeStringMatch, oneOf } from '../../config/normalize-common.js';
import { normalizeHeaderMatcher } from '../../config/normalize-route.js';
import { fieldPath, indexPath } from '../../config/path.js';
import { Enum, NonEmptyStr, Obj, Opt, Shared, StringMatcher, UInt, unsupportedFields, type RawStringMatcher } from '../../config/schema-common.js';
import { HeaderMatcher, type RawHeaderMatcher } from '../../config/schema-route.js';
import type { HeaderMatcher as HeaderMatcherConfig, StringMatch } from '../../config/types.js';

const PERMISSION_ID = 'weft:RbacPermission';
const PRINCIPAL_ID = 'weft:RbacPrincipal';

interface RawCidrRange {
  address_prefix: string;
  prefix_len?: number;
}

export interface RawPermission {
  any?: boolean;
  header?: RawHeaderMatcher;
  url_path?: { path: RawStringMatcher };
  destination_ip?: RawCidrRange;
  destination_port?: number;
  destination_port_range?: { start: number; end: number };
  and_rules?: { rules: RawPermission[] };
  or_rules?: { rules: RawPermission[] };
  not_rule?: RawPermission;
}

export interface RawPrincipal {
  any?: boolean;
  authenticated?: { principal_name?: RawStringMatcher };
  direct_remote_ip?: RawCidrRange;
  remote_ip?: RawCidrRange;
  source_ip?: RawCidrRange;
  header?: RawHeaderMatcher;
  url_path?: { path: RawStringMatcher };
  and_ids?: { ids: RawPrincipal[] };
  or_ids?: { ids: RawPrincipal[] };
  not_id?: RawPrincipal;
}

export interface RawRbacRules {
  action?: 'ALLOW' | 'DENY';
  policies?: Record<string, { permissions: RawPermission[]; principals: RawPrincipal[] }>;
}

const PermissionRef = Type.Unsafe<RawPermission>({ $ref: PERMISSION_ID });
const PrincipalRef = Type.Unsafe<RawPrincipal>({ $ref: PRINCIPAL_ID });

const CidrRange = Obj({
  address_prefix: NonEmptyStr(),
  // google.protobuf.UInt32Value: a number, or `{ value: n }` is not accepted (Envoy's YAML takes the number).
  prefix_len: Opt(UInt({ maximum: 128 })),
});

const PathMatcher = Obj({ path: StringMatcher });

Shared('RbacPermission', Obj({
  any: Opt(Type.Literal(true)),
  header: Opt(HeaderMatcher),
  url_path: Opt(PathMatcher),
  destination_ip: Opt(CidrRange),
  destination_port: Opt(UInt({ maximum: 65535 })),
  destination_port_range: Opt(Obj({ start: UInt({ maximum: 65536 }), end: UInt({ maximum: 65536 }) })),
  and_rules: Opt(Obj({ rules: Type.Array(PermissionRef, { minItems: 1 }) })),
  or_rules: Opt(Obj({ rules: Type.Array(PermissionRef, { minItems: 1 }) })),
  not_rule: Opt(PermissionRef),
  ...unsupportedFields(['metadata', 'requested_server_name', 'matcher', 'uri_template', 'sourced_metadata']),
}));

Shared('RbacPrincipal', Obj({
  any: Opt(Type.Literal(true)),
  authenticated: Opt(Obj({ principal_name: Opt(StringMatcher) })),
  direct_remote_ip: Opt(CidrRange),
  remote_ip: Opt(CidrRange),
  source_ip: Opt(CidrRange),
  header: Opt(HeaderMatcher),
  url_path: Opt(PathMatcher),
  and_ids: Opt(Obj({ ids: Type.Array(PrincipalRef, { minItems: 1 }) })),
  or_ids: Opt(Obj({ ids: Type.Array(PrincipalRef, { minItems: 1 }) })),
  not_id: Opt(PrincipalRef),
  ...unsupportedFields(['metadata', 'filter_state', 'custom', 'sourced_metadata']),
}));

const Policy = Obj({
  permissions: Type.Array(PermissionRef, { minItems: 1 }),
  principals: Type.Array(PrincipalRef, { minItems: 1 }),
  ...unsupportedFields(['condition', 'checked_condition', 'cel_config']),
});

/** `envoy.config.rbac.v3.RBAC`. */
export const RbacRules = Obj({
  action: Opt(Enum(['ALLOW', 'DENY'])),
  policies: Opt(Type.Record(Type.String({ minLength: 1 }), Policy)),
  ...unsupportedFields(['audit_logging_options']),
});

export type RbacAction = 'ALLOW' | 'DENY';

export type PermissionRule =
  | { kind: 'any' }
  | { kind: 'and' | 'or'; rules: PermissionRule[] }
  | { kind: 'not'; rule: PermissionRule }
  | { kind: 'header'; matcher: HeaderMatcherConfig }
  | { kind: 'url_path'; match: StringMatch }
  | { kind: 'destination_ip'; cidr: Cidr }
  | { kind: 'destination_port'; port: number }
  | { kind: 'destination_port_range'; start: number; end: number };

export type PrincipalRule =
  | { kind: 'any' }
  | { kind: 'and' | 'or'; ids: PrincipalRule[] }
  | { kind: 'not'; id: PrincipalRule }
  /** `match` undefined: any authenticated (mTLS) peer. */
  | { kind: 'authenticated'; match: StringMatch | undefined }
  | { kind: 'direct_remote_ip' | 'remote_ip'; cidr: Cidr }
  | { kind: 'header'; matcher: HeaderMatcherConfig }
  | { kind: 'url_path'; match: StringMatch };

export interface RbacPolicyConfig {
  readonly name: string;
  readonly permissions: readonly PermissionRule[];
  readonly principals: readonly PrincipalRule[];
}

export interface RbacRulesConfig {
  readonly action: RbacAction;
  /** Sorted by name, as Envoy reports the first matching policy in name order. */
  readonly policies: readonly RbacPolicyConfig[];
}

/** What the rules may look at: a network filter sees no request (headers, path). */
export interface RulesScope {
  readonly network: boolean;
}

/** Normalizes already schema-validated rules. */
export function normalizeRbacRules(raw: RawRbacRules, path: string, scope: RulesScope): RbacRulesConfig {
  const policiesPath = fieldPath(path, 'policies');
  const names = Object.keys(raw.policies ?? {}).sort();
  return {
    action: raw.action ?? 'ALLOW',
    policies: names.map((name) => {
      const policy = raw.policies![name]!;
      const policyPath = fieldPath(policiesPath, name);
      return {
        name,
        permissions: policy.permissions.map((p, i) => normalizePermission(p, indexPath(fieldPath(policyPath, 'permissions'), i), scope)),
        principals: policy.principals.map((p, i) => normalizePrincipal(p, indexPath(fieldPath(policyPath, 'principals'), i), scope)),
      };
    }),
  };
}

const PERMISSION_KINDS = ['any', 'header', 'url_path', 'destination_ip', 'destination_port', 'destination_port_range', 'and_rules', 'or_rules', 'not_rule'] as const;

function normalizePermission(raw: RawPermission, path: string, scope: RulesScope): PermissionRule {
  const kind = oneOf(raw, PERMISSION_KINDS, path)!;
  const at = fieldPath(path, kind);
  switch (kind) {
    case 'any':
      return { kind: 'any' };
    case 'header':
      requestOnly(scope, at);
      return { kind: 'header', matcher: normalizeHeaderMatcher(raw.header!, at) };
    case 'url_path':
      requestOnly(scope, at);
      return { kind: 'url_path', match: normalizeStringMatch(raw.url_path!.path, fieldPath(at, 'path')) };
    case 'destination_ip':
      return { kind: 'destination_ip', cidr: normalizeCidr(raw.destination_ip!, at) };
    case 'destination_port':
      return { kind: 'destination_port', port: raw.destination_port! };
    case 'destination_port_range': {
      const { start, end } = raw.destination_port_range!;
      if (start >= end) throw new ConfigError(at, `start (${start}) must be less than end (${end})`);
      return { kind: 'destination_port_range', start, end };
    }
    case 'and_rules':
    case 'or_rules':
      return {
        kind: kind === 'and_rules' ? 'and' : 'or',
        rules: raw[kind]!.rules.map((r, i) => normalizePermission(r, indexPath(fieldPath(at, 'rules'), i), scope)),
      };
    case 'not_rule':
      return { kind: 'not', rule: normalizePermission(raw.not_rule!, at, scope) };
  }
}

const PRINCIPAL_KINDS = ['any', 'authenticated', 'direct_remote_ip', 'remote_ip', 'source_ip', 'header', 'url_path', 'and_ids', 'or_ids', 'not_id'] as const;

function normalizePrincipal(raw: RawPrincipal, path: string, scope: RulesScope): PrincipalRule {
  const kind = oneOf(raw, PRINCIPAL_KINDS, path)!;
  const at = fieldPath(path, kind);
  switch (kind) {
    case 'any':
      return { kind: 'any' };
    case 'authenticated': {
      const name = raw.authenticated!.principal_name;
      return { kind: 'authenticated', match: name === undefined ? undefined : normalizeStringMatch(name, fieldPath(at, 'principal_name')) };
    }
    case 'direct_remote_ip':
    case 'source_ip':
      // source_ip is the deprecated spelling of direct_remote_ip.
      return { kind: 'direct_remote_ip', cidr: normalizeCidr(raw[kind]!, at) };
    case 'remote_ip':
      return { kind: 'remote_ip', cidr: normalizeCidr(raw.remote_ip!, at) };
    case 'header':
      requestOnly(scope, at);
      return { kind: 'header', matcher: normalizeHeaderMatcher(raw.header!, at) };
    case 'url_path':
      requestOnly(scope, at);
      return { kind: 'url_path', match: normalizeStringMatch(raw.url_path!.path, fieldPath(at, 'path')) };
    case 'and_ids':
    case 'or_ids':
      return {
        kind: kind === 'and_ids' ? 'and' : 'or',
        ids: raw[kind]!.ids.map((p, i) => normalizePrincipal(p, indexPath(fieldPath(at, 'ids'), i), scope)),
      };
    case 'not_id':
      return { kind: 'not', id: normalizePrincipal(raw.not_id!, at, scope) };
  }
}

function requestOnly(scope: RulesScope, path: string): void {
  if (scope.network) throw new ConfigError(path, 'not supported in the network RBAC filter: a connection has no HTTP request to match (use envoy.filters.http.rbac)');
}

function normalizeCidr(raw: RawCidrRange, path: string): Cidr {
  try {
    // Envoy: an unset prefix_len is 0 (the whole address space).
    return parseCidr(raw.address_prefix, raw.prefix_len ?? 0);
  } catch (err) {
    throw new ConfigError(path, (err as Error).message);
  }
}

