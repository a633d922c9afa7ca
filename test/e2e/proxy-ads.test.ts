/**
 * The proxy as an ADS client, end to end: a real `weft proxy` process with
 * dynamic_resources, an in-test ADS server (grpc-js, Envoy's protos) serving
 * LDS/RDS/CDS/EDS for an HTTP listener to real upstreams. Covers the first push,
 * pushed changes (route, endpoint, weights), a NACKed resource (no resend loop,
 * old config keeps serving), the control plane going away and coming back, the
 * agent process dying, `weft proxy --workload`, and the proxy's RSS.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { EnvoyJson } from '../../src/xds/codec.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL } from '../../src/xds/type-urls.js';
import { startAdsServer, type AdsTestServer } from '../proxy/xds-client/ads-test-server.js';
import {
  WEFT_BIN, buildBootstrap, childPids, curl, freePorts, mapLimit, processAlive, processMemory, startProxy, startUpstream, waitFor,
  type ProxyProcess, type Upstream,
} from './harness.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const ADS = { ads: {}, resource_api_version: 'V3' };

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function listener(port: number, filterChains = 1): EnvoyJson {
  const chain = {
    filters: [{
      name: 'envoy.filters.network.http_connection_manager',
      typed_config: {
        '@type': HCM,
        stat_prefix: 'ingress',
        rds: { config_source: ADS, route_config_name: 'routes' },
        http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
      },
    }],
  };
  return { name: 'http', address: { socket_address: { address: '127.0.0.1', port_value: port } }, filter_chains: Array(filterChains).fill(chain) };
}

function routeConfig(routes: unknown[]): EnvoyJson {
  return { name: 'routes', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] };
}

const toCluster = (prefix: string, cluster: string): unknown => ({ match: { prefix }, route: { cluster } });

function edsCluster(name: string): EnvoyJson {
  return { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ADS } };
}

function loadAssignment(name: string, ports: number[]): EnvoyJson {
  return {
    cluster_name: name,
    endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } })) }],
  };
}

function adsBootstrap(adminPort: number, adsPort: number): Record<string, unknown> {
  return {
    node: { id: 'sidecar~web.default', cluster: 'web', metadata: { WORKLOAD: 'web', NAMESPACE: 'default' } },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    dynamic_resources: {
      ads_config: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'xds_cluster' } }] },
      lds_config: ADS,
      cds_config: ADS,
    },
    static_resources: {
      clusters: [{
        name: 'xds_cluster',
        type: 'STATIC',
        connect_timeout: '1s',
        typed_extension_protocol_options: { [HTTP_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_OPTIONS}`, explicit_http_config: { http2_protocol_options: {} } } },
        load_assignment: { cluster_name: 'xds_cluster', endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: adsPort } } } }] }] },
      }],
    },
  };
}

/** GET through curl: status and the upstream that answered (from the echo body), or '' for a local reply. */
async function get(port: number, path: string): Promise<{ status: number; upstream: string }> {
  const res = await curl(['--max-time', '5', '-o', '-', '-w', '\n%{http_code}', `http://127.0.0.1:${port}${path}`]);
  const lines = res.stdout.split('\n');
  const status = Number(lines.pop());
  try {
    return { status, upstream: (JSON.parse(lines.join('\n')) as { upstream: string }).upstream };
  } catch {
    return { status, upstream: '' };
  }
}

async function configDump(proxy: ProxyProcess): Promise<Array<Record<string, unknown>>> {
  return ((await (await proxy.admin('/config_dump')).json()) as { configs: Array<Record<string, unknown>> }).configs;
}

function section(configs: Array<Record<string, unknown>>, type: string): Record<string, unknown> {
  const found = configs.find((c) => String(c['@type']).endsWith(type));
  assert.ok(found, `config_dump has ${type}`);
  return found;
}

function agentPid(proxyPid: number): number | undefined {
  return childPids(proxyPid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('agent-process.js');
    } catch {
      return false;
    }
  });
}

