/**
 * The network RBAC filters of one listener at runtime: checked in order when a
 * connection is accepted; the first denial closes the connection before any
 * byte reaches the terminal filter (Envoy closes it on the first byte).
 */
import type { Socket } from 'node:net';
import { SocketDownstreamInfo } from '../../listener/downstream-info.js';
import type { StatsScope } from '../../observe/stats.js';
import { RbacAuthorizer } from './authorizer.js';
import type { NetworkRbacConfig } from './network-config.js';

export interface NetworkRbacChain {
  /** Whether the connection may proceed; counts the decision. */
  allows(socket: Socket): boolean;
}

const ALLOW_ALL: NetworkRbacChain = { allows: () => true };

export function createNetworkRbacChain(configs: readonly NetworkRbacConfig[], stats: StatsScope): NetworkRbacChain {
  if (configs.length === 0) return ALLOW_ALL;
  const authorizers = configs.map((config) => new RbacAuthorizer(config, stats.scope(config.statPrefix)));
  return {
    allows(socket) {
      const downstream = new SocketDownstreamInfo(socket);
      for (const authorizer of authorizers) if (!authorizer.authorize({ downstream, request: undefined }).allowed) return false;
      return true;
    },
  };
}
