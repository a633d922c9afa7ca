/**
 * HTTP filters through a real `weft proxy`, with curl as the client:
 * envoy.filters.http.local_ratelimit (token bucket, 429 with x-ratelimit-*
 * headers, stats) and envoy.filters.http.fault (abort by percentage and by
 * header, fixed delay, stats).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { curl, startHttpProxy, startUpstream, statValue, type HttpProxyProcess, type Upstream } from './harness.js';

interface CurlResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
  seconds: number;
}

/** curl -i, parsed: status, lower-cased headers, body and the total time curl measured. */
async function request(port: number, path: string, headers: Record<string, string> = {}): Promise<CurlResponse> {
  const args = ['-i', '--max-time', '10', '-w', '\n%{time_total}'];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  const res = await curl([...args, `http://127.0.0.1:${port}${path}`]);
  assert.equal(res.code, 0, res.stderr);
  const split = res.stdout.lastIndexOf('\n');
  const seconds = Number(res.stdout.slice(split + 1));
  const raw = res.stdout.slice(0, split);
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const map = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    map.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine!.split(' ')[1]), headers: map, body: raw.slice(end + 4), seconds };
}

const ROUTER_ROUTES = [{ match: { prefix: '/' }, route: { cluster: 'app' } }];

describe('weft proxy: envoy.filters.http.local_ratelimit', () => {
  let upstream: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;

  before(async () => {
    upstream = await startUpstream(undefined, 'app');
    proxy = await startHttpProxy({
      listener: {
        routes: ROUTER_ROUTES,
        httpFilters: [
          {
            name: 'envoy.filters.http.local_ratelimit',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
              stat_prefix: 'http_local_rate_limiter',
              // 5 tokens, one more every 10 s: the 6th request within 10 s is limited.
              token_bucket: { max_tokens: 5, tokens_per_fill: 1, fill_interval: '10s' },
              filter_enabled: { runtime_key: 'local_rate_limit_enabled', default_value: { numerator: 100, denominator: 'HUNDRED' } },
              filter_enforced: { runtime_key: 'local_rate_limit_enforced', default_value: { numerator: 100, denominator: 'HUNDRED' } },
              response_headers_to_add: [{ append_action: 'OVERWRITE_IF_EXISTS_OR_ADD', header: { key: 'x-local-rate-limit', value: 'true' } }],
              enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
            },
          },
        ],
      },
      clusters: [{ name: 'app', ports: [upstream.port] }],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  it('passes 5 requests with x-ratelimit-* headers, answers the 6th with 429 local_rate_limited, and counts it', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await request(port, `/ok${i}`);
      assert.equal(res.status, 200, `request ${i + 1}`);
      assert.equal(res.headers.get('x-ratelimit-limit'), '5');
      assert.equal(res.headers.get('x-ratelimit-remaining'), String(4 - i));
      assert.match(res.headers.get('x-ratelimit-reset') ?? '', /^\d+$/);
      assert.equal(res.headers.get('x-local-rate-limit'), undefined, 'only the limited reply carries response_headers_to_add');
    }
    const limited = await request(port, '/limited');
    assert.equal(limited.status, 429);
    assert.equal(limited.body, 'local_rate_limited');
    assert.equal(limited.headers.get('x-ratelimit-limit'), '5');
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    const reset = Number(limited.headers.get('x-ratelimit-reset'));
    assert.ok(reset > 0 && reset <= 10, `x-ratelimit-reset ${reset}`);
    assert.equal(limited.headers.get('x-local-rate-limit'), 'true');
    assert.deepEqual(upstream.seen.map((s) => s.url), ['/ok0', '/ok1', '/ok2', '/ok3', '/ok4'], 'the limited request never reaches the upstream');

    // Envoy's names: <stat_prefix>.http_local_rate_limit.* in the root scope.
    assert.equal(await statValue(proxy, 'http_local_rate_limiter.http_local_rate_limit.enabled'), 6);
    assert.equal(await statValue(proxy, 'http_local_rate_limiter.http_local_rate_limit.ok'), 5);
    assert.equal(await statValue(proxy, 'http_local_rate_limiter.http_local_rate_limit.rate_limited'), 1);
    assert.equal(await statValue(proxy, 'http_local_rate_limiter.http_local_rate_limit.enforced'), 1);
    assert.equal(await statValue(proxy, 'http.ingress.downstream_rq_4xx'), 1);
    const prom = await (await proxy.admin('/stats/prometheus')).text();
    assert.match(prom, /^envoy_http_local_rate_limiter_http_local_rate_limit_rate_limited(\{\})? 1$/m);
  });
});

describe('weft proxy: envoy.filters.http.fault', () => {
  let upstream: Upstream;
  let proxy: HttpProxyProcess;
  let port: number;
  const NODE = 'x-envoy-downstream-service-node';

  before(async () => {
    upstream = await startUpstream(undefined, 'app');
    const fault = (config: Record<string, unknown>): unknown => ({
      name: 'envoy.filters.http.fault',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault', ...config },
    });
    proxy = await startHttpProxy({
      listener: {
        routes: ROUTER_ROUTES,
        // Three fault filters, each selected by the downstream node header, so one proxy covers all cases.
        httpFilters: [
          fault({ abort: { http_status: 418, percentage: { numerator: 100, denominator: 'HUNDRED' } }, downstream_nodes: ['abort'] }),
          fault({ abort: { header_abort: {}, percentage: { numerator: 100 } }, downstream_nodes: ['header'] }),
          fault({ delay: { fixed_delay: '0.3s', percentage: { numerator: 100 } }, downstream_nodes: ['delay'] }),
        ],
      },
      clusters: [{ name: 'app', ports: [upstream.port] }],
    });
    port = proxy.port;
  });

  after(async () => {
    await proxy.stop();
    await upstream.close();
  });

  it('aborts every request with the configured status at percentage 100', async () => {
    const before = upstream.seen.length;
    for (let i = 0; i < 3; i++) {
      const res = await request(port, '/abort', { [NODE]: 'abort' });
      assert.equal(res.status, 418);
      assert.equal(res.body, 'fault filter abort');
    }
    assert.equal(upstream.seen.length, before, 'aborted requests never reach the upstream');
    const passed = await request(port, '/other-node', { [NODE]: 'someone-else' });
    assert.equal(passed.status, 200, 'downstream_nodes limits the fault');
  });

  it('aborts with the status from x-envoy-fault-abort-request when header_abort is set', async () => {
    const res = await request(port, '/header', { [NODE]: 'header', 'x-envoy-fault-abort-request': '503' });
    assert.equal(res.status, 503);
    assert.equal(res.body, 'fault filter abort');
    const noHeader = await request(port, '/header', { [NODE]: 'header' });
    assert.equal(noHeader.status, 200, 'no header, no abort');
    const invalid = await request(port, '/header', { [NODE]: 'header', 'x-envoy-fault-abort-request': '99' });
    assert.equal(invalid.status, 200, 'an out-of-range status is ignored');
  });

  it('delays by the fixed delay and then forwards', async () => {
    const started = performance.now();
    const res = await request(port, '/delay', { [NODE]: 'delay' });
    const elapsed = performance.now() - started;
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).upstream, 'app');
    assert.ok(elapsed >= 300, `took ${elapsed} ms`);
    assert.ok(res.seconds >= 0.3, `curl measured ${res.seconds} s`);
  });

  it('counts fault.aborts_injected and fault.delays_injected', async () => {
    // 3 configured aborts + 1 header abort; 1 delay.
    assert.equal(await statValue(proxy, 'http.ingress.fault.aborts_injected'), 4);
    assert.equal(await statValue(proxy, 'http.ingress.fault.delays_injected'), 1);
    assert.equal(await statValue(proxy, 'http.ingress.fault.active_faults'), 0);
    assert.equal(await statValue(proxy, 'http.ingress.downstream_rq_5xx'), 1);
  });
});