describe('weft proxy with dynamic_resources (ADS)', () => {
  let a: Upstream;
  let b: Upstream;
  let ads: AdsTestServer;
  let proxy: ProxyProcess;
  let port: number;
  let adminPort: number;

  const initialResources = (): Array<[string, EnvoyJson[]]> => [
    [CLUSTER_TYPE_URL, [edsCluster('svc')]],
    [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [a.port])]],
    [LISTENER_TYPE_URL, [listener(port)]],
    [ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([toCluster('/', 'svc')])]],
  ];

  before(async () => {
    a = await startUpstream(undefined, 'a');
    b = await startUpstream(undefined, 'b');
    [port, adminPort] = (await freePorts(2)) as [number, number];
    ads = await startAdsServer(0, initialResources());
    proxy = await startProxy(adsBootstrap(adminPort, ads.port));
  });

  after(async () => {
    await proxy?.stop();
    ads?.kill();
    await a?.close();
    await b?.close();
  });

  it('routes traffic with the first push, sending node id and metadata and ACKing every type', async () => {
    assert.deepEqual(await get(port, '/hello'), { status: 200, upstream: 'a' });
    const first = ads.requests[0]!;
    assert.equal(first.node?.id, 'sidecar~web.default');
    assert.ok(JSON.stringify(first.node?.metadata).includes('web'), 'node metadata carries the workload');
    for (const typeUrl of [LISTENER_TYPE_URL, CLUSTER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]) {
      assert.ok(ads.requests.some((r) => r.typeUrl === typeUrl && r.versionInfo === '1' && r.nonce !== '' && r.errorDetail === undefined), `${typeUrl} ACKed`);
    }
    assert.deepEqual(ads.requests.find((r) => r.typeUrl === ROUTE_CONFIGURATION_TYPE_URL)?.names, ['routes']);
    assert.deepEqual(ads.requests.find((r) => r.typeUrl === CLUSTER_LOAD_ASSIGNMENT_TYPE_URL)?.names, ['svc']);

    const configs = await configDump(proxy);
    const listeners = section(configs, 'ListenersConfigDump');
    assert.equal(listeners['version_info'], '1');
    const dynamicListeners = listeners['dynamic_listeners'] as Array<{ name: string; active_state: { version_info: string; listener: { '@type': string } } }>;
    assert.equal(dynamicListeners[0]?.name, 'http');
    assert.equal(dynamicListeners[0]?.active_state.version_info, '1');
    assert.equal(dynamicListeners[0]?.active_state.listener['@type'], LISTENER_TYPE_URL);
    const clusters = section(configs, 'ClustersConfigDump')['dynamic_active_clusters'] as Array<{ version_info: string; cluster: { name: string } }>;
    assert.deepEqual(clusters.map((c) => [c.cluster.name, c.version_info]), [['svc', '1']]);
    assert.equal((section(configs, 'XdsStatus')['connected']), true);
  });

  it('applies pushed changes: a new endpoint, a new route to a new cluster, and weights', async () => {
    ads.set(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [b.port])]);
    await waitFor(async () => (await get(port, '/')).upstream === 'b', 'the EDS change');

    ads.set(CLUSTER_TYPE_URL, [edsCluster('svc'), edsCluster('svc2')]);
    ads.set(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [b.port]), loadAssignment('svc2', [a.port])]);
    ads.set(ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([toCluster('/v2', 'svc2'), toCluster('/', 'svc')])]);
    await waitFor(async () => (await get(port, '/v2/x')).upstream === 'a', 'the new route');
    assert.equal((await get(port, '/other')).upstream, 'b');

    ads.set(ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([{ match: { prefix: '/' }, route: { weighted_clusters: { clusters: [{ name: 'svc', weight: 0 }, { name: 'svc2', weight: 100 }] } } }])]);
    await waitFor(async () => (await get(port, '/other')).upstream === 'a', 'the weight change');
    const answers = await mapLimit(Array.from({ length: 20 }, (_, i) => i), 4, async (i) => (await get(port, `/w${i}`)).upstream);
    assert.deepEqual(new Set(answers), new Set(['a']));
  });

  it('keeps the EDS and RDS resources a state-of-the-world response leaves out', async () => {
    ads.set(CLUSTER_TYPE_URL, [edsCluster('svc'), edsCluster('svc2')]);
    ads.set(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [a.port]), loadAssignment('svc2', [a.port])]);
    ads.set(ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([toCluster('/two', 'svc2'), toCluster('/', 'svc')])]);
    await waitFor(async () => (await get(port, '/two/x')).upstream === 'a' && (await get(port, '/')).upstream === 'a', 'both clusters on a');
    // Only svc2's assignment changes; the response carries it alone, and svc must keep its endpoints.
    ads.update(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc2', [b.port])]);
    await waitFor(async () => (await get(port, '/two/x')).upstream === 'b', 'the partial EDS update');
    assert.deepEqual(await get(port, '/'), { status: 200, upstream: 'a' });
  });

  it('NACKs a bad resource with its field path, keeps serving the old config and does not loop', async () => {
    const version = ads.set(LISTENER_TYPE_URL, [listener(port, 2)]);
    const nack = await waitFor(() => ads.requests.find((r) => r.typeUrl === LISTENER_TYPE_URL && r.errorDetail !== undefined), 'the NACK');
    assert.match(nack.errorDetail!, /^dynamic_listeners\["http"\]\.filter_chains\[1\]\.filter_chain_match: the same filter_chain_match/);
    assert.notEqual(nack.versionInfo, version, 'a NACK reports the last accepted version');
    assert.equal((await get(port, '/other')).upstream, 'a');

    const count = ads.requests.length;
    await delay(1500);
    assert.equal(ads.requests.length, count, 'nothing is re-sent after a NACK');
    const status = section(await configDump(proxy), 'XdsStatus');
    const lastNack = status['last_nack'] as { type_url: string; version_info: string; details: string };
    assert.equal(lastNack.type_url, LISTENER_TYPE_URL);
    assert.equal(lastNack.version_info, version);
    assert.match(lastNack.details, /filter_chains\[1\]/);

    // A fixed listener is accepted again.
    const fixed = ads.set(LISTENER_TYPE_URL, [listener(port)]);
    await waitFor(() => ads.requests.some((r) => r.typeUrl === LISTENER_TYPE_URL && r.versionInfo === fixed && r.errorDetail === undefined), 'the ACK of the fixed listener');
  });

  it('keeps serving while the ADS server is gone and resumes updates when it is back', async () => {
    const adsPort = ads.port;
    ads.kill();
    await waitFor(async () => section(await configDump(proxy), 'XdsStatus')['connected'] === false, 'the agent noticing the disconnect');
    for (let i = 0; i < 5; i++) assert.equal((await get(port, `/down${i}`)).status, 200);

    ads = await startAdsServer(adsPort, [
      [CLUSTER_TYPE_URL, [edsCluster('svc')]],
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [b.port])]],
      [LISTENER_TYPE_URL, [listener(port)]],
      [ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([toCluster('/', 'svc')])]],
    ]);
    await waitFor(async () => (await get(port, '/back')).upstream === 'b', 'the config of the restarted ADS server', 20_000);
    ads.set(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [a.port])]);
    await waitFor(async () => (await get(port, '/back')).upstream === 'a', 'an update after the reconnect');
  });

  it('restarts a dead xDS agent and keeps serving meanwhile', async () => {
    const pid = agentPid(proxy.child.pid!);
    assert.ok(pid !== undefined, 'the proxy runs an agent process');
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !processAlive(pid), 'the agent to die');
    assert.equal((await get(port, '/no-agent')).upstream, 'a');
    const next = await waitFor(() => agentPid(proxy.child.pid!), 'a new agent');
    assert.notEqual(next, pid);
    ads.set(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [b.port])]);
    await waitFor(async () => (await get(port, '/new-agent')).upstream === 'b', 'an update through the new agent');
  });

  it('keeps grpc and the validator out of the proxy process: RSS with and without dynamic_resources', async () => {
    const [staticPort, staticAdmin] = (await freePorts(2)) as [number, number];
    const staticProxy = await startProxy(buildBootstrap({
      adminPort: staticAdmin,
      listener: { port: staticPort, routes: [toCluster('/', 'svc')] },
      clusters: [{ name: 'svc', ports: [a.port] }],
    }));
    try {
      const load = async (p: number): Promise<void> => void (await mapLimit(Array.from({ length: 200 }, (_, i) => i), 8, (i) => get(p, `/rss${i}`)));
      await load(staticPort);
      await load(port);
      const dynamicRss = processMemory(proxy.child.pid!).rss;
      const staticRss = processMemory(staticProxy.child.pid!).rss;
      const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
      const agentRss = processMemory(agentPid(proxy.child.pid!)!).rss;
      console.log(`# proxy RSS: static ${mib(staticRss)} MiB, with dynamic_resources ${mib(dynamicRss)} MiB (xDS agent process: ${mib(agentRss)} MiB)`);
      assert.ok(dynamicRss < staticRss + 12 * 1024 * 1024, `the ADS proxy (${mib(dynamicRss)} MiB) stays within 12 MiB of the static one (${mib(staticRss)} MiB)`);
    } finally {
      await staticProxy.stop();
    }
  });
});

