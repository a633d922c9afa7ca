import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/lib/errors.js';
import { parseFaultConfig } from '../../../../src/proxy/filters/fault/config.js';

const P = 'http_filters[0].typed_config';

describe('fault config: accepted', () => {
  const cases: Array<{ name: string; raw: unknown; check: (c: ReturnType<typeof parseFaultConfig>) => void }> = [
    {
      name: 'empty config injects nothing',
      raw: {},
      check: (c) => {
        assert.equal(c.delay, undefined);
        assert.equal(c.abort, undefined);
        assert.equal(c.maxActiveFaults, Infinity);
        assert.equal(c.downstreamNodes, undefined);
        assert.equal(c.downstreamClusterStats, true);
      },
    },
    {
      name: 'fixed delay with a fractional duration and default denominator',
      raw: { delay: { fixed_delay: '1.5s', percentage: { numerator: 10 } } },
      check: (c) => assert.deepEqual(c.delay, { fixedMs: 1500, percentage: { numerator: 10, denominator: 100 } }),
    },
    {
      name: 'fixed delay as {seconds, nanos}',
      raw: { delay: { fixed_delay: { seconds: 0, nanos: 250_000_000 } } },
      check: (c) => assert.deepEqual(c.delay, { fixedMs: 250, percentage: { numerator: 0, denominator: 100 } }),
    },
    {
      name: 'header delay',
      raw: { delay: { header_delay: {}, percentage: { numerator: 100, denominator: 'TEN_THOUSAND' } } },
      check: (c) => assert.deepEqual(c.delay, { fixedMs: undefined, percentage: { numerator: 100, denominator: 10_000 } }),
    },
    {
      name: 'http abort',
      raw: { abort: { http_status: 503, percentage: { numerator: 5, denominator: 'MILLION' } } },
      check: (c) => assert.deepEqual(c.abort, { httpStatus: 503, percentage: { numerator: 5, denominator: 1_000_000 } }),
    },
    {
      name: 'header abort',
      raw: { abort: { header_abort: {}, percentage: { numerator: 100 } } },
      check: (c) => assert.deepEqual(c.abort, { httpStatus: undefined, percentage: { numerator: 100, denominator: 100 } }),
    },
    {
      name: 'limits and selectors',
      raw: { max_active_faults: 3, downstream_nodes: ['a', 'b'], disable_downstream_cluster_stats: true },
      check: (c) => {
        assert.equal(c.maxActiveFaults, 3);
        assert.deepEqual([...c.downstreamNodes!], ['a', 'b']);
        assert.equal(c.downstreamClusterStats, false);
      },
    },
  ];
  for (const { name, raw, check } of cases) it(name, () => check(parseFaultConfig(raw, P)));
});

describe('fault config: rejected with the field path', () => {
  const cases: Array<{ raw: unknown; path: string; reason: RegExp }> = [
    { raw: { bogus: 1 }, path: `${P}.bogus`, reason: /unknown field/ },
    { raw: { delay: { fixed_delay: '1s', bogus: 1 } }, path: `${P}.delay.bogus`, reason: /unknown field/ },
    { raw: { delay: { fixed_delay: '1.5' } }, path: `${P}.delay.fixed_delay`, reason: /invalid duration/ },
    { raw: { delay: { fixed_delay: '-1s' } }, path: `${P}.delay.fixed_delay`, reason: /negative/ },
    { raw: { delay: { fixed_delay: '0s' } }, path: `${P}.delay.fixed_delay`, reason: /greater than 0s/ },
    { raw: { delay: { percentage: { numerator: 1 } } }, path: `${P}.delay`, reason: /exactly one of fixed_delay, header_delay/ },
    { raw: { delay: { fixed_delay: '1s', header_delay: {} } }, path: `${P}.delay`, reason: /only one of fixed_delay, header_delay/ },
    { raw: { abort: { http_status: 503, header_abort: {} } }, path: `${P}.abort`, reason: /only one of http_status, header_abort/ },
    { raw: { delay: { fixed_delay: '1s', percentage: { numerator: -1 } } }, path: `${P}.delay.percentage.numerator`, reason: />= 0/ },
    { raw: { delay: { fixed_delay: '1s', percentage: { numerator: 1.5 } } }, path: `${P}.delay.percentage.numerator`, reason: /integer/ },
    { raw: { delay: { fixed_delay: '1s', percentage: { denominator: 'THOUSAND' } } }, path: `${P}.delay.percentage.denominator`, reason: /supported: HUNDRED, TEN_THOUSAND, MILLION/ },
    { raw: { abort: { http_status: 199 } }, path: `${P}.abort.http_status`, reason: />= 200/ },
    { raw: { abort: { http_status: 600 } }, path: `${P}.abort.http_status`, reason: /<= 599/ },
    { raw: { abort: { http_status: '503' } }, path: `${P}.abort.http_status`, reason: /expected integer/ },
    { raw: { abort: { grpc_status: 14 } }, path: `${P}.abort.grpc_status`, reason: /not supported yet/ },
    { raw: { abort: { percentage: { numerator: 1 } } }, path: `${P}.abort`, reason: /exactly one of http_status, header_abort/ },
    { raw: { abort: { header_abort: { x: 1 } } }, path: `${P}.abort.header_abort.x`, reason: /unknown field/ },
    { raw: { headers: [{ name: 'x', present_match: true }] }, path: `${P}.headers`, reason: /not supported yet/ },
    { raw: { upstream_cluster: 'backend' }, path: `${P}.upstream_cluster`, reason: /not supported yet/ },
    { raw: { response_rate_limit: { fixed_limit: { limit_kbps: 1 } } }, path: `${P}.response_rate_limit`, reason: /not supported yet/ },
    { raw: { delay_percent_runtime: 'k' }, path: `${P}.delay_percent_runtime`, reason: /no runtime/ },
    { raw: { abort_grpc_status_runtime: 'k' }, path: `${P}.abort_grpc_status_runtime`, reason: /no runtime/ },
    { raw: { max_active_faults: -1 }, path: `${P}.max_active_faults`, reason: />= 0/ },
    { raw: { downstream_nodes: ['ok', ''] }, path: `${P}.downstream_nodes[1]`, reason: /must not be empty/ },
    { raw: { filter_metadata: {} }, path: `${P}.filter_metadata`, reason: /not supported yet/ },
    { raw: [], path: P, reason: /expected object/ },
  ];
  for (const { raw, path, reason } of cases) {
    it(`${path}: ${reason.source}`, () => {
      assert.throws(
        () => parseFaultConfig(raw, P),
        (err: unknown) => err instanceof ConfigError && err.path === path && reason.test(err.reason),
      );
    });
  }
});
