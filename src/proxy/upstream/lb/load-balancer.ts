/**
 * The one interface every load-balancing policy implements. The cluster hands
 * a balancer the hosts to spread load over (the healthy ones, or all of them
 * in panic) whenever membership or health changes; `choose` runs per request
 * and must not allocate.
 */
import type { Host, LbContext } from '../types.js';

export interface LoadBalancer {
  /** Replaces the set of candidate hosts; precomputes whatever `choose` needs. */
  update(hosts: readonly Host[]): void;
  /** Undefined only when the candidate set is empty. */
  choose(ctx: LbContext): Host | undefined;
}

/** True when every host has the same weight: policies take their unweighted fast path. */
export function equalWeights(hosts: readonly Host[]): boolean {
  for (let i = 1; i < hosts.length; i++) if (hosts[i]!.weight !== hosts[0]!.weight) return false;
  return true;
}
