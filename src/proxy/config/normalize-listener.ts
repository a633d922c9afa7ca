/**
 * Listener -> ListenerConfig: filter chains (told apart only by transport_protocol),
 * each with an optional TLS transport socket and one terminal network filter
 * (HTTP connection manager or TCP proxy).
 */
import { ConfigError } from '../../lib/errors.js';
import { findHttpFilterParser, listHttpFilterParsers } from '../filters/config-registry.js';
import { NETWORK_RBAC_FILTER_NAME, NETWORK_RBAC_TYPE_URL, ROUTER_FILTER_NAME } from '../filters/names.js';
import { parseNetworkRbacConfig } from '../filters/rbac/network-config.js';
import { durationMs } from './duration.js';
import { normalizeAccessLogs } from './normalize-access-log.js';
import { bindAddress, oneOf, ONE_MIB, ONE_HOUR_MS } from './normalize-common.js';
import { emptyRouteConfiguration, normalizeRouteConfiguration, type ClusterReferenceCheck } from './normalize-route.js';
import { fieldPath, indexPath } from './path.js';
import { normalizeDownstreamTransportSocket, type TlsContext } from './normalize-tls.js';
import { RouterTypedConfig, type RawFilterChain, type RawHttpConnectionManager, type RawHttpFilter, type RawListener, type RawRouterTypedConfig, type RawTcpProxy } from './schema-listener.js';
import { ROUTER_TYPE_URL, TCP_PROXY_TYPE_URL } from './type-urls.js';
import type { FilterChainConfig, HttpConnectionManagerConfig, HttpFilterConfig, ListenerConfig, TcpProxyConfig } from './types.js';
import { compileValidator, type Validator } from './validator.js';

/** The router's normalized config (HttpFilterConfig.config of the last filter). */
export interface RouterConfig {
  /** `suppress_envoy_headers`, default false. */
  suppressEnvoyHeaders: boolean;
}

const HCM_DEFAULTS = {
  streamIdleTimeoutMs: 300_000,
  drainTimeoutMs: 5_000,
  maxRequestHeadersKb: 60,
  maxHeadersCount: 100,
  serverName: 'weft',
} as const;

const validateRouterConfig: Validator<RawRouterTypedConfig> = compileValidator(RouterTypedConfig);

/** What a listener's normalization needs to know about the bootstrap around it. */
export interface ListenerContext extends TlsContext {
  checkCluster: ClusterReferenceCheck;
  /** The bootstrap has dynamic_resources: `rds` and SDS over ADS are allowed. */
  ads: boolean;
}

export function normalizeListener(raw: RawListener, path: string, context: ListenerContext): ListenerConfig {
  const chainsPath = fieldPath(path, 'filter_chains');
  const filterChains = raw.filter_chains.map((chain, i) => normalizeFilterChain(chain, indexPath(chainsPath, i), context));
  checkChainsDistinct(filterChains, chainsPath);
  const filtersPath = fieldPath(path, 'listener_filters');
  (raw.listener_filters ?? []).forEach((filter, i) => {
    if (filter.name !== TLS_INSPECTOR_NAME && filter.typed_config === undefined) {
      throw new ConfigError(fieldPath(indexPath(filtersPath, i), 'name'), `unknown listener filter ${JSON.stringify(filter.name)}; supported: ${TLS_INSPECTOR_NAME}`);
    }
  });
  const address = bindAddress(raw.address.socket_address, fieldPath(fieldPath(path, 'address'), 'socket_address'));
  return {
    name: raw.name ?? `${address.address}_${address.port}`,
    address,
    perConnectionBufferLimitBytes: raw.per_connection_buffer_limit_bytes ?? ONE_MIB,
    ...(raw.traffic_direction === 'INBOUND' || raw.traffic_direction === 'OUTBOUND' ? { trafficDirection: raw.traffic_direction } : {}),
    filterChains,
    // Envoy injects the inspector by itself when a chain matches on transport_protocol.
    tlsInspector: (raw.listener_filters ?? []).length > 0 || filterChains.some((c) => c.transportProtocol !== undefined),
  };
}

export const TLS_INSPECTOR_NAME = 'envoy.filters.listener.tls_inspector';

