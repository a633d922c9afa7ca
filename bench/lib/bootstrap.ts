/** Envoy v3 bootstrap documents for the weft targets (the same YAML Envoy would accept). */
import { stringify } from 'yaml';
import { LOOPBACK } from './ports.js';

const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export interface BootstrapRoute {
  prefix: string;
  cluster: string;
}

export interface HttpProxyBootstrapOptions {
  listenerPort: number;
  adminPort: number;
  routes: readonly BootstrapRoute[];
  /** Cluster name -> the single STATIC endpoint's loopback port. */
  clusters: ReadonlyMap<string, number>;
}

const socketAddress = (port: number) => ({ socket_address: { address: LOOPBACK, port_value: port } });

/** One HTTP listener (connection manager + router) and STATIC clusters, as YAML. */
export function httpProxyBootstrap(options: HttpProxyBootstrapOptions): string {
  const document = {
    node: { id: 'bench', cluster: 'bench' },
    admin: { address: socketAddress(options.adminPort) },
    static_resources: {
      listeners: [
        {
          name: 'bench',
          address: socketAddress(options.listenerPort),
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': HCM_TYPE,
                    stat_prefix: 'bench',
                    route_config: {
                      name: 'bench',
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: options.routes.map((route) => ({ match: { prefix: route.prefix }, route: { cluster: route.cluster } })),
                        },
                      ],
                    },
                    http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE } }],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [...options.clusters].map(([name, port]) => ({
        name,
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: name,
          endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(port) } }] }],
        },
      })),
    },
  };
  return stringify(document);
}

/** Every path to one cluster: the plain proxy-overhead setup. */
export function singleRouteBootstrap(listenerPort: number, adminPort: number, upstreamPort: number): string {
  return httpProxyBootstrap({
    listenerPort,
    adminPort,
    routes: [{ prefix: '/', cluster: 'upstream' }],
    clusters: new Map([['upstream', upstreamPort]]),
  });
}

/** `routeCount` prefix routes `/svc-<i>/` spread over `clusterCount` clusters, all backed by one upstream. */
export function manyRoutesBootstrap(listenerPort: number, adminPort: number, upstreamPort: number, routeCount: number, clusterCount: number): string {
  const clusterName = (i: number) => `svc-${i % clusterCount}`;
  return httpProxyBootstrap({
    listenerPort,
    adminPort,
    routes: Array.from({ length: routeCount }, (_, i) => ({ prefix: routePath(i), cluster: clusterName(i) })),
    clusters: new Map(Array.from({ length: clusterCount }, (_, i) => [clusterName(i), upstreamPort])),
  });
}

/** The path that `manyRoutesBootstrap`'s route `i` matches. */
export function routePath(i: number): string {
  return `/svc-${i}/`;
}
