import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYamlText } from 'yaml';
import { ConfigError } from '../../../src/lib/errors.js';
import { loadBootstrapFile, parseBootstrap, parseBootstrapText } from '../../../src/proxy/config/bootstrap.js';
import type { RouterConfig } from '../../../src/proxy/config/normalize-listener.js';
import type {
  Bootstrap, ClusterConfig, ForwardAction, HttpConnectionManagerConfig, RouteConfiguration, TcpProxyConfig,
} from '../../../src/proxy/config/types.js';
import { findHttpFilterParser } from '../../../src/proxy/filters/config-registry.js';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';
const HCM_PATH = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const ROUTE0 = `${HCM_PATH}.route_config.virtual_hosts[0].routes[0]`;
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** Envoy's quick-start (envoy-demo.yaml), with LOGICAL_DNS -> STRICT_DNS and the TLS transport socket removed. */
const QUICK_START = `
static_resources:
  listeners:
  - name: listener_0
    address:
      socket_address:
        address: 0.0.0.0
        port_value: 10000
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: ingress_http
          access_log:
          - name: envoy.access_loggers.stdout
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": ${ROUTER}
          route_config:
            name: local_route
            virtual_hosts:
            - name: local_service
              domains: ["*"]
              routes:
              - match:
                  prefix: "/"
                route:
                  host_rewrite_literal: www.envoyproxy.io
                  cluster: service_envoyproxy_io
  clusters:
  - name: service_envoyproxy_io
    type: STRICT_DNS
    # Comment out the following line to test on v6 networks
    dns_lookup_family: V4_ONLY
    load_assignment:
      cluster_name: service_envoyproxy_io
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address:
                address: www.envoyproxy.io
                port_value: 80
`;

const NO_MUTATIONS = { requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] };

function hcm(bootstrap: Bootstrap, listener = 0): HttpConnectionManagerConfig {
  const filter = bootstrap.listeners[listener]!.filterChains[0]!.filter;
  assert.equal(filter.kind, 'http');
  return filter as HttpConnectionManagerConfig;
}

function forward(routeConfig: RouteConfiguration, vhost: number, route: number): ForwardAction {
  const action = routeConfig.virtualHosts[vhost]!.routes[route]!.action;
  assert.equal(action.kind, 'forward');
  return action as ForwardAction;
}

function cluster(bootstrap: Bootstrap, name: string): ClusterConfig {
  const found = bootstrap.clusters.find((c) => c.name === name);
  assert.ok(found, `cluster ${name}`);
  return found;
}

