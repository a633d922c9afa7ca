/** Listener building blocks: the socket listener, its one filter chain, and the two terminal network filters. */
import { HTTP_CONNECTION_MANAGER_TYPE_URL, TCP_PROXY_TYPE_URL } from '../../proxy/config/type-urls.js';
import { adsConfigSource, envoyDuration, routerFilter, socketAddress, type JsonObject } from './envoy-values.js';
import type { WeightedCluster } from './routes.js';

const HTTP_CONNECTION_MANAGER_FILTER_NAME = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY_FILTER_NAME = 'envoy.filters.network.tcp_proxy';
const ANY_ADDRESS = '0.0.0.0';

export type TrafficDirection = 'INBOUND' | 'OUTBOUND';

/** A listener on 0.0.0.0:`port` with one filter chain: network RBAC filters (if any), then the terminal filter. */
export function socketListener(name: string, port: number, direction: TrafficDirection | undefined, ...networkFilters: JsonObject[]): JsonObject {
  return {
    name,
    address: socketAddress(ANY_ADDRESS, port),
    traffic_direction: direction,
    filter_chains: [{ filters: networkFilters }],
  };
}

/** Where an HTTP connection manager gets its routes: `{rds}` or `{route_config}`. */
export function rdsRoutes(routeConfigName: string): JsonObject {
  return { rds: { route_config_name: routeConfigName, config_source: adsConfigSource() } };
}

export function inlineRoutes(routeConfig: JsonObject): JsonObject {
  return { route_config: routeConfig };
}

/** The HttpConnectionManager message (typed_config); `httpFilters` run before the router, which is always last. */
export function httpConnectionManager(statPrefix: string, routes: JsonObject, httpFilters: readonly JsonObject[], accessLog?: JsonObject[]): JsonObject {
  return {
    '@type': HTTP_CONNECTION_MANAGER_TYPE_URL,
    stat_prefix: statPrefix,
    ...routes,
    http_filters: [...httpFilters, routerFilter()],
    access_log: accessLog,
  };
}

export function httpConnectionManagerFilter(manager: JsonObject): JsonObject {
  return { name: HTTP_CONNECTION_MANAGER_FILTER_NAME, typed_config: manager };
}

/** A TCP proxy to one cluster, or split by weight when `backends` is set. */
export function tcpProxyFilter(
  statPrefix: string, cluster: string, backends: WeightedCluster[] | undefined, idleTimeout: string | undefined, accessLog: JsonObject[] | undefined,
): JsonObject {
  return {
    name: TCP_PROXY_FILTER_NAME,
    typed_config: {
      '@type': TCP_PROXY_TYPE_URL,
      stat_prefix: statPrefix,
      cluster: backends === undefined ? cluster : undefined,
      weighted_clusters: backends === undefined ? undefined : { clusters: backends.map(({ name, weight }) => ({ name, weight })) },
      idle_timeout: envoyDuration(idleTimeout),
      access_log: accessLog,
    },
  };
}
