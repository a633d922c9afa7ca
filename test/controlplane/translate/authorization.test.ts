/**
 * SMI TrafficTarget -> RBAC on the destination's inbound listener: resources in,
 * the exact RBAC config out; the output encodes with Envoy's protos and loads
 * in Weft's proxy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateForProxy } from '../../../src/controlplane/translate/translate.js';
import { parseBootstrap } from '../../../src/proxy/config/bootstrap.js';
import { encodeResource } from '../../../src/xds/codec.js';
import { LISTENER_TYPE_URL } from '../../../src/xds/type-urls.js';
import { httpRouteGroup, named, resource, service, SIDECAR, workload } from './fixtures.js';
import { toStaticBootstrap } from './static-bootstrap.js';

const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const NETWORK_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

function trafficTarget(name: string, spec: unknown, namespace = 'default') {
  return resource('access.smi-spec.io/v1alpha3', 'TrafficTarget', name, spec, namespace);
}
function tcpRoute(name: string, ports: number[]) {
  return resource('specs.smi-spec.io/v1alpha4', 'TCPRoute', name, { matches: { ports } });
}
const sa = (name: string, namespace?: string) => ({ kind: 'ServiceAccount', name, ...(namespace === undefined ? {} : { namespace }) });
const principal = (id: string) => ({ authenticated: { principal_name: { exact: id } } });

/** reviews (HTTP, runs as SA reviews) and mysql (TCP, SA mysql); a Mesh with its own trust domain. */
function mesh() {
  return [
    // mTLS off: the listeners then load from a static bootstrap (with mTLS their certificates come over SDS).
    resource('mesh.weft.dev/v1alpha1', 'Mesh', 'default', { trustDomain: 'weft.example', mtls: { mode: 'DISABLED' } }, ''),
    service('reviews', { ports: [{ name: 'http', port: 9080, protocol: 'http' }] }),
    workload('reviews-1', { address: '10.0.0.2', service: 'reviews', serviceAccount: 'reviews', ports: [{ name: 'http', port: 9080 }] }),
    service('mysql', { ports: [{ name: 'db', port: 3306, protocol: 'tcp' }] }),
    workload('mysql-1', { address: '10.0.0.5', service: 'mysql', serviceAccount: 'mysql', ports: [{ name: 'db', port: 3306 }] }),
    httpRouteGroup('reviews-api', {
      matches: [
        { name: 'read', pathRegex: '/reviews/[0-9]+', methods: ['GET', 'HEAD'] },
        { name: 'health', pathRegex: '/health' },
        { name: 'firefox', headers: { 'user-agent': '.*Firefox.*' } },
        { name: 'anything' },
      ],
    }),
    tcpRoute('mysql-port', [3306]),
    tcpRoute('other-port', [5432]),
  ];
}

function inboundFilters(resources: ReturnType<typeof mesh>, workloadName: string): Array<{ name: string; typed_config: Record<string, unknown> }> {
  const xds = translateForProxy({ ...SIDECAR, workload: workloadName }, resources);
  const inbound = named(xds.listeners, 'inbound_0.0.0.0_15006') as { filter_chains: Array<{ filters: Array<{ name: string; typed_config: Record<string, unknown> }> }> };
  return inbound.filter_chains[0]!.filters;
}

function httpFilters(resources: ReturnType<typeof mesh>, workloadName: string): Array<{ name: string; typed_config: Record<string, unknown> }> {
  return inboundFilters(resources, workloadName)[0]!.typed_config['http_filters'] as Array<{ name: string; typed_config: Record<string, unknown> }>;
}