describe('Envoy-style bootstraps load with defaults applied', () => {
  it("loads Envoy's quick-start to the exact internal config", () => {
    const bootstrap = parseBootstrapText(QUICK_START, 'envoy-demo.yaml');
    const expected: Bootstrap = {
      node: { id: '', cluster: '', metadata: {} },
      listeners: [{
        name: 'listener_0',
        address: { address: '0.0.0.0', port: 10000 },
        perConnectionBufferLimitBytes: 1048576,
        filterChains: [{ name: '', rbacFilters: [], filter: {
          kind: 'http',
          statPrefix: 'ingress_http',
          routeConfig: {
            name: 'local_route',
            ...NO_MUTATIONS,
            virtualHosts: [{
              name: 'local_service',
              domains: ['*'],
              ...NO_MUTATIONS,
              routes: [{
                match: { path: { kind: 'prefix', value: '/' }, caseSensitive: true, headers: [], queryParameters: [] },
                action: {
                  kind: 'forward',
                  cluster: 'service_envoyproxy_io',
                  hostRewriteLiteral: 'www.envoyproxy.io',
                  autoHostRewrite: false,
                  timeoutMs: 15000,
                  requestMirrorPolicies: [],
                  hashPolicy: [],
                },
                ...NO_MUTATIONS,
              }],
            }],
          },
          httpFilters: [{ name: 'envoy.filters.http.router', typeUrl: ROUTER, config: { suppressEnvoyHeaders: false } }],
          accessLog: [{ path: '/dev/stdout' }],
          idleTimeoutMs: 3600000,
          streamIdleTimeoutMs: 300000,
          requestTimeoutMs: 0,
          requestHeadersTimeoutMs: 0,
          drainTimeoutMs: 5000,
          maxRequestHeadersKb: 60,
          maxHeadersCount: 100,
          useRemoteAddress: false,
          xffNumTrustedHops: 0,
          skipXffAppend: false,
          generateRequestId: true,
          serverName: 'weft',
          serverHeaderTransformation: 'OVERWRITE',
          upgradeTypes: [],
        } }],
        tlsInspector: false,
      }],
      clusters: [{
        name: 'service_envoyproxy_io',
        type: 'STRICT_DNS',
        connectTimeoutMs: 5000,
        lbPolicy: 'ROUND_ROBIN',
        leastRequestChoiceCount: 2,
        ringHash: { minimumRingSize: 1024, maximumRingSize: 8388608 },
        endpoints: [{ address: 'www.envoyproxy.io', port: 80, weight: 1, healthCheckPort: 0, hostname: 'www.envoyproxy.io' }],
        dnsRefreshRateMs: 5000,
        dnsLookupFamily: 'V4_ONLY',
        circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
        healthChecks: [],
        idleTimeoutMs: 3600000,
        maxRequestsPerConnection: 0,
        perConnectionBufferLimitBytes: 1048576,
      }],
      secrets: [],
      source: parseYamlText(QUICK_START),
    };
    assert.deepStrictEqual(bootstrap, expected);
  });

  it("accepts the quick-start's LOGICAL_DNS cluster as written", () => {
    const original = QUICK_START.replace('type: STRICT_DNS', 'type: LOGICAL_DNS');
    assert.equal(parseBootstrapText(original, 'envoy-demo.yaml').clusters[0]!.type, 'LOGICAL_DNS');
  });

  it('rejects an unsupported cluster type by path', () => {
    const original = QUICK_START.replace('type: STRICT_DNS', 'type: ORIGINAL_DST');
    assert.throws(() => parseBootstrapText(original, 'envoy-demo.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.path, 'static_resources.clusters[0].type');
      assert.equal(err.reason, 'unsupported value "ORIGINAL_DST"; supported: STATIC, STRICT_DNS, LOGICAL_DNS, EDS');
      assert.equal(err.message, 'envoy-demo.yaml: static_resources.clusters[0].type: unsupported value "ORIGINAL_DST"; supported: STATIC, STRICT_DNS, LOGICAL_DNS, EDS');
      return true;
    });
  });

  it('loads a front proxy with retries, breakers, outlier detection and health checks', async () => {
    const bootstrap = await loadBootstrapFile(join(REPO_ROOT, 'samples/bootstrap/front-proxy.yaml'));
    assert.deepStrictEqual(bootstrap.node, { id: 'front-proxy-1', cluster: 'front-proxy', metadata: {} });
    assert.deepStrictEqual(bootstrap.admin, { address: { address: '127.0.0.1', port: 9901 } });
    const manager = hcm(bootstrap);
    assert.equal(manager.useRemoteAddress, true);
    assert.equal(manager.idleTimeoutMs, 300_000);
    assert.equal(manager.streamIdleTimeoutMs, 60_000);
    assert.equal(manager.requestHeadersTimeoutMs, 10_000);
    assert.equal(manager.accessLog[0]!.path, '/dev/stdout');
    assert.equal(manager.accessLog[0]!.jsonFormat!['response_code'], '%RESPONSE_CODE%');
    const vhost = manager.routeConfig.virtualHosts[0]!;
    assert.deepStrictEqual(vhost.retryPolicy, {
      retryOn: ['5xx', 'connect-failure', 'reset'],
      numRetries: 2,
      perTryTimeoutMs: 2000,
      retriableStatusCodes: [],
      backOff: { baseIntervalMs: 25, maxIntervalMs: 250 },
    });
    assert.equal(forward(manager.routeConfig, 0, 0).retryPolicy, undefined, 'the route falls back to the virtual host policy');
    assert.deepStrictEqual(forward(manager.routeConfig, 0, 1).retryPolicy, {
      retryOn: ['gateway-error', 'retriable-status-codes'],
      numRetries: 3,
      perTryTimeoutMs: 0,
      retriableStatusCodes: [409],
      backOff: { baseIntervalMs: 50, maxIntervalMs: 1000 },
    });

    const service1 = cluster(bootstrap, 'service1');
    assert.equal(service1.connectTimeoutMs, 250);
    assert.deepStrictEqual(service1.circuitBreakers, {
      maxConnections: 512,
      maxPendingRequests: 256,
      maxRequests: 1024,
      maxRetries: 3,
      retryBudget: { budgetPercent: 25, minRetryConcurrency: 5 },
    });
    assert.deepStrictEqual(service1.outlierDetection, {
      consecutive5xx: 3,
      consecutiveGatewayFailure: 5,
      intervalMs: 5000,
      baseEjectionTimeMs: 15000,
      maxEjectionTimeMs: 300000,
      maxEjectionPercent: 50,
      enforcingConsecutive5xx: 100,
      enforcingConsecutiveGatewayFailure: 0,
      splitExternalLocalOriginErrors: false,
    });
    assert.deepStrictEqual(service1.healthChecks, [{
      timeoutMs: 1000,
      intervalMs: 5000,
      intervalJitterMs: 0,
      unhealthyThreshold: 2,
      healthyThreshold: 1,
      noTrafficIntervalMs: 5000,
      http: { path: '/healthz', expectedStatuses: [[200, 300]], requestHeadersToAdd: [] },
    }]);

    const service2 = cluster(bootstrap, 'service2');
    assert.equal(service2.lbPolicy, 'LEAST_REQUEST');
    assert.equal(service2.leastRequestChoiceCount, 3);
    assert.equal(service2.idleTimeoutMs, 30_000);
    assert.equal(service2.maxRequestsPerConnection, 1000);
    assert.deepStrictEqual(service2.endpoints.map((e) => [e.address, e.weight]), [['service2-a', 1], ['service2-b', 2]]);
  });

  it('loads TCP proxies with a single cluster and weighted clusters', async () => {
    const bootstrap = await loadBootstrapFile(join(REPO_ROOT, 'samples/bootstrap/tcp-proxy.yaml'));
    assert.deepStrictEqual(bootstrap.admin, { address: { address: '127.0.0.1', port: 9901 }, accessLogPath: '/dev/null' });
    const [postgres, redis] = bootstrap.listeners.map((l) => l.filterChains[0]!.filter as TcpProxyConfig);
    assert.equal(bootstrap.listeners[0]!.perConnectionBufferLimitBytes, 32768);
    assert.deepStrictEqual(postgres, {
      kind: 'tcp',
      statPrefix: 'postgres',
      cluster: 'postgres_replicas',
      idleTimeoutMs: 600_000,
      maxConnectAttempts: 3,
      accessLog: [{
        path: '/var/log/weft/tcp.log',
        textFormat: '[%START_TIME%] %DOWNSTREAM_REMOTE_ADDRESS% -> %UPSTREAM_HOST% %BYTES_SENT%/%BYTES_RECEIVED%\n',
      }],
    });
    assert.deepStrictEqual(redis!.weightedClusters, [
      { name: 'redis_stable', weight: 90, ...NO_MUTATIONS },
      { name: 'redis_canary', weight: 10, ...NO_MUTATIONS },
    ]);
    assert.equal(redis!.idleTimeoutMs, 3_600_000);
    assert.equal(redis!.maxConnectAttempts, 1);
    const replicas = cluster(bootstrap, 'postgres_replicas');
    assert.deepStrictEqual(replicas.endpoints.map((e) => e.healthCheckPort), [8008, 8008]);
    assert.deepStrictEqual(replicas.healthChecks[0], {
      timeoutMs: 2000, intervalMs: 10000, intervalJitterMs: 1000, unhealthyThreshold: 3, healthyThreshold: 2, noTrafficIntervalMs: 30000,
      tcp: { receive: [] },
    });
    assert.deepStrictEqual(cluster(bootstrap, 'redis_stable').healthChecks[0]!.tcp, {
      send: Buffer.from('PING\r\n'),
      receive: [Buffer.from('+PONG')],
    });
    assert.equal(cluster(bootstrap, 'redis_canary').dnsRefreshRateMs, 30_000);
  });

  it('loads every supported HTTP route feature', async () => {
    const bootstrap = await loadBootstrapFile(join(REPO_ROOT, 'samples/bootstrap/http-routing.yaml'));
    assert.deepStrictEqual(bootstrap.node.metadata, { team: 'platform' });
    assert.equal(bootstrap.admin!.accessLogPath, '/dev/null');
    const manager = hcm(bootstrap);
    assert.equal(manager.maxHeadersCount, 80);
    assert.equal(manager.maxRequestHeadersKb, 96);
    assert.equal(manager.serverName, 'demo');
    assert.equal(manager.serverHeaderTransformation, 'APPEND_IF_ABSENT');
    assert.deepStrictEqual(manager.upgradeTypes, ['websocket']);
    assert.deepStrictEqual(manager.httpFilters[0]!.config as RouterConfig, { suppressEnvoyHeaders: true });
    const routes = manager.routeConfig;
    assert.deepStrictEqual(routes.requestHeadersToAdd, [{ key: 'x-routed-by', value: 'weft', appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    assert.deepStrictEqual(routes.responseHeadersToRemove, ['x-powered-by']);

    const [redirects, api, catchAll] = routes.virtualHosts;
    assert.deepStrictEqual(redirects!.routes[0]!.action, {
      kind: 'redirect', schemeRedirect: 'https', hostRedirect: 'www.example.com', responseCode: 308, stripQuery: false,
    });
    assert.deepStrictEqual(api!.responseHeadersToAdd, [{ key: 'cache-control', value: 'no-store', appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' }]);
    assert.deepStrictEqual(api!.routes[0]!.action, { kind: 'direct', status: 200, body: Buffer.from('ok\n') });

    const canary = api!.routes[1]!;
    assert.deepStrictEqual(canary.match.headers, [{ name: 'x-canary', match: { kind: 'exact', value: 'true', ignoreCase: false }, invert: false, treatMissingAsEmpty: false }]);
    assert.deepStrictEqual(canary.match.queryParameters, [{ name: 'debug', present: true }]);
    assert.deepStrictEqual(forward(routes, 1, 1).weightedClusters, [
      { name: 'users_v1', weight: 75, ...NO_MUTATIONS },
      { name: 'users_v2', weight: 25, ...NO_MUTATIONS, requestHeadersToAdd: [{ key: 'x-version', value: 'v2', appendAction: 'APPEND_IF_EXISTS_OR_ADD' }] },
    ]);

    const users = api!.routes[2]!;
    assert.deepStrictEqual(users.match.path, { kind: 'path_separated_prefix', value: '/users' });
    assert.equal(users.match.caseSensitive, false);
    const usersAction = forward(routes, 1, 2);
    assert.equal(usersAction.prefixRewrite, '/v1/users');
    assert.equal(usersAction.timeoutMs, 2500);
    assert.equal(usersAction.idleTimeoutMs, 30_000);
    assert.deepStrictEqual(usersAction.requestMirrorPolicies, [{ cluster: 'users_shadow', fraction: 0.05 }]);

    const orders = api!.routes[3]!;
    assert.deepStrictEqual(orders.match.path, { kind: 'regex', regex: '^/orders/[0-9]+$' });
    assert.deepStrictEqual(orders.match.headers.map((h) => [h.name, h.match ?? h.range ?? h.present, h.invert]), [
      [':method', { kind: 'exact', value: 'GET', ignoreCase: false }, false],
      ['content-length', { start: 0, end: 1048576 }, false],
      ['x-debug', true, true],
    ]);
    const ordersAction = forward(routes, 1, 3);
    assert.deepStrictEqual(ordersAction.regexRewrite, { regex: '^/orders/([0-9]+)$', substitution: '/v2/orders/\\1' });
    assert.deepStrictEqual(ordersAction.hashPolicy, [
      { kind: 'header', headerName: 'x-user-id', terminal: true },
      { kind: 'cookie', name: 'session', terminal: false },
      { kind: 'source_ip', terminal: false },
    ]);
    assert.equal(ordersAction.retryPolicy!.perTryTimeoutMs, 500);

    const dynamic = forward(routes, 1, 4);
    assert.equal(dynamic.clusterHeader, 'x-target-cluster');
    assert.equal(dynamic.cluster, undefined);
    assert.equal(dynamic.hostRewriteLiteral, 'internal.example.com');
    assert.deepStrictEqual(api!.routes[5]!.responseHeadersToAdd, [{ key: 'x-discount', value: '10%', appendAction: 'APPEND_IF_EXISTS_OR_ADD' }]);
    assert.deepStrictEqual(api!.routes[5]!.action, { kind: 'direct', status: 404, body: Buffer.from('not found\n') });

    const fallback = forward(routes, 2, 0);
    assert.equal(catchAll!.name, 'catch_all');
    assert.equal(fallback.autoHostRewrite, true);
    assert.equal(fallback.timeoutMs, 0, '0s disables the route timeout');

    const ordersCluster = cluster(bootstrap, 'orders');
    assert.deepStrictEqual(ordersCluster.ringHash, { minimumRingSize: 512, maximumRingSize: 65536 });
    assert.equal(ordersCluster.maxRequestsPerConnection, 100);
    assert.equal(ordersCluster.perConnectionBufferLimitBytes, 65536);
    assert.equal(ordersCluster.endpoints[0]!.hostname, 'orders.internal');
    assert.equal(cluster(bootstrap, 'users_shadow').endpoints[0]!.address, '::1');
  });

  it('every sample in samples/bootstrap loads', async () => {
    const dir = join(REPO_ROOT, 'samples/bootstrap');
    const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f));
    assert.ok(files.length >= 3);
    for (const file of files) {
      const bootstrap = await loadBootstrapFile(join(dir, file));
      assert.ok(bootstrap.listeners.length > 0, file);
    }
  });

  it("accepts a router named without typed_config, as Envoy's own envoy-demo.yaml writes it", () => {
    const text = QUICK_START.replace(`            typed_config:\n              "@type": ${ROUTER}\n`, '');
    assert.doesNotMatch(text, /router\.v3\.Router/);
    const router = [{ name: 'envoy.filters.http.router', typeUrl: ROUTER, config: { suppressEnvoyHeaders: false } }];
    assert.deepEqual(hcm(parseBootstrapText(text, 'envoy-demo.yaml')).httpFilters, router);
    // An empty Any is the same as none.
    const empty = QUICK_START.replace(`            typed_config:\n              "@type": ${ROUTER}\n`, '            typed_config: {}\n');
    assert.deepEqual(hcm(parseBootstrapText(empty, 'envoy-demo.yaml')).httpFilters, router);
  });

  it('accepts JSON, which is YAML', () => {
    const json = JSON.stringify(parseYamlText(QUICK_START), null, 2);
    assert.deepStrictEqual(parseBootstrapText(json, 'envoy-demo.json'), parseBootstrapText(QUICK_START, 'envoy-demo.yaml'));
  });

  it('passes an HTTP filter config to its registered factory, without @type', () => {
    const parser = findHttpFilterParser(FAULT);
    assert.ok(parser, 'the fault filter is registered');
    const doc = base();
    hcmDoc(doc)['http_filters'] = [
      { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT, abort: { http_status: 503, percentage: { numerator: 10 } } } },
      { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } },
    ];
    const filters = hcm(parseBootstrap(doc)).httpFilters;
    assert.deepStrictEqual(filters.map((f) => [f.name, f.typeUrl]), [['envoy.filters.http.fault', FAULT], ['envoy.filters.http.router', ROUTER]]);
    assert.deepStrictEqual(filters[0]!.config, parser.parseConfig({ abort: { http_status: 503, percentage: { numerator: 10 } } }, 'x'));
  });

  it('normalizes header options: legacy append, keep_empty_value, %% and lower-cased removals', () => {
    const doc = base();
    Object.assign(routeDoc(doc), {
      request_headers_to_add: [
        { header: { key: 'X-A', value: '1' }, append: true },
        { header: { key: 'x-b', value: '50%%' }, append: false },
        { header: { key: 'x-empty', value: '' } },
        { header: { key: 'x-kept' }, keep_empty_value: true, append_action: 'ADD_IF_ABSENT' },
      ],
      request_headers_to_remove: ['X-Internal-Token'],
    });
    const route = hcm(parseBootstrap(doc)).routeConfig.virtualHosts[0]!.routes[0]!;
    assert.deepStrictEqual(route.requestHeadersToAdd, [
      { key: 'X-A', value: '1', appendAction: 'APPEND_IF_EXISTS_OR_ADD' },
      { key: 'x-b', value: '50%', appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD' },
      { key: 'x-kept', value: '', appendAction: 'ADD_IF_ABSENT' },
    ]);
    assert.deepStrictEqual(route.requestHeadersToRemove, ['x-internal-token']);
  });

  it('reads a direct response body from a file at load', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-config-'));
    t.after(() => rm(dir, { recursive: true }));
    const file = join(dir, 'maintenance.html');
    await writeFile(file, '<h1>back soon</h1>');
    const doc = base();
    routeDoc(doc)['direct_response'] = { status: 503, body: { filename: file } };
    delete routeDoc(doc)['route'];
    assert.deepStrictEqual(hcm(parseBootstrap(doc)).routeConfig.virtualHosts[0]!.routes[0]!.action, {
      kind: 'direct', status: 503, body: Buffer.from('<h1>back soon</h1>'),
    });
  });

  it("caps a direct response body at Envoy's 4096 bytes unless max_direct_response_body_size_bytes raises it", () => {
    const doc = base();
    routeDoc(doc)['direct_response'] = { status: 200, body: { inline_string: 'x'.repeat(4097) } };
    delete routeDoc(doc)['route'];
    assert.throws(() => parseBootstrap(doc), (err: unknown) => err instanceof ConfigError
      && err.path === `${ROUTE0}.direct_response.body`
      && err.reason === "response body size is 4097 bytes; maximum is 4096 (raise the route config's max_direct_response_body_size_bytes)");
    at(hcmDoc(doc), 'route_config')['max_direct_response_body_size_bytes'] = 8192;
    const action = hcm(parseBootstrap(doc)).routeConfig.virtualHosts[0]!.routes[0]!.action;
    assert.equal(action.kind === 'direct' ? action.body?.length : 0, 4097);
  });

  it('maps admin stdout access_log and header/query matcher defaults', () => {
    const doc = base();
    doc['admin'] = {
      address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
      access_log: [{ name: 'envoy.access_loggers.stdout', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog' } }],
    };
    routeDoc(doc)['match'] = { prefix: '/', headers: [{ name: 'X-Present' }], query_parameters: [{ name: 'q', string_match: { prefix: 'a', ignore_case: true } }] };
    const bootstrap = parseBootstrap(doc);
    assert.deepStrictEqual(bootstrap.admin, { address: { address: '127.0.0.1', port: 0 }, accessLogPath: '/dev/stdout' });
    const match = hcm(bootstrap).routeConfig.virtualHosts[0]!.routes[0]!.match;
    assert.deepStrictEqual(match.headers, [{ name: 'x-present', present: true, invert: false, treatMissingAsEmpty: false }]);
    assert.deepStrictEqual(match.queryParameters, [{ name: 'q', match: { kind: 'prefix', value: 'a', ignoreCase: true } }]);
  });
});

describe('durations', () => {
  const cases: Array<[unknown, number]> = [
    ['1.5s', 1500],
    ['0.250s', 250],
    ['0s', 0],
    ['3600s', 3_600_000],
    ['0.0001s', 1],
    ['2.000000001s', 2001],
    [{ seconds: 2, nanos: 500_000_000 }, 2500],
    [{ seconds: 7 }, 7000],
    [{ nanos: 1 }, 1],
    [{}, 0],
  ];
  for (const [value, ms] of cases) {
    it(`${JSON.stringify(value)} is ${ms} ms`, () => {
      const doc = base();
      forwardDoc(doc)['timeout'] = value;
      assert.equal(forward(hcm(parseBootstrap(doc)).routeConfig, 0, 0).timeoutMs, ms);
    });
  }

  const bad: Array<[unknown, RegExp]> = [
    ['5', /^invalid duration "5": expected seconds with an "s" suffix/],
    ['1m', /^invalid duration "1m"/],
    ['1.5 s', /^invalid duration "1.5 s"/],
    ['0.1234567891s', /^invalid duration/],
    ['-1s', /must not be negative/],
    [5, /^invalid duration 5: expected a string like "1.5s" or \{seconds, nanos\}$/],
    [{ seconds: -1 }, /seconds must be a non-negative integer/],
    [{ seconds: 1.5 }, /seconds must be a non-negative integer/],
    [{ nanos: 1_000_000_000 }, /nanos must be an integer in 0..999999999/],
    [{ minutes: 1 }, /unknown field "minutes"/],
    ['2147484s', /too long: at most 2147483.647s/],
  ];
  for (const [value, reason] of bad) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      rejects((doc) => { forwardDoc(doc)['timeout'] = value; }, `${ROUTE0}.route.timeout`, reason);
    });
  }

  it('rejects 0s where Envoy requires a positive duration', () => {
    rejects((doc) => { clusterDoc(doc)['connect_timeout'] = '0s'; }, 'static_resources.clusters[0].connect_timeout', 'must be greater than 0s');
  });
});

// ---------------------------------------------------------------------------
// Rejections: each names the exact path and a readable reason.

type Doc = Record<string, unknown>;

const BASE_YAML = `
node: { id: test, cluster: test }
static_resources:
  listeners:
  - name: http
    address: { socket_address: { address: 127.0.0.1, port_value: 8080 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": ${HCM}
          stat_prefix: http
          http_filters:
          - name: envoy.filters.http.router
            typed_config: { "@type": ${ROUTER} }
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: web }
  - name: tcp
    address: { socket_address: { address: 127.0.0.1, port_value: 9090 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: web
  clusters:
  - name: web
    connect_timeout: 1s
    load_assignment:
      cluster_name: web
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 8000 } } }
  - name: api
    type: STRICT_DNS
    load_assignment:
      cluster_name: api
      endpoints: []
`;

function base(): Doc {
  return parseYamlText(BASE_YAML) as Doc;
}
/** Navigates the untyped document to the object a case mutates. */
const at = (value: unknown, ...keys: Array<string | number>): Doc =>
  keys.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], value) as Doc;
