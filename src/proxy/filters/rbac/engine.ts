/**
 * Envoy's RBAC engine: normalized rules compiled once per config version into
 * predicates over a connection (and, for the HTTP filter, its request).
 *
 *   ALLOW: allowed iff some policy matches (no policies: everything is denied).
 *   DENY:  allowed iff no policy matches (no policies: everything is allowed).
 *   A policy matches when any of its permissions and any of its principals match.
 *
 * Request-level matchers (header, url_path) never match without a request.
 * `remote_ip` is the connection's peer address, as `direct_remote_ip` (Weft does
 * not derive a client address from x-forwarded-for for authorization).
 */
import { cidrContains } from '../../../lib/cidr.js';
import { pathEnd } from '../../router/request-values.js';
import { compileHeaderMatcher } from '../../router/route-match.js';
import { compileStringMatch, type StringPredicate } from '../../router/string-match.js';
import type { StringMatch } from '../../config/types.js';
import type { DownstreamInfo, FilterRequest } from '../filter.js';
import type { PermissionRule, PrincipalRule, RbacAction, RbacRulesConfig } from './rules-config.js';

export interface RbacSubject {
  readonly downstream: DownstreamInfo;
  /** undefined for the network filter. */
  readonly request: FilterRequest | undefined;
}

type Predicate = (subject: RbacSubject) => boolean;

export interface RbacDecision {
  readonly allowed: boolean;
  /** The first matching policy (by name), or undefined. */
  readonly policy: string | undefined;
}

export interface RbacEngine {
  readonly action: RbacAction;
  decide(subject: RbacSubject): RbacDecision;
}

const ALWAYS: Predicate = () => true;

export function compileRbacEngine(rules: RbacRulesConfig, configPath: string): RbacEngine {
  const policies = rules.policies.map((policy) => {
    const at = `${configPath}.policies.${policy.name}`;
    return {
      name: policy.name,
      permission: anyOf(policy.permissions.map((p, i) => compilePermission(p, `${at}.permissions[${i}]`))),
      principal: anyOf(policy.principals.map((p, i) => compilePrincipal(p, `${at}.principals[${i}]`))),
    };
  });
  const allow = rules.action === 'ALLOW';
  const decisions = { matched: new Map(policies.map((p) => [p.name, { allowed: allow, policy: p.name }])), none: { allowed: !allow, policy: undefined } };
  return {
    action: rules.action,
    decide(subject) {
      for (let i = 0; i < policies.length; i++) {
        const policy = policies[i]!;
        if (policy.permission(subject) && policy.principal(subject)) return decisions.matched.get(policy.name)!;
      }
      return decisions.none;
    },
  };
}

function anyOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  return (subject) => {
    for (let i = 0; i < predicates.length; i++) if (predicates[i]!(subject)) return true;
    return false;
  };
}

function allOf(predicates: Predicate[]): Predicate {
  if (predicates.length === 1) return predicates[0]!;
  return (subject) => {
    for (let i = 0; i < predicates.length; i++) if (!predicates[i]!(subject)) return false;
    return true;
  };
}

function compilePermission(rule: PermissionRule, path: string): Predicate {
  switch (rule.kind) {
    case 'any':
      return ALWAYS;
    case 'and':
    case 'or': {
      const children = rule.rules.map((r, i) => compilePermission(r, `${path}.${rule.kind}_rules.rules[${i}]`));
      return rule.kind === 'and' ? allOf(children) : anyOf(children);
    }
    case 'not': {
      const inner = compilePermission(rule.rule, `${path}.not_rule`);
      return (subject) => !inner(subject);
    }
    case 'header':
      return headerPredicate(rule.matcher, path);
    case 'url_path':
      return urlPathPredicate(rule.match, path);
    case 'destination_ip': {
      const { cidr } = rule;
      return (subject) => cidrContains(cidr, subject.downstream.localIp);
    }
    case 'destination_port': {
      const { port } = rule;
      return (subject) => subject.downstream.localPort === port;
    }
    case 'destination_port_range': {
      const { start, end } = rule;
      return (subject) => subject.downstream.localPort >= start && subject.downstream.localPort < end;
    }
  }
}

function compilePrincipal(rule: PrincipalRule, path: string): Predicate {
  switch (rule.kind) {
    case 'any':
      return ALWAYS;
    case 'and':
    case 'or': {
      const children = rule.ids.map((p, i) => compilePrincipal(p, `${path}.${rule.kind}_ids.ids[${i}]`));
      return rule.kind === 'and' ? allOf(children) : anyOf(children);
    }
    case 'not': {
      const inner = compilePrincipal(rule.id, `${path}.not_id`);
      return (subject) => !inner(subject);
    }
    case 'authenticated': {
      if (rule.match === undefined) return (subject) => subject.downstream.peerPrincipal !== undefined;
      const test: StringPredicate = compileStringMatch(rule.match, `${path}.authenticated.principal_name`);
      return (subject) => {
        const principal = subject.downstream.peerPrincipal;
        return principal !== undefined && test(principal);
      };
    }
    case 'direct_remote_ip':
    case 'remote_ip': {
      const { cidr } = rule;
      return (subject) => cidrContains(cidr, subject.downstream.remoteIp);
    }
    case 'header':
      return headerPredicate(rule.matcher, path);
    case 'url_path':
      return urlPathPredicate(rule.match, path);
  }
}

function headerPredicate(matcher: Parameters<typeof compileHeaderMatcher>[0], path: string): Predicate {
  const test = compileHeaderMatcher(matcher, `${path}.header`);
  return (subject) => subject.request !== undefined && test(subject.request);
}

/** Envoy's PathMatcher: the path without its query string. */
function urlPathPredicate(match: StringMatch, path: string): Predicate {
  const test = compileStringMatch(match, `${path}.url_path.path`);
  return (subject) => {
    const request = subject.request;
    if (request === undefined) return false;
    const end = pathEnd(request.path);
    return test(end === request.path.length ? request.path : request.path.slice(0, end));
  };
}
