/**
 * Envoy's HTTP RBAC filter, per stream: the request's connection (peer address,
 * mTLS identity, local port) and headers are checked against the compiled
 * policies; a denied request ends with 403 `RBAC: access denied`, its access log
 * details `rbac_access_denied_matched_policy[<policy>|none]`, as Envoy's.
 */
import {
  FilterStatus,
  type FilterCallbacks,
  type FilterFactoryContext,
  type FilterInstanceFactory,
  type FilterRequest,
  type HttpFilter,
  type HttpFilterFactory,
} from '../filter.js';
import { RBAC_FILTER_NAME, RBAC_TYPE_URL } from '../names.js';
import { RbacAuthorizer } from './authorizer.js';
import type { RbacConfig } from './config.js';

export const RBAC_DENIED_BODY = 'RBAC: access denied';
const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];

class RbacFilter implements HttpFilter {
  constructor(
    private readonly authorizer: RbacAuthorizer,
    private readonly callbacks: FilterCallbacks,
  ) {}

  decodeHeaders(request: FilterRequest): FilterStatus {
    const decision = this.authorizer.authorize({ downstream: this.callbacks.downstream, request });
    if (decision.allowed) return FilterStatus.Continue;
    this.callbacks.sendLocalReply(403, RBAC_DENIED_BODY, NO_HEADERS, `rbac_access_denied_matched_policy[${decision.policy ?? 'none'}]`);
    return FilterStatus.StopIteration;
  }

  onDestroy(): void {}
}

export const rbacFilterFactory = {
  name: RBAC_FILTER_NAME,
  typeUrls: [RBAC_TYPE_URL],
  createFilterFactory(config: RbacConfig, context: FilterFactoryContext): FilterInstanceFactory {
    // Envoy: `http.<stat_prefix>.rbac.`, under the connection manager's prefix.
    const authorizer = new RbacAuthorizer(config, context.stats);
    return {
      create: (callbacks) => new RbacFilter(authorizer, callbacks),
      close: () => {},
    };
  },
} satisfies HttpFilterFactory<RbacConfig>;
