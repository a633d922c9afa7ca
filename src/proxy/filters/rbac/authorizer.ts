/**
 * The enforced and shadow RBAC engines of one filter instance and their stats,
 * shared by the HTTP and the network filter. Envoy's ALL_RBAC_FILTER_STATS:
 * `allowed` / `denied` (under `rbac.<rules_stat_prefix>`) count enforced
 * decisions, `shadow_allowed` / `shadow_denied` (under
 * `rbac.<shadow_rules_stat_prefix>`) count what the shadow rules would decide.
 */
import type { Counter, StatsScope } from '../../observe/stats.js';
import { compileRbacEngine, type RbacDecision, type RbacEngine, type RbacSubject } from './engine.js';
import type { RbacRulesConfig } from './rules-config.js';

export interface RbacAuthorizerConfig {
  readonly rules: RbacRulesConfig | undefined;
  readonly shadowRules: RbacRulesConfig | undefined;
  readonly rulesStatPrefix: string;
  readonly shadowRulesStatPrefix: string;
  readonly path: string;
}

const ALLOWED_WITHOUT_RULES: RbacDecision = { allowed: true, policy: undefined };

export class RbacAuthorizer {
  private readonly engine: RbacEngine | undefined;
  private readonly shadow: RbacEngine | undefined;
  private readonly allowed: Counter;
  private readonly denied: Counter;
  private readonly shadowAllowed: Counter;
  private readonly shadowDenied: Counter;

  /** `rbacScope` is where `rbac.` lives: `http.<hcm stat_prefix>.` or the network filter's `<stat_prefix>.`. */
  constructor(config: RbacAuthorizerConfig, rbacScope: StatsScope) {
    this.engine = config.rules === undefined ? undefined : compileRbacEngine(config.rules, `${config.path}.rules`);
    this.shadow = config.shadowRules === undefined ? undefined : compileRbacEngine(config.shadowRules, `${config.path}.shadow_rules`);
    const rules = rbacScope.scope(`rbac.${config.rulesStatPrefix}`);
    const shadow = rbacScope.scope(`rbac.${config.shadowRulesStatPrefix}`);
    this.allowed = rules.counter('allowed');
    this.denied = rules.counter('denied');
    this.shadowAllowed = shadow.counter('shadow_allowed');
    this.shadowDenied = shadow.counter('shadow_denied');
  }

  /** Counts the shadow decision (if any), then decides and counts the enforced one. */
  authorize(subject: RbacSubject): RbacDecision {
    if (this.shadow !== undefined) {
      if (this.shadow.decide(subject).allowed) this.shadowAllowed.inc();
      else this.shadowDenied.inc();
    }
    if (this.engine === undefined) return ALLOWED_WITHOUT_RULES;
    const decision = this.engine.decide(subject);
    if (decision.allowed) this.allowed.inc();
    else this.denied.inc();
    return decision;
  }
}

/** Envoy's statPrefixJoin: `prefix` and a dot, unless it already ends in one. */
export function joinStatPrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
}
