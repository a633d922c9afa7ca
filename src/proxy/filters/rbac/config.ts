/**
 * `envoy.extensions.filters.http.rbac.v3.RBAC`: schema, validation and the
 * normalized config the per-stream filter reads. Parsed once per config version.
 *
 * Supported: rules, shadow_rules, rules_stat_prefix, shadow_rules_stat_prefix
 * (see rules-config.ts for the permissions and principals). Rejected with a
 * reason: the matcher API (`matcher`, `shadow_matcher`) and per-rule stats.
 */
import type { Static } from '@sinclair/typebox';
import { fieldPath } from '../../config/path.js';
import { Obj, Opt, Str, Unsupported } from '../../config/schema-common.js';
import { compileValidator, type Validator } from '../../config/validator.js';
import type { HttpFilterConfigParser } from '../filter.js';
import { RBAC_FILTER_NAME, RBAC_TYPE_URL } from '../names.js';
import { normalizeRbacRules, RbacRules, type RbacRulesConfig } from './rules-config.js';

const MATCHER_API = 'not supported yet: use rules / shadow_rules (the policy form)';

const HttpRbac = Obj({
  rules: Opt(RbacRules),
  rules_stat_prefix: Opt(Str()),
  shadow_rules: Opt(RbacRules),
  shadow_rules_stat_prefix: Opt(Str()),
  matcher: Opt(Unsupported(MATCHER_API)),
  shadow_matcher: Opt(Unsupported(MATCHER_API)),
  track_per_rule_stats: Opt(Unsupported()),
});

const validateHttpRbac: Validator<Static<typeof HttpRbac>> = compileValidator(HttpRbac);

export interface RbacConfig {
  /** undefined: nothing is enforced (Envoy: no `rules`, no enforcement). */
  readonly rules: RbacRulesConfig | undefined;
  readonly shadowRules: RbacRulesConfig | undefined;
  /** Inserted after `rbac.` in the enforced stats' names. */
  readonly rulesStatPrefix: string;
  readonly shadowRulesStatPrefix: string;
  /** The config path, for compile errors (regexes) at the factory. */
  readonly path: string;
}

export function parseRbacConfig(raw: unknown, path: string): RbacConfig {
  validateHttpRbac(raw, path);
  return {
    rules: raw.rules === undefined ? undefined : normalizeRbacRules(raw.rules, fieldPath(path, 'rules'), { network: false }),
    shadowRules: raw.shadow_rules === undefined ? undefined : normalizeRbacRules(raw.shadow_rules, fieldPath(path, 'shadow_rules'), { network: false }),
    rulesStatPrefix: raw.rules_stat_prefix ?? '',
    shadowRulesStatPrefix: raw.shadow_rules_stat_prefix ?? '',
    path,
  };
}

export const rbacConfigParser = {
  name: RBAC_FILTER_NAME,
  typeUrls: [RBAC_TYPE_URL],
  parseConfig: parseRbacConfig,
} satisfies HttpFilterConfigParser<RbacConfig>;