describe('weft proxy --workload --control-plane', () => {
  it('builds the sidecar bootstrap itself: node id and metadata name the workload, and the config comes over ADS', async () => {
    const upstream = await startUpstream(undefined, 'app');
    const [port, adminPort] = (await freePorts(2)) as [number, number];
    const ads = await startAdsServer(0, [
      [CLUSTER_TYPE_URL, [edsCluster('svc')]],
      [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, [loadAssignment('svc', [upstream.port])]],
      [LISTENER_TYPE_URL, [listener(port)]],
      [ROUTE_CONFIGURATION_TYPE_URL, [routeConfig([toCluster('/', 'svc')])]],
    ]);
    const child = spawn(WEFT_BIN, ['proxy', '--workload', 'reviews', '--namespace', 'shop', '--control-plane', `127.0.0.1:${ads.port}`, '--admin-port', String(adminPort)],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`).catch(() => undefined))?.ok, `the sidecar to be ready: ${stderr}`);
      assert.deepEqual(await get(port, '/'), { status: 200, upstream: 'app' });
      const withNode = ads.requests.filter((r) => r.node !== undefined);
      assert.equal(withNode.length, 1, 'set_node_on_first_message_only: the node goes with the first request only');
      assert.equal(withNode[0]!.node!.id, 'sidecar~reviews.shop');
      const metadata = JSON.stringify(withNode[0]!.node!.metadata);
      assert.ok(metadata.includes('reviews') && metadata.includes('shop'), `metadata names workload and namespace: ${metadata}`);
    } finally {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
      ads.kill();
      await upstream.close();
    }
  });
});
