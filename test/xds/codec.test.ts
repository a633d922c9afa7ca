/** Envoy JSON <-> protobuf through the xDS protos: round trips, well-known types, and errors that name the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/lib/errors.js';
import { decodeAny, decodeMessage, encodeAny, encodeMessage, encodeResource, structToJson } from '../../src/xds/codec.js';
import { CLUSTER_TYPE_URL, HTTP_CONNECTION_MANAGER_TYPE_URL, LISTENER_TYPE_URL, ROUTER_TYPE_URL } from '../../src/xds/type-urls.js';

const cluster = {
  name: 'reviews',
  type: 'EDS',
  eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: 'reviews' },
  connect_timeout: '0.250s',
  per_connection_buffer_limit_bytes: 32768,
  metadata: { filter_metadata: { weft: { service: 'reviews', weight: 3, tags: ['v2', true, null, { zone: 'a' }] } } },
  max_requests_per_connection: 100,
};

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail('no error');
}

describe('xds codec', () => {
  it('round-trips a cluster, mapping durations, wrappers and Struct to and from their JSON forms', () => {
    const any = encodeResource(CLUSTER_TYPE_URL, cluster);
    assert.equal(any.type_url, CLUSTER_TYPE_URL);
    assert.deepEqual(decodeAny(any), { '@type': CLUSTER_TYPE_URL, ...cluster, connect_timeout: '0.25s' });
  });

  it('encodes nested Anys by @type (a listener with its connection manager and router)', () => {
    const listener = {
      '@type': LISTENER_TYPE_URL,
      name: 'echo',
      api_listener: {
        api_listener: {
          '@type': HTTP_CONNECTION_MANAGER_TYPE_URL,
          stat_prefix: 'echo',
          rds: { config_source: { ads: {} }, route_config_name: 'echo-routes' },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_TYPE_URL } }],
        },
      },
    };
    assert.deepEqual(decodeAny(encodeAny(listener)), listener);
  });

  it('rejects unknown fields, bad enums, malformed durations, wrong kinds, unknown @types and two oneof members, naming the field', () => {
    const cases: [object, string, RegExp][] = [
      [{ name: 'a', conect_timeout: '1s' }, 'conect_timeout', /unknown field of envoy\.config\.cluster\.v3\.Cluster/],
      [{ name: 'a', type: 'MAGIC' }, 'type', /"MAGIC" is not one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST/],
      [{ name: 'a', connect_timeout: '5m' }, 'connect_timeout', /not a duration/],
      [{ name: 'a', load_assignment: { cluster_name: 'a', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { port_value: 'http' } } } }] }] } },
        'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value', /must be an integer/],
      [{ name: 'a', typed_extension_protocol_options: { x: { '@type': 'type.googleapis.com/no.such.Type' } } }, 'typed_extension_protocol_options.x.@type', /no\.such\.Type is not a message type/],
      [{ name: 'a', type: 'EDS', cluster_type: { name: 'custom' } }, '', /sets type and cluster_type/],
    ];
    for (const [json, path, reason] of cases) {
      const error = configError(() => encodeResource(CLUSTER_TYPE_URL, json as Record<string, unknown>));
      assert.equal(error.path, path || 'Cluster', JSON.stringify(json));
      assert.match(error.reason, reason);
    }
    assert.match(configError(() => encodeResource(CLUSTER_TYPE_URL, { '@type': LISTENER_TYPE_URL, name: 'x' })).reason, /encoded as/);
  });

  it('encodes and decodes discovery messages and reads a node metadata Struct as plain JSON', () => {
    const bytes = encodeMessage('envoy.service.discovery.v3.DiscoveryRequest', {
      node: { id: 'n1', metadata: { app: 'reviews', replicas: 2 } },
      type_url: CLUSTER_TYPE_URL,
      resource_names: ['a'],
      error_detail: { code: 3, message: 'bad' },
    });
    const request = decodeMessage('envoy.service.discovery.v3.DiscoveryRequest', bytes);
    assert.deepEqual(request['node'], { id: 'n1', metadata: { app: 'reviews', replicas: 2 } });
    assert.deepEqual(request['error_detail'], { code: 3, message: 'bad' });
    assert.deepEqual(structToJson({ fields: { app: { stringValue: 'reviews' }, on: { boolValue: true } } }), { app: 'reviews', on: true });
  });
});