describe('translate: TrafficTarget -> RBAC', () => {
  it('leaves destinations without TrafficTargets open: no RBAC filter at all', () => {
    assert.deepEqual(httpFilters(mesh(), 'reviews-1').map((f) => f.name), ['envoy.filters.http.router']);
    assert.deepEqual(inboundFilters(mesh(), 'mysql-1').map((f) => f.name), ['envoy.filters.network.tcp_proxy']);
  });

  it('HTTP destination: one ALLOW policy per TrafficTarget, route matches as permissions, sources as SPIFFE principals', () => {
    const resources = [
      ...mesh(),
      trafficTarget('reviews-readers', {
        destination: sa('reviews'),
        rules: [{ kind: 'HTTPRouteGroup', name: 'reviews-api', matches: ['read', 'firefox', 'anything-missing'] }],
        sources: [sa('productpage'), sa('prometheus', 'monitoring')],
      }),
      trafficTarget('reviews-health', {
        destination: sa('reviews'),
        rules: [{ kind: 'HTTPRouteGroup', name: 'reviews-api', matches: ['health'] }, { kind: 'TCPRoute', name: 'other-port' }],
        sources: [sa('kubelet')],
      }),
    ];
    const filters = httpFilters(resources, 'reviews-1');
    assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.http.rbac', 'envoy.filters.http.router']);
    assert.deepEqual(filters[0]!.typed_config, {
      '@type': RBAC_TYPE,
      rules: {
        action: 'ALLOW',
        policies: {
          'default/reviews-health': {
            permissions: [{ url_path: { path: { safe_regex: { regex: '(?:/health).*' } } } }],
            principals: [principal('spiffe://weft.example/ns/default/sa/kubelet')],
          },
          'default/reviews-readers': {
            permissions: [
              { and_rules: { rules: [
                { url_path: { path: { safe_regex: { regex: '(?:/reviews/[0-9]+).*' } } } },
                { header: { name: ':method', safe_regex_match: { regex: 'GET|HEAD' } } },
              ] } },
              { header: { name: 'user-agent', safe_regex_match: { regex: '.*Firefox.*' } } },
            ],
            principals: [principal('spiffe://weft.example/ns/default/sa/productpage'), principal('spiffe://weft.example/ns/monitoring/sa/prometheus')],
          },
        },
      },
    });
  });

  it('a rule without matches allows every match of the group; a match without conditions is `any`', () => {
    const resources = [...mesh(), trafficTarget('all', { destination: sa('reviews'), rules: [{ kind: 'HTTPRouteGroup', name: 'reviews-api' }], sources: [sa('a')] })];
    const rules = httpFilters(resources, 'reviews-1')[0]!.typed_config['rules'] as { policies: Record<string, { permissions: unknown[] }> };
    assert.equal(rules.policies['default/all']!.permissions.length, 4);
    assert.deepEqual(rules.policies['default/all']!.permissions[3], { any: true });
  });

  it('a TrafficTarget whose rules grant nothing still closes the destination (ALLOW with no policies)', () => {
    const resources = [...mesh(), trafficTarget('nothing', { destination: sa('reviews'), rules: [{ kind: 'HTTPRouteGroup', name: 'no-such-group' }], sources: [sa('a')] })];
    assert.deepEqual(httpFilters(resources, 'reviews-1')[0]!.typed_config['rules'], { action: 'ALLOW', policies: {} });
  });

  it('TCP destination: a network RBAC filter before the TCP proxy; TCPRoutes by port, HTTPRouteGroups grant nothing', () => {
    const resources = [
      ...mesh(),
      trafficTarget('mysql-clients', {
        destination: sa('mysql'),
        rules: [{ kind: 'TCPRoute', name: 'mysql-port' }, { kind: 'HTTPRouteGroup', name: 'reviews-api' }],
        sources: [sa('reviews')],
      }),
      trafficTarget('wrong-port', { destination: sa('mysql'), rules: [{ kind: 'TCPRoute', name: 'other-port' }], sources: [sa('intruder')] }),
    ];
    const filters = inboundFilters(resources, 'mysql-1');
    assert.deepEqual(filters.map((f) => f.name), ['envoy.filters.network.rbac', 'envoy.filters.network.tcp_proxy']);
    assert.deepEqual(filters[0]!.typed_config, {
      '@type': NETWORK_RBAC_TYPE,
      stat_prefix: 'inbound_tcp',
      rules: {
        action: 'ALLOW',
        policies: { 'default/mysql-clients': { permissions: [{ any: true }], principals: [principal('spiffe://weft.example/ns/default/sa/reviews')] } },
      },
    });
  });

  it('encodes with Envoy\'s protos and loads in the Weft proxy', () => {
    const resources = [
      ...mesh(),
      trafficTarget('reviews-readers', { destination: sa('reviews'), rules: [{ kind: 'HTTPRouteGroup', name: 'reviews-api' }], sources: [sa('productpage')] }),
      trafficTarget('mysql-clients', { destination: sa('mysql'), rules: [{ kind: 'TCPRoute', name: 'mysql-port' }], sources: [sa('reviews')] }),
    ];
    for (const name of ['reviews-1', 'mysql-1']) {
      const xds = translateForProxy({ ...SIDECAR, workload: name }, resources);
      for (const listener of xds.listeners) encodeResource(LISTENER_TYPE_URL, listener as Record<string, unknown>);
      const bootstrap = parseBootstrap(toStaticBootstrap(xds));
      const inbound = bootstrap.listeners.find((l) => l.name === 'inbound_0.0.0.0_15006')!;
      const chain = inbound.filterChains[0]!;
      if (name === 'mysql-1') assert.equal(chain.rbacFilters.length, 1);
      else assert.equal(chain.filter.kind === 'http' && chain.filter.httpFilters[0]!.name, 'envoy.filters.http.rbac');
    }
  });
});
