import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '../../../src/controlplane/model/resource.js';
import { translateForProxy, type XdsResources } from '../../../src/controlplane/translate/translate.js';
import { parseBootstrap } from '../../../src/proxy/config/bootstrap.js';
import { DEFAULT_JSON_FORMAT } from '../../../src/proxy/observe/format.js';
import { gateway, httpService, named, resource, service, SIDECAR, trafficPolicy, workload } from './fixtures.js';
import { assertEncodes } from './sidecar.test.js';
import { toStaticBootstrap } from './static-bootstrap.js';

const STDOUT = {
  name: 'envoy.access_loggers.stdout',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog', log_format: { json_format: DEFAULT_JSON_FORMAT } },
};
const fileLog = (path: string, logFormat: object) => ({
  name: 'envoy.access_loggers.file',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path, log_format: logFormat },
});
const PRODUCTPAGE_SIDECAR = { ...SIDECAR, workload: 'productpage-1' };

function mesh(spec: object): Resource {
  return resource('mesh.weft.dev/v1alpha1', 'Mesh', 'default', { mtls: { mode: 'DISABLED' }, ...spec }, '');
}

/** productpage (HTTP, served by this sidecar), reviews (HTTP) and mysql (TCP). */
function slice(...extra: Resource[]): Resource[] {
  return [
    ...httpService('productpage', ['10.0.0.1']),
    ...httpService('reviews', ['10.0.0.2']),
    service('mysql', { ports: [{ name: 'db', port: 3306, protocol: 'tcp' }] }),
    workload('mysql-1', { address: '10.0.0.5', service: 'mysql', ports: [{ name: 'db', port: 3306 }] }),
    ...extra,
  ];
}

/** The access_log of a listener's (first chain's) terminal filter; undefined when it has none. */
function accessLogOf(xds: XdsResources, listener: string): unknown {
  const chains = named(xds.listeners, listener)['filter_chains'] as Array<{ filters: Array<{ typed_config: Record<string, unknown> }> }>;
  return chains.map((chain) => chain.filters.at(-1)!.typed_config['access_log']).reduce((a, b) => {
    assert.deepEqual(a, b, 'every filter chain logs alike');
    return b;
  });
}

describe('translate: access logging', () => {
  it('logs nothing without a Mesh access log', () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, slice(mesh({})));
    for (const listener of ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001', 'outbound_0.0.0.0_3306']) assert.equal(accessLogOf(xds, listener), undefined, listener);
  });

  it("puts the Mesh default on every sidecar listener, written out in Weft's default JSON keys", () => {
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, slice(mesh({ accessLog: { backends: [{ stdout: {} }] } })));
    for (const listener of ['inbound_0.0.0.0_15006', 'outbound_0.0.0.0_15001', 'outbound_0.0.0.0_3306']) assert.deepEqual(accessLogOf(xds, listener), [STDOUT], listener);
    assertEncodes(xds);
  });

  it("overrides the Mesh default where a listener serves one destination: its workloads' inbound listener and its TCP listener", () => {
    const resources = slice(
      mesh({ accessLog: { backends: [{ stdout: {} }] } }),
      trafficPolicy('productpage', {
        targetRef: { kind: 'Service', name: 'productpage' },
        accessLog: { backends: [{ file: { path: '/var/log/pp.log', format: { text: '%REQ(:METHOD)% %RESPONSE_CODE%' } } }, { stdout: { format: { json: { code: '%RESPONSE_CODE%' } } } }] },
      }),
      trafficPolicy('mysql', { targetRef: { kind: 'Service', name: 'mysql' }, accessLog: { disabled: true } }),
    );
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, resources);
    assert.deepEqual(accessLogOf(xds, 'inbound_0.0.0.0_15006'), [
      fileLog('/var/log/pp.log', { text_format_source: { inline_string: '%REQ(:METHOD)% %RESPONSE_CODE%' } }),
      { ...STDOUT, typed_config: { ...STDOUT.typed_config, log_format: { json_format: { code: '%RESPONSE_CODE%' } } } },
    ]);
    // The outbound HTTP listener serves every destination: the Mesh default.
    assert.deepEqual(accessLogOf(xds, 'outbound_0.0.0.0_15001'), [STDOUT]);
    assert.equal(accessLogOf(xds, 'outbound_0.0.0.0_3306'), undefined);
    assertEncodes(xds);

    // The Weft proxy loads it into the same loggers.
    const bootstrap = parseBootstrap(toStaticBootstrap(xds));
    const inbound = bootstrap.listeners.find((l) => l.name === 'inbound_0.0.0.0_15006')!.filterChains[0]!.filter;
    assert.deepEqual(inbound.accessLog, [
      { path: '/var/log/pp.log', textFormat: '%REQ(:METHOD)% %RESPONSE_CODE%' },
      { path: '/dev/stdout', jsonFormat: { code: '%RESPONSE_CODE%' } },
    ]);
    const outbound = bootstrap.listeners.find((l) => l.name === 'outbound_0.0.0.0_15001')!.filterChains[0]!.filter;
    assert.deepEqual(outbound.accessLog, [{ path: '/dev/stdout', jsonFormat: DEFAULT_JSON_FORMAT }]);
  });

  it('keeps the access log on both chains of a PERMISSIVE inbound listener', () => {
    const resources = slice(resource('mesh.weft.dev/v1alpha1', 'Mesh', 'default', { mtls: { mode: 'PERMISSIVE' }, accessLog: { backends: [{ stdout: {} }] } }, ''));
    const xds = translateForProxy(PRODUCTPAGE_SIDECAR, resources);
    assert.equal((named(xds.listeners, 'inbound_0.0.0.0_15006')['filter_chains'] as unknown[]).length, 2);
    assert.deepEqual(accessLogOf(xds, 'inbound_0.0.0.0_15006'), [STDOUT]);
  });

  it('logs on gateway listeners: the Mesh default on HTTP, the backend override on TCP', () => {
    const resources = slice(
      mesh({ accessLog: { backends: [{ stdout: {} }] } }),
      trafficPolicy('mysql', { targetRef: { kind: 'Service', name: 'mysql' }, accessLog: { backends: [{ file: { path: '/var/log/db.log' } }] } }),
      gateway('edge', {
        listeners: [{ name: 'web', port: 8080, protocol: 'HTTP' }, { name: 'db', port: 3307, protocol: 'TCP' }],
        routes: [{ listener: 'web', backend: { service: 'productpage', port: 9080 } }, { listener: 'db', backend: { service: 'mysql', port: 3306 } }],
      }),
    );
    const xds = translateForProxy({ nodeId: 'gw', namespace: 'default', kind: 'gateway', workload: 'edge' }, resources);
    assert.deepEqual(accessLogOf(xds, 'gateway_0.0.0.0_8080'), [STDOUT]);
    assert.deepEqual(accessLogOf(xds, 'gateway_0.0.0.0_3307'), [fileLog('/var/log/db.log', { json_format: DEFAULT_JSON_FORMAT })]);
    assertEncodes(xds);
  });
});