const hcmDoc = (doc: Doc) => at(doc, 'static_resources', 'listeners', 0, 'filter_chains', 0, 'filters', 0, 'typed_config');
const tcpDoc = (doc: Doc) => at(doc, 'static_resources', 'listeners', 1, 'filter_chains', 0, 'filters', 0, 'typed_config');
const vhostDoc = (doc: Doc) => at(hcmDoc(doc), 'route_config', 'virtual_hosts', 0);
const routeDoc = (doc: Doc) => at(vhostDoc(doc), 'routes', 0);
const forwardDoc = (doc: Doc) => at(routeDoc(doc), 'route');
const clusterDoc = (doc: Doc, i = 0) => at(doc, 'static_resources', 'clusters', i);

function rejects(mutate: (doc: Doc) => void, path: string, reason: string | RegExp): void {
  const doc = base();
  mutate(doc);
  assert.throws(() => parseBootstrap(doc), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.path, path);
    if (typeof reason === 'string') assert.equal(err.reason, reason);
    else assert.match(err.reason, reason);
    assert.equal(err.code, 'WEFT_ERR_CONFIG');
    return true;
  });
}

describe('rejected configs name the field and the reason', () => {
  it('the base config itself is valid', () => {
    assert.equal(parseBootstrap(base()).listeners.length, 2);
  });

  const cases: Array<[string, (doc: Doc) => void, string, string | RegExp]> = [
    ['unknown top-level field', (d) => { d['statsd'] = {}; }, 'statsd', 'unknown field'],
    ['dynamic_resources without api_type', (d) => { d['dynamic_resources'] = { ads_config: {} }; }, 'dynamic_resources.ads_config.api_type', 'required field is missing'],
    ['delta ADS', (d) => { d['dynamic_resources'] = { ads_config: { api_type: 'DELTA_GRPC', grpc_services: [] } }; }, 'dynamic_resources.ads_config.api_type', 'unsupported value "DELTA_GRPC"; supported: GRPC'],
    ['layered_runtime', (d) => { d['layered_runtime'] = { layers: [] }; }, 'layered_runtime', 'not supported yet'],
    ['document is not a map', (d) => { for (const k of Object.keys(d)) delete d[k]; Object.assign(d, { node: [] }); }, 'node', 'expected object, got array'],
    ['unknown field in the HCM', (d) => { hcmDoc(d)['foo'] = 1; }, `${HCM_PATH}.foo`, 'unknown field'],
    ['unknown field in a route match', (d) => { at(routeDoc(d), 'match')['grpc_foo'] = {}; }, `${ROUTE0}.match.grpc_foo`, 'unknown field'],
    ['unknown field in an endpoint', (d) => { at(clusterDoc(d), 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint')['foo'] = 1; },
      'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.foo', 'unknown field'],
    ['unknown field in the router config', (d) => { at(hcmDoc(d), 'http_filters', 0, 'typed_config')['start_child_spans'] = true; },
      `${HCM_PATH}.http_filters[0].typed_config.start_child_spans`, 'unknown field'],
    ['port as a string', (d) => { at(d, 'static_resources', 'listeners', 0, 'address', 'socket_address')['port_value'] = '8080'; },
      'static_resources.listeners[0].address.socket_address.port_value', 'expected integer, got "8080"'],
    ['port out of range', (d) => { at(d, 'static_resources', 'listeners', 0, 'address', 'socket_address')['port_value'] = 70000; },
      'static_resources.listeners[0].address.socket_address.port_value', 'must be <= 65535, got number 70000'],
    ['listener on a hostname', (d) => { at(d, 'static_resources', 'listeners', 0, 'address', 'socket_address')['address'] = 'localhost'; },
      'static_resources.listeners[0].address.socket_address.address', 'must be an IP address to listen on (e.g. 0.0.0.0, 127.0.0.1, ::), got "localhost"'],
    ['listener on a malformed IP', (d) => { at(d, 'static_resources', 'listeners', 0, 'address', 'socket_address')['address'] = '999.1.1.1'; },
      'static_resources.listeners[0].address.socket_address.address', /^must be an IP address to listen on .*got "999\.1\.1\.1"$/],
    ['admin on a hostname', (d) => { d['admin'] = { address: { socket_address: { address: 'admin.local', port_value: 9901 } } }; },
      'admin.address.socket_address.address', /^must be an IP address to listen on .*got "admin\.local"$/],
    ['a tuned HTTP/1 option of the HCM', (d) => { hcmDoc(d)['http_protocol_options'] = { accept_http_10: true }; },
      `${HCM_PATH}.http_protocol_options.accept_http_10`, 'not supported yet'],
    ['a tuned HTTP/2 option of a cluster', (d) => {
      clusterDoc(d)['typed_extension_protocol_options'] = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: { initial_stream_window_size: 65536 } } } };
    }, 'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http2_protocol_options.initial_stream_window_size', 'not supported yet'],
    ['the v2 host_rewrite', (d) => { forwardDoc(d)['host_rewrite'] = 'example.com'; }, `${ROUTE0}.route.host_rewrite`, 'removed in Envoy v3; use host_rewrite_literal'],
    ['removing a pseudo-header', (d) => { routeDoc(d)['request_headers_to_remove'] = [':path']; },
      `${ROUTE0}.request_headers_to_remove[0]`, '":path" is a pseudo-header, which cannot be added or removed'],
    ['HTTP filter config without @type', (d) => { at(hcmDoc(d), 'http_filters', 0)['typed_config'] = { suppress_envoy_headers: true }; },
      `${HCM_PATH}.http_filters[0].typed_config.@type`, 'required field is missing'],
    ['bad lb_policy', (d) => { clusterDoc(d, 1)['lb_policy'] = 'MAGLEV'; }, 'static_resources.clusters[1].lb_policy',
      'unsupported value "MAGLEV"; supported: ROUND_ROBIN, LEAST_REQUEST, RING_HASH, RANDOM'],
    ['bad codec_type', (d) => { hcmDoc(d)['codec_type'] = 'HTTP2'; }, `${HCM_PATH}.codec_type`, 'unsupported value "HTTP2"; supported: AUTO, HTTP1'],
    ['negative threshold', (d) => { clusterDoc(d)['circuit_breakers'] = { thresholds: [{ max_connections: -1 }] }; },
      'static_resources.clusters[0].circuit_breakers.thresholds[0].max_connections', 'must be >= 0, got number -1'],
    ['HIGH priority thresholds', (d) => { clusterDoc(d)['circuit_breakers'] = { thresholds: [{ priority: 'HIGH' }] }; },
      'static_resources.clusters[0].circuit_breakers.thresholds[0].priority', 'unsupported value "HIGH"; supported: DEFAULT'],
    ['non-XX_HASH ring hash', (d) => { Object.assign(clusterDoc(d), { lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }); },
      'static_resources.clusters[0].ring_hash_lb_config.hash_function', 'unsupported value "MURMUR_HASH_2"; supported: XX_HASH'],
    ['bad duration', (d) => { clusterDoc(d)['connect_timeout'] = '250ms'; }, 'static_resources.clusters[0].connect_timeout', /^invalid duration "250ms"/],
    ['missing stat_prefix', (d) => { delete hcmDoc(d)['stat_prefix']; }, `${HCM_PATH}.stat_prefix`, 'required field is missing'],
    ['missing router', (d) => { hcmDoc(d)['http_filters'] = []; }, `${HCM_PATH}.http_filters`, `the router filter (@type ${ROUTER}) is required as the last filter`],
    ['router not last', (d) => { (hcmDoc(d)['http_filters'] as unknown[]).push({ name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT, abort: { http_status: 503 } } }); },
      `${HCM_PATH}.http_filters[0]`, 'the router filter must be the last HTTP filter'],
    ['router twice', (d) => { const f = hcmDoc(d)['http_filters'] as unknown[]; f.push(f[0]); }, `${HCM_PATH}.http_filters[1]`, 'the router filter may appear only once'],
    ['unknown HTTP filter', (d) => { (hcmDoc(d)['http_filters'] as unknown[]).unshift({ name: 'envoy.filters.http.lua', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } }); },
      `${HCM_PATH}.http_filters[0].typed_config.@type`, /^unknown HTTP filter @type "type.googleapis.com\/envoy.extensions.filters.http.lua.v3.Lua"; supported: .*Router/],
    ['HTTP filter unknown by name without typed_config', (d) => { const f = at(hcmDoc(d), 'http_filters', 0); f['name'] = 'envoy.filters.http.cors'; delete f['typed_config']; },
      `${HCM_PATH}.http_filters[0].typed_config`, /^required field is missing: only a filter named envoy\.filters\.http\.router, envoy\.filters\.http\.fault, .* may omit it$/],
    ['unknown network filter', (d) => { at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0, 'filters', 0)['typed_config'] = { '@type': 'type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy' }; },
      `${HCM_PATH}.@type`, /^unsupported @type "type.googleapis.com\/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy"; supported: .*HttpConnectionManager, .*TcpProxy, .*network\.rbac\.v3\.RBAC$/],
    ['unknown cluster in a route', (d) => { forwardDoc(d)['cluster'] = 'nope'; }, `${ROUTE0}.route.cluster`, 'unknown cluster "nope"'],
    ['unknown cluster in a weighted route', (d) => { routeDoc(d)['route'] = { weighted_clusters: { clusters: [{ name: 'web', weight: 1 }, { name: 'nope', weight: 1 }] } }; },
      `${ROUTE0}.route.weighted_clusters.clusters[1].name`, 'unknown cluster "nope"'],
    ['unknown cluster in a mirror', (d) => { forwardDoc(d)['request_mirror_policies'] = [{ cluster: 'shadow' }]; },
      `${ROUTE0}.route.request_mirror_policies[0].cluster`, 'unknown cluster "shadow"'],
    ['unknown cluster in tcp_proxy', (d) => { tcpDoc(d)['cluster'] = 'db'; },
      'static_resources.listeners[1].filter_chains[0].filters[0].typed_config.cluster', 'unknown cluster "db"'],
    ['zero total weight', (d) => { routeDoc(d)['route'] = { weighted_clusters: { clusters: [{ name: 'web', weight: 0 }, { name: 'api' }] } }; },
      `${ROUTE0}.route.weighted_clusters.clusters`, 'the weights must add up to more than 0'],
    ['total_weight not the sum', (d) => { routeDoc(d)['route'] = { weighted_clusters: { total_weight: 100, clusters: [{ name: 'web', weight: 30 }, { name: 'api', weight: 30 }] } }; },
      `${ROUTE0}.route.weighted_clusters.total_weight`, '(deprecated) must equal the sum of the weights, 60, or be omitted'],
    ['duplicate cluster names', (d) => { clusterDoc(d, 1)['name'] = 'web'; }, 'static_resources.clusters[1].name', 'duplicate cluster name "web" (also static_resources.clusters[0])'],
    ['duplicate listener names', (d) => { at(d, 'static_resources', 'listeners', 1)['name'] = 'http'; }, 'static_resources.listeners[1].name',
      'duplicate listener name "http" (also static_resources.listeners[0])'],
    ['two listeners on one address', (d) => { at(d, 'static_resources', 'listeners', 1, 'address', 'socket_address')['port_value'] = 8080; },
      'static_resources.listeners[1].address', '127.0.0.1:8080 is already used by static_resources.listeners[0]'],
    ['bad route regex', (d) => { routeDoc(d)['match'] = { safe_regex: { regex: '^/(a' } }; },
      `${ROUTE0}.match.safe_regex.regex`, /^invalid regex "\^\/\(a": /],
    ['bad header regex', (d) => { at(routeDoc(d), 'match')['headers'] = [{ name: 'x', string_match: { safe_regex: { regex: '[' } } }]; },
      `${ROUTE0}.match.headers[0].string_match.safe_regex.regex`, /^invalid regex "\[": /],
    ['route with two actions', (d) => { routeDoc(d)['direct_response'] = { status: 200 }; }, ROUTE0, 'only one of route, direct_response may be set'],
    ['match without a path specifier', (d) => { routeDoc(d)['match'] = { headers: [] }; }, `${ROUTE0}.match`, 'exactly one of prefix, path, safe_regex, path_separated_prefix is required'],
    ['bad retry_on token', (d) => { forwardDoc(d)['retry_policy'] = { retry_on: '5xx, cancelled' }; }, `${ROUTE0}.route.retry_policy.retry_on`,
      'unsupported value "cancelled"; supported: 5xx, gateway-error, reset, connect-failure, retriable-status-codes, refused-stream, retriable-4xx'],
    ['header value with a substitution', (d) => { routeDoc(d)['request_headers_to_add'] = [{ header: { key: 'x-client', value: 'ip=%DOWNSTREAM_REMOTE_ADDRESS%' } }]; },
      `${ROUTE0}.request_headers_to_add[0].header.value`, 'Envoy substitution %DOWNSTREAM_REMOTE_ADDRESS% is not supported yet; only literal values are (write a literal % as %%)'],
    ['duplicate domains', (d) => { (at(hcmDoc(d), 'route_config')['virtual_hosts'] as unknown[]).push({ name: 'two', domains: ['a', '*'] }); },
      `${HCM_PATH}.route_config.virtual_hosts[1].domains[1]`, 'duplicate domain "*" (also in virtual_hosts[0])'],
    ['rds without dynamic_resources', (d) => { delete hcmDoc(d)['route_config']; hcmDoc(d)['rds'] = { config_source: { ads: {} }, route_config_name: 'r' }; },
      `${HCM_PATH}.rds`, 'needs dynamic_resources.ads_config: the route config comes from the ADS server'],
    ['rds from a file', (d) => { hcmDoc(d)['rds'] = { config_source: { path: '/r.yaml' }, route_config_name: 'r' }; },
      `${HCM_PATH}.rds.config_source.ads`, 'required field is missing'],
    ['no route_config', (d) => { delete hcmDoc(d)['route_config']; }, HCM_PATH, 'exactly one of route_config, rds is required'],
    ['EDS without dynamic_resources', (d) => { const c = clusterDoc(d); delete c['load_assignment']; c['type'] = 'EDS'; c['eds_cluster_config'] = { eds_config: { ads: {} } }; },
      'static_resources.clusters[0].type', 'EDS needs dynamic_resources.ads_config: the endpoints come from the ADS server'],
    ['transport_socket without typed_config on a cluster', (d) => { clusterDoc(d)['transport_socket'] = { name: 'envoy.transport_sockets.tls' }; },
      'static_resources.clusters[0].transport_socket.typed_config', 'required field is missing'],
    ['transport_socket with a certificate that is not PEM', (d) => {
      at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['transport_socket'] = { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', common_tls_context: { tls_certificates: [{ certificate_chain: { inline_string: 'nope' } }] } } };
    }, 'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificates[0].certificate_chain', 'expected certificates in PEM format'],
    ['transport_socket naming an unknown static secret', (d) => {
      at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['transport_socket'] = { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext', common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'cert' }] } } };
    }, 'static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_certificate_sds_secret_configs[0].name', /^unknown secret "cert"/],
    ['transport_socket with an unsupported TLS field', (d) => {
      clusterDoc(d)['transport_socket'] = { name: 'tls', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', common_tls_context: { tls_params: { cipher_suites: ['A'] } } } };
    }, 'static_resources.clusters[0].transport_socket.typed_config.common_tls_context.tls_params.cipher_suites', 'not supported yet'],
    ['http2_protocol_options', (d) => { clusterDoc(d)['http2_protocol_options'] = {}; }, 'static_resources.clusters[0].http2_protocol_options', /only the ADS cluster .* may use HTTP\/2/],
    ['explicit HTTP/2 upstream', (d) => { clusterDoc(d)['typed_extension_protocol_options'] = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } }; },
      'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].explicit_http_config.http2_protocol_options', /only the ADS cluster .* may use HTTP\/2/],
    ['filter_chain_match on server_names', (d) => { at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['filter_chain_match'] = { server_names: ['a'] }; },
      'static_resources.listeners[0].filter_chains[0].filter_chain_match.server_names', 'not supported yet'],
    ['two filter chains with the same match', (d) => { const chains = at(d, 'static_resources', 'listeners', 0)['filter_chains'] as unknown[]; chains.push(chains[0]); },
      'static_resources.listeners[0].filter_chains[1].filter_chain_match', /^the same filter_chain_match as/],
    ['an unknown listener filter', (d) => { at(d, 'static_resources', 'listeners', 0)['listener_filters'] = [{ name: 'envoy.filters.listener.original_dst' }]; },
      'static_resources.listeners[0].listener_filters[0].name', /^unknown listener filter/],
    ['two network filters', (d) => { const filters = at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['filters'] as unknown[]; filters.unshift(filters[0]); },
      'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.@type', /^only envoy\.filters\.network\.rbac may come before the terminal filter/],
    ['network RBAC as the last filter', (d) => {
      const filters = at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['filters'] as unknown[];
      filters.push({ name: 'envoy.filters.network.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', stat_prefix: 'tcp' } });
    }, 'static_resources.listeners[0].filter_chains[0].filters[1].typed_config.@type', /is not a terminal filter/],
    ['network RBAC matching a header', (d) => {
      const filters = at(d, 'static_resources', 'listeners', 0, 'filter_chains', 0)['filters'] as unknown[];
      filters.unshift({ name: 'envoy.filters.network.rbac', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC', stat_prefix: 'tcp',
        rules: { policies: { p: { permissions: [{ header: { name: 'x' } }], principals: [{ any: true }] } } } } });
    }, 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.rules.policies.p.permissions[0].header', /no HTTP request to match/],
    ['STATIC cluster with a hostname', (d) => { at(clusterDoc(d), 'load_assignment', 'endpoints', 0, 'lb_endpoints', 0, 'endpoint', 'address', 'socket_address')['address'] = 'web.internal'; },
      'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
      'a STATIC cluster needs an IP address, got "web.internal" (use type STRICT_DNS for hostnames)'],
    ['deprecated FileAccessLog.format', (d) => { hcmDoc(d)['access_log'] = [{ name: 'f', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog', path: '/tmp/a', format: '%START_TIME%' } }]; },
      `${HCM_PATH}.access_log[0].typed_config.format`, 'deprecated in Envoy; use log_format.text_format_source'],
    ['two health checkers in one', (d) => { clusterDoc(d)['health_checks'] = [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, http_health_check: { path: '/' }, tcp_health_check: {} }]; },
      'static_resources.clusters[0].health_checks[0]', 'only one of http_health_check, tcp_health_check may be set'],
    ['non-hex TCP health check payload', (d) => { clusterDoc(d)['health_checks'] = [{ timeout: '1s', interval: '1s', unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: { send: { text: 'PING' } } }]; },
      'static_resources.clusters[0].health_checks[0].tcp_health_check.send.text', 'must be hex bytes, e.g. "50494e47"'],
    ['least_request config with another policy', (d) => { clusterDoc(d)['least_request_lb_config'] = { choice_count: 3 }; },
      'static_resources.clusters[0].least_request_lb_config', 'only applies with lb_policy LEAST_REQUEST (lb_policy is ROUND_ROBIN)'],
    ['wrong protocol options @type', (d) => { clusterDoc(d)['typed_extension_protocol_options'] = { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.config.core.v3.Http1ProtocolOptions' } }; },
      'static_resources.clusters[0].typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].@type',
      'expected "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", got "type.googleapis.com/envoy.config.core.v3.Http1ProtocolOptions"'],
    ['cannot remove host', (d) => { routeDoc(d)['request_headers_to_remove'] = ['Host']; }, `${ROUTE0}.request_headers_to_remove[0]`, 'the host header cannot be modified here; use host_rewrite_literal'],
    ['bad inline_bytes', (d) => { delete routeDoc(d)['route']; routeDoc(d)['direct_response'] = { status: 200, body: { inline_bytes: 'not base64!' } }; },
      `${ROUTE0}.direct_response.body.inline_bytes`, 'must be base64'],
    ['missing body file', (d) => { delete routeDoc(d)['route']; routeDoc(d)['direct_response'] = { status: 200, body: { filename: '/nonexistent/weft/body.txt' } }; },
      `${ROUTE0}.direct_response.body.filename`, /^cannot read "\/nonexistent\/weft\/body.txt": ENOENT/],
  ];
  for (const [name, mutate, path, reason] of cases) {
    it(name, () => rejects(mutate, path, reason));
  }
});

describe('text and file errors name the source', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'weft-config-')); });
  after(() => rm(dir, { recursive: true }));

  it('a duplicate YAML key is reported at its field path and line', () => {
    const text = BASE_YAML.replace('    connect_timeout: 1s\n', '    connect_timeout: 1s\n    connect_timeout: 2s\n');
    assert.throws(() => parseBootstrapText(text, 'dup.yaml'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.path, 'static_resources.clusters[0].connect_timeout');
      assert.match(err.reason, /^duplicate key \(line \d+, column 5\)$/);
      assert.match(err.message, /^dup\.yaml: static_resources\.clusters\[0\]\.connect_timeout: duplicate key/);
      return true;
    });
  });

  it('a duplicate JSON key is rejected too', () => {
    assert.throws(() => parseBootstrapText('{"node": {"id": "a", "id": "b"}}', 'dup.json'),
      (err: unknown) => err instanceof ConfigError && err.path === 'node.id' && err.reason.startsWith('duplicate key'));
  });

  it('YAML syntax errors and empty documents', () => {
    assert.throws(() => parseBootstrapText('static_resources: [1,\n', 'broken.yaml'),
      (err: unknown) => err instanceof ConfigError && err.path === 'broken.yaml' && /^invalid YAML: .* at line 2, column 1$/.test(err.reason));
    assert.throws(() => parseBootstrapText('node: {id: a}\n---\nnode: {id: b}\n', 'two.yaml'),
      (err: unknown) => err instanceof ConfigError && err.message === 'two.yaml: invalid YAML: more than one document, one is expected (the second starts at line 2)');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `b${i}: &b${i} [${Array(10).fill(i === 0 ? '*a' : `*b${i - 1}`).join(', ')}]`)].join('\n');
    assert.throws(() => parseBootstrapText(bomb, 'bomb.yaml'),
      (err: unknown) => err instanceof ConfigError && /^bomb\.yaml: invalid YAML: Excessive alias count .* \(at most 100 alias expansions\)$/.test(err.message));
    assert.throws(() => parseBootstrapText('# nothing here\n', 'empty.yaml'),
      (err: unknown) => err instanceof ConfigError && err.message === 'empty.yaml: (root): the bootstrap is empty');
    assert.throws(() => parseBootstrapText('- a\n- b\n', 'list.yaml'),
      (err: unknown) => err instanceof ConfigError && err.message === 'list.yaml: (root): expected object, got array');
  });

  it('loadBootstrapFile names the file when it cannot be read or is invalid', async () => {
    const missing = join(dir, 'missing.yaml');
    await assert.rejects(loadBootstrapFile(missing), (err: unknown) => err instanceof ConfigError && err.path === missing && /ENOENT/.test(err.reason));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, BASE_YAML.replace('stat_prefix: http', 'stat_prefix: http\n          scoped_routes: {}'));
    await assert.rejects(loadBootstrapFile(bad), (err: unknown) =>
      err instanceof ConfigError && err.message === `${bad}: ${HCM_PATH}.scoped_routes: not supported yet`);
  });
});
