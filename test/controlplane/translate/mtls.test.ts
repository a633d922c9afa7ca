import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { caRecord, issuedCertificateRecord } from '../../../src/controlplane/ca/records.js';
import type { Resource } from '../../../src/controlplane/model/resource.js';
import { translateForProxy } from '../../../src/controlplane/translate/translate.js';
import { encodeResource } from '../../../src/xds/codec.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, SECRET_TYPE_URL } from '../../../src/xds/type-urls.js';
import { named, resource, service, SIDECAR, workload } from './fixtures.js';

const ADS = { ads: {}, resource_api_version: 'V3' };
const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROOT_PEM = '-----BEGIN CERTIFICATE-----\nUk9PVA==\n-----END CERTIFICATE-----';
const LEAF_PEM = '-----BEGIN CERTIFICATE-----\nTEVBRg==\n-----END CERTIFICATE-----\n';

function mesh(spec: unknown): Resource {
  const doc = resource('mesh.weft.dev/v1alpha1', 'Mesh', 'default', spec, '');
  return { ...doc, metadata: { ...doc.metadata, namespace: '' } };
}

/** productpage (sidecar inbound 15006) calls reviews, two workloads with sidecars and two service accounts, and a TCP db without a sidecar. */
function slice(extra: Resource[]): Resource[] {
  return [
    service('productpage', { ports: [{ name: 'http', port: 9080 }] }),
    workload('productpage-1', { address: '10.0.0.1', service: 'productpage', serviceAccount: 'bookinfo-productpage', inboundPort: 15006, ports: [{ name: 'http', port: 9080 }] }),
    service('reviews', { ports: [{ name: 'http', port: 9080 }] }),
    workload('reviews-v1', { address: '10.0.0.2', service: 'reviews', serviceAccount: 'bookinfo-reviews', inboundPort: 15006, ports: [{ name: 'http', port: 9080 }] }),
    workload('reviews-v2', { address: '10.0.0.3', service: 'reviews', serviceAccount: 'bookinfo-reviews-v2', inboundPort: 15106, ports: [{ name: 'http', port: 9080 }] }),
    service('db', { ports: [{ name: 'sql', port: 3306, protocol: 'tcp' }] }),
    workload('db-1', { address: '10.0.0.4', service: 'db', ports: [{ name: 'sql', port: 3306 }] }),
    ...extra,
  ];
}

const PRODUCTPAGE = { ...SIDECAR, workload: 'productpage-1' };

const inboundTls = (trustDomain: string) => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
    require_client_certificate: true,
    common_tls_context: {
      tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: ADS }],
      combined_validation_context: {
        default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix: `spiffe://${trustDomain}/` } }] },
        validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: ADS },
      },
      alpn_protocols: ['http/1.1'],
    },
  },
});

function inboundFilters(listener: Record<string, unknown>): unknown {
  return (listener['filter_chains'] as Array<{ filters: unknown }>)[0]!.filters;
}

