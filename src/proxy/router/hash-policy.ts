/**
 * A route's `hash_policy` list compiled into one function producing the key a
 * hash-based load balancer (ring hash, Maglev) places on its ring. Envoy's
 * HashPolicyImpl::generateHash: policies run in order; each that yields a value
 * is folded in with rotate-left-1 then xor; a `terminal` policy stops the walk
 * once any hash exists. No policy yielding a value means "no hash" (the LB then
 * picks randomly).
 */
import type { HashPolicy } from '../config/types.js';
import { combineHashes, hashString } from './hash.js';
import { cookieValue, headerReader, queryParameterValue, type RequestValueReader } from './request-values.js';
import type { RouteRequest } from './route-table.js';

export type HashComputer = (req: RouteRequest) => number | undefined;

function policyReader(policy: HashPolicy): RequestValueReader {
  switch (policy.kind) {
    case 'header':
      // Multiple values are hashed together, joined with ','.
      return headerReader(policy.headerName);
    case 'cookie': {
      const { name } = policy;
      return (req) => cookieValue(req.headers, name);
    }
    case 'source_ip':
      return (req) => (req.remoteAddress === '' ? undefined : req.remoteAddress);
    case 'query_parameter': {
      const { name } = policy;
      return (req) => queryParameterValue(req.path, name);
    }
  }
}

const noHash: HashComputer = () => undefined;

export function compileHashPolicies(policies: readonly HashPolicy[]): HashComputer {
  if (policies.length === 0) return noHash;
  const readers = policies.map(policyReader);
  const terminal = policies.map((p) => p.terminal);
  return (req) => {
    let hash: number | undefined;
    for (let i = 0; i < readers.length; i++) {
      const value = readers[i]!(req);
      if (value !== undefined) {
        const next = hashString(value);
        hash = hash === undefined ? next : combineHashes(hash, next);
      }
      if (terminal[i] && hash !== undefined) break;
    }
    return hash;
  };
}