function normalizeFilterChain(raw: RawFilterChain, path: string, context: ListenerContext): FilterChainConfig {
  const filtersPath = fieldPath(path, 'filters');
  const filters = raw.filters;
  const last = filters.length - 1;
  const typedConfig = filters[last]!.typed_config;
  const typedConfigPath = fieldPath(indexPath(filtersPath, last), 'typed_config');
  if (typedConfig['@type'] === NETWORK_RBAC_TYPE_URL) {
    throw new ConfigError(fieldPath(typedConfigPath, '@type'), `${NETWORK_RBAC_FILTER_NAME} is not a terminal filter: the chain must end with http_connection_manager or tcp_proxy`);
  }
  const rbacFilters = filters.slice(0, last).map((filter, i) => {
    const at = fieldPath(indexPath(filtersPath, i), 'typed_config');
    if (filter.typed_config['@type'] !== NETWORK_RBAC_TYPE_URL) {
      throw new ConfigError(fieldPath(at, '@type'), `only ${NETWORK_RBAC_FILTER_NAME} may come before the terminal filter (http_connection_manager or tcp_proxy), which must be last`);
    }
    return parseNetworkRbacConfig(filter.typed_config, at);
  });
  const chain: FilterChainConfig = {
    name: raw.name ?? '',
    filter: typedConfig['@type'] === TCP_PROXY_TYPE_URL
      ? normalizeTcpProxy(typedConfig, typedConfigPath, context.checkCluster)
      : normalizeHttpConnectionManager(typedConfig, typedConfigPath, context),
    rbacFilters,
  };
  const transportProtocol = raw.filter_chain_match?.transport_protocol;
  if (transportProtocol !== undefined) chain.transportProtocol = transportProtocol;
  if (raw.transport_socket !== undefined) {
    const tls = normalizeDownstreamTransportSocket(raw.transport_socket, fieldPath(path, 'transport_socket'), context);
    if (tls !== undefined) chain.tls = tls;
  }
  if (transportProtocol === 'raw_buffer' && chain.tls !== undefined) {
    throw new ConfigError(fieldPath(path, 'transport_socket'), 'a chain for transport_protocol "raw_buffer" (plaintext) cannot terminate TLS');
  }
  return chain;
}

/** Two chains with the same match would make the second unreachable (Envoy rejects it too). */
function checkChainsDistinct(chains: FilterChainConfig[], path: string): void {
  const seen = new Map<string, number>();
  chains.forEach((chain, i) => {
    const key = chain.transportProtocol ?? '';
    const first = seen.get(key);
    if (first !== undefined) {
      throw new ConfigError(fieldPath(indexPath(path, i), 'filter_chain_match'), `the same filter_chain_match as ${indexPath(path, first)}: chains are told apart only by transport_protocol ("tls" / "raw_buffer")`);
    }
    seen.set(key, i);
  });
}

function normalizeHttpConnectionManager(raw: RawHttpConnectionManager, path: string, context: ListenerContext): HttpConnectionManagerConfig {
  const routeSource = oneOf(raw, ['route_config', 'rds'] as const, path)!;
  if (routeSource === 'rds' && !context.ads) throw new ConfigError(fieldPath(path, 'rds'), 'needs dynamic_resources.ads_config: the route config comes from the ADS server');
  const common = raw.common_http_protocol_options;
  const hcm: HttpConnectionManagerConfig = {
    kind: 'http',
    statPrefix: raw.stat_prefix,
    routeConfig: routeSource === 'rds'
      ? emptyRouteConfiguration(raw.rds!.route_config_name)
      : normalizeRouteConfiguration(raw.route_config!, fieldPath(path, 'route_config'), context.checkCluster),
    httpFilters: normalizeHttpFilters(raw.http_filters ?? [], fieldPath(path, 'http_filters')),
    accessLog: normalizeAccessLogs(raw.access_log, fieldPath(path, 'access_log')),
    idleTimeoutMs: durationMs(common?.idle_timeout, ONE_HOUR_MS),
    streamIdleTimeoutMs: durationMs(raw.stream_idle_timeout, HCM_DEFAULTS.streamIdleTimeoutMs),
    requestTimeoutMs: durationMs(raw.request_timeout, 0),
    requestHeadersTimeoutMs: durationMs(raw.request_headers_timeout, 0),
    drainTimeoutMs: durationMs(raw.drain_timeout, HCM_DEFAULTS.drainTimeoutMs),
    maxRequestHeadersKb: raw.max_request_headers_kb ?? HCM_DEFAULTS.maxRequestHeadersKb,
    maxHeadersCount: common?.max_headers_count ?? HCM_DEFAULTS.maxHeadersCount,
    useRemoteAddress: raw.use_remote_address ?? false,
    xffNumTrustedHops: raw.xff_num_trusted_hops ?? 0,
    skipXffAppend: raw.skip_xff_append ?? false,
    generateRequestId: raw.generate_request_id ?? true,
    serverName: raw.server_name ?? HCM_DEFAULTS.serverName,
    serverHeaderTransformation: raw.server_header_transformation ?? 'OVERWRITE',
    upgradeTypes: [...new Set((raw.upgrade_configs ?? []).map((u) => u.upgrade_type.toLowerCase()))],
  };
  if (routeSource === 'rds') hcm.rds = { routeConfigName: raw.rds!.route_config_name };
  return hcm;
}