describe('translate: mTLS', () => {
  it('STRICT: one inbound chain requiring a client certificate of the trust domain', () => {
    const xds = translateForProxy(PRODUCTPAGE, slice([mesh({ mtls: { mode: 'STRICT' }, trustDomain: 'weft.test' })]));
    const inbound = named(xds.listeners, 'inbound_0.0.0.0_15006');
    const plain = named(translateForProxy(PRODUCTPAGE, slice([])).listeners, 'inbound_0.0.0.0_15006');
    assert.deepEqual(inbound, {
      ...plain,
      filter_chains: [{ name: 'inbound-mtls', filters: inboundFilters(plain), transport_socket: inboundTls('weft.test') }],
    });
    assert.equal((inboundFilters(inbound) as Array<{ typed_config: { '@type': string } }>)[0]!.typed_config['@type'], HCM_TYPE);
    encodeResource(LISTENER_TYPE_URL, inbound as never);
  });

  it('PERMISSIVE: the TLS inspector picks a TLS chain or a raw_buffer chain, both with the same filters', () => {
    const xds = translateForProxy(PRODUCTPAGE, slice([mesh({ mtls: { mode: 'PERMISSIVE' } })]));
    const inbound = named(xds.listeners, 'inbound_0.0.0.0_15006');
    const filters = inboundFilters(named(translateForProxy(PRODUCTPAGE, slice([])).listeners, 'inbound_0.0.0.0_15006'));
    assert.deepEqual(inbound['listener_filters'], [{
      name: 'envoy.filters.listener.tls_inspector',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector' },
    }]);
    assert.deepEqual(inbound['filter_chains'], [
      { name: 'inbound-mtls', filter_chain_match: { transport_protocol: 'tls' }, filters, transport_socket: inboundTls('cluster.local') },
      { name: 'inbound-plaintext', filter_chain_match: { transport_protocol: 'raw_buffer' }, filters },
    ]);
    encodeResource(LISTENER_TYPE_URL, inbound as never);
  });

  it('outbound clusters to services with sidecars verify the destination SPIFFE IDs and dial the sidecar inbound ports', () => {
    const xds = translateForProxy(PRODUCTPAGE, slice([mesh({ mtls: { mode: 'STRICT' }, trustDomain: 'weft.test' })]));
    const reviews = named(xds.clusters, 'outbound|9080||reviews.default.svc');
    assert.deepEqual(reviews['transport_socket'], {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        sni: 'outbound_.9080_._.reviews.default.svc.cluster.local',
        common_tls_context: {
          tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: ADS }],
          combined_validation_context: {
            default_validation_context: {
              match_typed_subject_alt_names: [
                { san_type: 'URI', matcher: { exact: 'spiffe://weft.test/ns/default/sa/bookinfo-reviews' } },
                { san_type: 'URI', matcher: { exact: 'spiffe://weft.test/ns/default/sa/bookinfo-reviews-v2' } },
              ],
            },
            validation_context_sds_secret_config: { name: 'ROOTCA', sds_config: ADS },
          },
          alpn_protocols: ['http/1.1'],
        },
      },
    });
    encodeResource(CLUSTER_TYPE_URL, reviews as never);
    const endpoints = named(xds.endpoints, 'outbound|9080||reviews.default.svc', 'cluster_name');
    assert.deepEqual(endpoints, {
      cluster_name: 'outbound|9080||reviews.default.svc',
      endpoints: [{
        locality: {},
        lb_endpoints: [
          { endpoint: { address: { socket_address: { address: '10.0.0.2', port_value: 15006 } }, hostname: 'reviews-v1' } },
          { endpoint: { address: { socket_address: { address: '10.0.0.3', port_value: 15106 } }, hostname: 'reviews-v2' } },
        ],
        load_balancing_weight: 2,
      }],
    });
    encodeResource(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, endpoints as never);
    // A workload without a sidecar is called directly, in plaintext.
    assert.equal(named(xds.clusters, 'outbound|3306||db.default.svc')['transport_socket'], undefined);
  });

  it('DISABLED and no Mesh: plaintext everywhere; sidecars are still reached on their inbound port', () => {
    for (const extra of [[mesh({ mtls: { mode: 'DISABLED' } })], []]) {
      const xds = translateForProxy(PRODUCTPAGE, slice(extra));
      assert.ok(xds.clusters.every((c) => (c as Record<string, unknown>)['transport_socket'] === undefined));
      const inbound = named(xds.listeners, 'inbound_0.0.0.0_15006');
      assert.equal((inbound['filter_chains'] as unknown[]).length, 1);
      assert.equal(inbound['listener_filters'], undefined);
      const endpoints = JSON.stringify(named(xds.endpoints, 'outbound|9080||reviews.default.svc', 'cluster_name'));
      assert.match(endpoints, /"port_value":15106/);
    }
  });

  it('proxyless clients get no TLS and dial the workload ports', () => {
    const xds = translateForProxy({ nodeId: 'grpc', namespace: 'default', kind: 'proxyless' }, slice([mesh({ mtls: { mode: 'STRICT' } })]));
    assert.ok(xds.clusters.every((c) => (c as Record<string, unknown>)['transport_socket'] === undefined));
    assert.doesNotMatch(JSON.stringify(xds.endpoints), /15006|15106/);
    assert.deepEqual(xds.secrets, []);
  });

  it('serves SDS: ROOTCA (every root of the bundle) and default (the chain only, never a key) for the sidecar of a workload', () => {
    const ca = caRecord({ anchors: [{ certificatePem: ROOT_PEM }, { certificatePem: ROOT_PEM.replace('Uk9PVA', 'T0xE'), retireAt: '2030-01-01T00:00:00Z' }], tokenSecret: 'c2VjcmV0' });
    const issued = issuedCertificateRecord('default', 'productpage-1', {
      spiffeId: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage', publicKey: 'AA==', certificateChainPem: LEAF_PEM,
      notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-01-02T00:00:00Z', anchorFingerprint: 'AA',
    });
    const before = translateForProxy(PRODUCTPAGE, slice([mesh({}), ca]));
    assert.deepEqual(before.secrets, [{ name: 'ROOTCA', validation_context: { trusted_ca: { inline_string: `${ROOT_PEM}\n${ROOT_PEM.replace('Uk9PVA', 'T0xE')}\n` } } }]);
    const xds = translateForProxy(PRODUCTPAGE, slice([mesh({}), ca, issued]));
    assert.deepEqual(xds.secrets[1], { name: 'default', tls_certificate: { certificate_chain: { inline_string: LEAF_PEM } } });
    assert.doesNotMatch(JSON.stringify(xds), /PRIVATE KEY|tokenSecret|c2VjcmV0/);
    for (const secret of xds.secrets) encodeResource(SECRET_TYPE_URL, secret as never);
    // Another workload's sidecar gets the bundle but not productpage's certificate.
    const other = translateForProxy({ ...SIDECAR, workload: 'reviews-v1' }, slice([mesh({}), ca, issued]));
    assert.deepEqual(other.secrets.map((s) => (s as { name: string }).name), ['ROOTCA']);
  });
});
