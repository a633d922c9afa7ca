/**
 * ADS resources -> internal config: each resource type normalized by the
 * loader's own code, the merge with the static bootstrap (RDS into the HCM,
 * EDS into the cluster), and bad resources rejected with their field path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/lib/errors.js';
import { parseBootstrap } from '../../../src/proxy/config/bootstrap.js';
import type { HttpConnectionManagerConfig } from '../../../src/proxy/config/types.js';
import {
  composeBootstrap, parseClusterResource, parseListenerResource, parseLoadAssignmentResource, parseRouteConfigurationResource,
  referencedNames, type XdsResourceSet,
} from '../../../src/proxy/config/xds-resources.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const ADS = { ads: {}, resource_api_version: 'V3' };

const listener = (hcm: Record<string, unknown>) => ({
  name: 'http',
  address: { socket_address: { address: '127.0.0.1', port_value: 8080 } },
  filter_chains: [{ filters: [{ name: 'hcm', typed_config: { '@type': HCM, stat_prefix: 'in', http_filters: [{ name: 'router', typed_config: { '@type': ROUTER } }], ...hcm } }] }],
});
const rdsListener = listener({ rds: { config_source: ADS, route_config_name: 'routes' } });
const routes = { name: 'routes', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'svc', timeout: '2s' } }] }] };
const edsCluster = { name: 'svc', type: 'EDS', connect_timeout: '0.5s', eds_cluster_config: { eds_config: ADS, service_name: 'svc-eds' } };
const assignment = {
  cluster_name: 'svc-eds',
  endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '10.0.0.1', port_value: 80 } } }, load_balancing_weight: 3 }] }],
};

const base = parseBootstrap({
  node: { id: 'n' },
  dynamic_resources: { ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }] }, lds_config: ADS, cds_config: ADS },
  static_resources: {
    clusters: [{
      name: 'xds',
      http2_protocol_options: {},
      load_assignment: { cluster_name: 'xds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 15010 } } } }] }] },
    }],
  },
});

function set(partial: Partial<Record<keyof XdsResourceSet, Array<[string, unknown]>>>): XdsResourceSet {
  return {
    listeners: new Map(partial.listeners ?? []),
    clusters: new Map(partial.clusters ?? []),
    routeConfigs: new Map(partial.routeConfigs ?? []),
    loadAssignments: new Map(partial.loadAssignments ?? []),
    secrets: new Map(partial.secrets ?? []),
  };
}

function rejects(fn: () => unknown, path: string, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ConfigError && err.path === path && reason.test(err.reason));
}

describe('xDS resources normalize with the bootstrap loader', () => {
  it('the bootstrap with dynamic_resources names the ADS cluster, which alone may use HTTP/2', () => {
    assert.deepEqual(base.dynamicResources, { adsCluster: 'xds', setNodeOnFirstMessageOnly: false, lds: true, cds: true, initialFetchTimeoutMs: 15_000 });
    assert.equal(base.clusters[0]!.http2, true);
  });

  it('a Listener with rds gets an empty route config until RDS arrives', () => {
    const hcm = parseListenerResource(rdsListener, 'http').filterChains[0]!.filter as HttpConnectionManagerConfig;
    assert.deepEqual(hcm.rds, { routeConfigName: 'routes' });
    assert.deepEqual(hcm.routeConfig.virtualHosts, []);
  });

  it('a Cluster of type EDS, a RouteConfiguration and a ClusterLoadAssignment', () => {
    const cluster = parseClusterResource(edsCluster, 'svc');
    assert.equal(cluster.type, 'EDS');
    assert.equal(cluster.edsServiceName, 'svc-eds');
    assert.equal(cluster.connectTimeoutMs, 500);
    assert.deepEqual(cluster.endpoints, []);
    const route = parseRouteConfigurationResource(routes, 'routes');
    assert.equal(route.virtualHosts[0]!.routes[0]!.action.kind, 'forward');
    assert.deepEqual(parseLoadAssignmentResource(assignment, 'svc-eds'), [{ address: '10.0.0.1', port: 80, weight: 3, healthCheckPort: 0, hostname: '10.0.0.1' }]);
  });

  it('composes RDS into the HCM and EDS into the cluster, and lists the names to subscribe to', () => {
    const partial = composeBootstrap(base, set({ listeners: [['http', rdsListener]], clusters: [['svc', edsCluster]] }));
    assert.deepEqual(referencedNames(partial), { routeConfigs: ['routes'], loadAssignments: ['svc-eds'], secrets: [] });
    const full = composeBootstrap(base, set({
      listeners: [['http', rdsListener]], clusters: [['svc', edsCluster]], routeConfigs: [['routes', routes]], loadAssignments: [['svc-eds', assignment]],
    }));
    const hcm = full.listeners[0]!.filterChains[0]!.filter as HttpConnectionManagerConfig;
    assert.equal(hcm.routeConfig.name, 'routes');
    assert.equal(hcm.routeConfig.virtualHosts[0]!.routes.length, 1);
    assert.equal(full.clusters.find((c) => c.name === 'svc')!.endpoints[0]!.address, '10.0.0.1');
    assert.equal(full.clusters.length, 2, 'the static ADS cluster stays');
  });

  it('SDS: secrets named over ADS by a TLS listener and cluster are subscribed, composed, and checked', () => {
    const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' };
    const sds = (name: string): unknown => ({ name, sds_config: ADS_SOURCE });
    const common = { tls_certificate_sds_secret_configs: [sds('default')], combined_validation_context: { default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: 'spiffe://td/' } }] }, validation_context_sds_secret_config: sds('ROOTCA') } };
    const tlsListener = { ...rdsListener, filter_chains: [{ ...rdsListener.filter_chains[0], transport_socket: { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', require_client_certificate: true, common_tls_context: common } } }] };
    const tlsCluster = { ...edsCluster, transport_socket: { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: common } } };
    const partial = composeBootstrap(base, set({ listeners: [['http', tlsListener]], clusters: [['svc', tlsCluster]] }));
    assert.deepEqual(referencedNames(partial).secrets, ['ROOTCA', 'default']);
    const tls = partial.listeners[0]!.filterChains[0]!.tls!;
    assert.deepEqual(tls.certificate, { kind: 'sds', name: 'default', ads: true });
    assert.equal(tls.extraSanMatchers[0]!.match.kind, 'prefix');
    const chain = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const full = composeBootstrap(base, set({
      listeners: [['http', tlsListener]], clusters: [['svc', tlsCluster]],
      secrets: [['default', { name: 'default', tls_certificate: { certificate_chain: { inline_string: chain } } }], ['ROOTCA', { name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: chain } } }]],
    }));
    assert.deepEqual(full.secrets.map((s) => [s.name, s.tlsCertificate?.privateKey ?? 'local key']), [['default', 'local key'], ['ROOTCA', 'local key']]);
    rejects(() => composeBootstrap(base, set({ secrets: [['default', { name: 'default', tls_certificate: { certificate_chain: { inline_string: 'x' } } }]] })),
      'dynamic_active_secrets["default"].tls_certificate.certificate_chain', /expected certificates in PEM format/);
    rejects(() => composeBootstrap(base, set({ secrets: [['x', { name: 'x', generic_secret: {} }]] })), 'dynamic_active_secrets["x"].generic_secret', /not supported yet/);
  });

  it('bad resources are rejected with their path', () => {
    rejects(() => parseListenerResource({ ...rdsListener, filter_chains: [rdsListener.filter_chains[0], rdsListener.filter_chains[0]] }, 'http'),
      'dynamic_listeners["http"].filter_chains[1].filter_chain_match', /the same filter_chain_match/);
    rejects(() => parseClusterResource({ ...edsCluster, lb_policy: 'MAGLEV' }, 'svc'), 'dynamic_active_clusters["svc"].lb_policy', /unsupported value "MAGLEV"/);
    rejects(() => parseClusterResource({ ...edsCluster, http2_protocol_options: {} }, 'svc'), 'dynamic_active_clusters["svc"].http2_protocol_options', /only the ADS cluster/);
    rejects(() => parseRouteConfigurationResource({ ...routes, virtual_hosts: [{ name: 'v', domains: ['a*b'] }] }, 'routes'),
      'dynamic_route_configs["routes"].virtual_hosts[0].domains[0]', /invalid domain/);
    rejects(() => parseLoadAssignmentResource({ cluster_name: 'svc-eds', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'db.local', port_value: 1 } } } }] }] }, 'svc-eds'),
      'dynamic_endpoint_configs["svc-eds"].endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address', /EDS cluster needs an IP address/);
    rejects(() => parseClusterResource(edsCluster, 'other'), 'dynamic_active_clusters["other"]', /named "svc", not "other"/);
    rejects(() => composeBootstrap(base, set({ clusters: [['xds', { ...edsCluster, name: 'xds' }]] })), 'dynamic_active_clusters["xds"]', /a static cluster is already named/);
  });

  it('the ADS cluster must be one of the static clusters', () => {
    assert.throws(() => parseBootstrap({ dynamic_resources: { ads_config: { api_type: 'GRPC', grpc_services: [{ envoy_grpc: { cluster_name: 'nope' } }] } } }),
      (err: unknown) => err instanceof ConfigError && err.path === 'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name' && /unknown cluster "nope"/.test(err.reason));
  });
});