/** Each filter's typed_config is parsed by its registered factory; the router must be present, once, and last. */
function normalizeHttpFilters(raw: RawHttpFilter[], path: string): HttpFilterConfig[] {
  const filters = raw.map((filter, i) => normalizeHttpFilter(filter, indexPath(path, i)));
  const routerIndexes = filters.flatMap((f, i) => (f.typeUrl === ROUTER_TYPE_URL ? [i] : []));
  if (routerIndexes.length === 0) throw new ConfigError(path, `the router filter (@type ${ROUTER_TYPE_URL}) is required as the last filter`);
  if (routerIndexes.length > 1) throw new ConfigError(indexPath(path, routerIndexes[1]!), 'the router filter may appear only once');
  if (routerIndexes[0] !== filters.length - 1) throw new ConfigError(indexPath(path, routerIndexes[0]!), 'the router filter must be the last HTTP filter');
  return filters;
}

function normalizeHttpFilter(raw: RawHttpFilter, path: string): HttpFilterConfig {
  const typedConfigPath = fieldPath(path, 'typed_config');
  const given = raw.typed_config;
  if (given !== undefined && given['@type'] === undefined && Object.keys(given).length > 0) {
    throw new ConfigError(fieldPath(typedConfigPath, '@type'), 'required field is missing');
  }
  const typeUrl = given?.['@type'] ?? typeUrlByName(raw.name, typedConfigPath);
  const typedConfig = { ...given, '@type': typeUrl };
  if (typeUrl === ROUTER_TYPE_URL) {
    validateRouterConfig(typedConfig, typedConfigPath);
    const config: RouterConfig = { suppressEnvoyHeaders: typedConfig.suppress_envoy_headers ?? false };
    return { name: raw.name, typeUrl, config };
  }
  const parser = findHttpFilterParser(typeUrl);
  if (parser === undefined) {
    const supported = [ROUTER_TYPE_URL, ...listHttpFilterParsers().flatMap((f) => f.typeUrls)].join(', ');
    throw new ConfigError(fieldPath(typedConfigPath, '@type'), `unknown HTTP filter @type ${JSON.stringify(typeUrl)}; supported: ${supported}`);
  }
  const { '@type': _typeUrl, ...filterConfig } = typedConfig;
  return { name: raw.name, typeUrl, config: parser.parseConfig(filterConfig, typedConfigPath) };
}

/** Without typed_config Envoy finds the filter by its well-known name and gives it the empty config. */
function typeUrlByName(name: string, typedConfigPath: string): string {
  if (name === ROUTER_FILTER_NAME) return ROUTER_TYPE_URL;
  const parser = listHttpFilterParsers().find((p) => p.name === name);
  if (parser !== undefined) return parser.typeUrls[0]!;
  const known = [ROUTER_FILTER_NAME, ...listHttpFilterParsers().map((p) => p.name)].join(', ');
  throw new ConfigError(typedConfigPath, `required field is missing: only a filter named ${known} may omit it`);
}

function normalizeTcpProxy(raw: RawTcpProxy, path: string, checkCluster: ClusterReferenceCheck): TcpProxyConfig {
  const target = oneOf(raw, ['cluster', 'weighted_clusters'] as const, path)!;
  const proxy: TcpProxyConfig = {
    kind: 'tcp',
    statPrefix: raw.stat_prefix,
    idleTimeoutMs: durationMs(raw.idle_timeout, ONE_HOUR_MS),
    accessLog: normalizeAccessLogs(raw.access_log, fieldPath(path, 'access_log')),
    maxConnectAttempts: raw.max_connect_attempts ?? 1,
  };
  if (target === 'cluster') {
    checkCluster(raw.cluster!, fieldPath(path, 'cluster'));
    proxy.cluster = raw.cluster!;
  } else {
    const clustersPath = fieldPath(fieldPath(path, 'weighted_clusters'), 'clusters');
    proxy.weightedClusters = raw.weighted_clusters!.clusters.map((c, i) => {
      checkCluster(c.name, fieldPath(indexPath(clustersPath, i), 'name'));
      return { name: c.name, weight: c.weight, requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] };
    });
  }
  return proxy;
}
