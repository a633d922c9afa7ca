/**
 * What the control plane reads from a connected proxy's node: its workload and
 * namespace (node metadata WORKLOAD / NAMESPACE, set by `weft proxy
 * --workload`), and where its admin listener is (ADMIN_ADDRESS, which every
 * Weft proxy's xDS agent adds). A wildcard admin host means "the address the
 * proxy connected from".
 */
import { formatHostPort } from '../../lib/address.js';
import type { ProxyStatus } from '../xds/proxy-status.js';
import type { TargetIdentity } from './series-store.js';

const DEFAULT_NAMESPACE = 'default';
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

function metadataString(proxy: ProxyStatus, key: string): string | undefined {
  const metadata = proxy.nodeMetadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const value = (metadata as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function proxyIdentity(proxy: ProxyStatus): TargetIdentity {
  return {
    nodeId: proxy.nodeId,
    namespace: metadataString(proxy, 'NAMESPACE') ?? DEFAULT_NAMESPACE,
    workload: metadataString(proxy, 'WORKLOAD') ?? (proxy.nodeCluster || proxy.nodeId),
  };
}

/** `host:port` -> parts; IPv6 in brackets. */
function splitHostPort(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(value);
  if (match === null) return undefined;
  const port = Number(match[3]);
  return port > 0 && port < 65536 ? { host: match[1] ?? match[2] ?? '', port } : undefined;
}

/** The host of a gRPC peer string (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`, `127.0.0.1:5000`). */
function peerHost(peer: string): string | undefined {
  return splitHostPort(peer.replace(/^ipv[46]:/, ''))?.host;
}

/** `http://host:port` of the proxy's admin listener, or undefined when it did not say. */
export function adminBaseUrl(proxy: ProxyStatus): string | undefined {
  const declared = metadataString(proxy, 'ADMIN_ADDRESS');
  const address = declared === undefined ? undefined : splitHostPort(declared);
  if (address === undefined) return undefined;
  const host = WILDCARD_HOSTS.has(address.host) ? peerHost(proxy.peer) : address.host;
  return host === undefined ? undefined : `http://${formatHostPort(host, address.port)}`;
}
