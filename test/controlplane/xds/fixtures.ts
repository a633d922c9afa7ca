/**
 * Builders for the xDS resources a mesh service needs, in the shape
 * translate/ produces: an API listener whose HTTP connection manager takes
 * its routes over RDS (or inline), a route configuration splitting traffic by
 * weight, EDS clusters fed over ADS, and their ClusterLoadAssignments.
 */
import type { EnvoyJson } from '../../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  HTTP_CONNECTION_MANAGER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  ROUTER_TYPE_URL,
} from '../../../src/xds/type-urls.js';
import { newSnapshot, type Snapshot } from '../../../src/controlplane/xds/snapshot.js';

const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' };

export interface WeightedBackend {
  cluster: string;
  weight: number;
  endpoints: { address: string; port: number }[];
}

export function routeConfiguration(name: string, domains: string[], backends: readonly Pick<WeightedBackend, 'cluster' | 'weight'>[]): EnvoyJson {
  const action = backends.length === 1
    ? { cluster: backends[0]!.cluster }
    : { weighted_clusters: { clusters: backends.map(({ cluster, weight }) => ({ name: cluster, weight })) } };
  return {
    name,
    virtual_hosts: [{ name, domains, routes: [{ match: { prefix: '' }, route: action }] }],
  };
}

/** An API listener (what proxyless gRPC clients resolve) whose connection manager uses RDS, or `inlineRoutes`. */
export function apiListener(name: string, routes: { rdsName: string } | { inline: EnvoyJson }): EnvoyJson {
  const routeSpecifier = 'rdsName' in routes
    ? { rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routes.rdsName } }
    : { route_config: routes.inline };
  return {
    name,
    api_listener: {
      api_listener: {
        '@type': HTTP_CONNECTION_MANAGER_TYPE_URL,
        stat_prefix: name,
        ...routeSpecifier,
        // The router must be the last HTTP filter.
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
      },
    },
  };
}

export function edsCluster(name: string): EnvoyJson {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: ADS_CONFIG_SOURCE, service_name: name },
    lb_policy: 'ROUND_ROBIN',
    connect_timeout: '1s',
  };
}

export function loadAssignment(clusterName: string, endpoints: readonly { address: string; port: number }[]): EnvoyJson {
  return {
    cluster_name: clusterName,
    endpoints: [{
      locality: { region: 'local' },
      // Proxyless gRPC skips localities without a weight.
      load_balancing_weight: 1,
      lb_endpoints: endpoints.map(({ address, port }) => ({
        endpoint: { address: { socket_address: { address, port_value: port } } },
        health_status: 'HEALTHY',
      })),
    }],
  };
}

/** Everything a client dialing `xds:///<service>` needs: listener, routes, clusters, endpoints. */
export function serviceSnapshot(version: string, service: string, backends: readonly WeightedBackend[], options: { inlineRoutes?: boolean } = {}): Snapshot {
  const routes = routeConfiguration(`${service}-routes`, ['*'], backends);
  return newSnapshot(version, {
    [LISTENER_TYPE_URL]: [apiListener(service, options.inlineRoutes === true ? { inline: routes } : { rdsName: `${service}-routes` })],
    [ROUTE_CONFIGURATION_TYPE_URL]: options.inlineRoutes === true ? [] : [routes],
    [CLUSTER_TYPE_URL]: backends.map(({ cluster }) => edsCluster(cluster)),
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: backends.map(({ cluster, endpoints }) => loadAssignment(cluster, endpoints)),
  });
}
