/**
 * `envoy.extensions.filters.network.rbac.v3.RBAC`: the network RBAC filter's
 * schema and normalized config. It sits before the listener's terminal filter
 * (http_connection_manager or tcp_proxy) and decides once per connection
 * (Envoy's default ONE_TIME_ON_FIRST_BYTE; Weft decides when the connection is
 * accepted, which sees the same addresses and identity). Stats: `<stat_prefix>.rbac.*`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath } from '../../config/path.js';
import { Enum, NonEmptyStr, Obj, Opt, Str, Unsupported } from '../../config/schema-common.js';
import { compileValidator, type Validator } from '../../config/validator.js';
import { NETWORK_RBAC_TYPE_URL } from '../names.js';
import { joinStatPrefix, type RbacAuthorizerConfig } from './authorizer.js';
import { normalizeRbacRules, RbacRules } from './rules-config.js';

export const NetworkRbac = Obj({
  '@type': Type.Literal(NETWORK_RBAC_TYPE_URL),
  stat_prefix: NonEmptyStr(),
  rules: Opt(RbacRules),
  shadow_rules: Opt(RbacRules),
  shadow_rules_stat_prefix: Opt(Str()),
  enforcement_type: Opt(Enum(['ONE_TIME_ON_FIRST_BYTE'])),
  matcher: Opt(Unsupported('not supported yet: use rules / shadow_rules (the policy form)')),
  shadow_matcher: Opt(Unsupported('not supported yet: use rules / shadow_rules (the policy form)')),
  delay_deny: Opt(Unsupported()),
});

export type RawNetworkRbac = Static<typeof NetworkRbac>;

const validateNetworkRbac: Validator<RawNetworkRbac> = compileValidator(NetworkRbac);

export interface NetworkRbacConfig extends RbacAuthorizerConfig {
  /** `<stat_prefix>.` (Envoy joins it with a dot). */
  readonly statPrefix: string;
}

/** `raw` is the filter's whole typed_config (with `@type`). */
export function parseNetworkRbacConfig(raw: unknown, path: string): NetworkRbacConfig {
  validateNetworkRbac(raw, path);
  return {
    statPrefix: joinStatPrefix(raw.stat_prefix),
    rules: raw.rules === undefined ? undefined : normalizeRbacRules(raw.rules, fieldPath(path, 'rules'), { network: true }),
    shadowRules: raw.shadow_rules === undefined ? undefined : normalizeRbacRules(raw.shadow_rules, fieldPath(path, 'shadow_rules'), { network: true }),
    rulesStatPrefix: '',
    shadowRulesStatPrefix: raw.shadow_rules_stat_prefix ?? '',
    path,
  };
}
