import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertErrors, assertValid, documentOf } from './documents.js';

const latencies = { min: 0.2, average: 1.1, p50: 1, p90: 2, p99: 4, max: 30 };

describe('PerformanceProfile', () => {
  it('accepts a saved weft perf run command line', () => {
    const spec = { url: 'http://productpage:9080/productpage', rate: 500, duration: '30s', connections: 32, threads: 2, headers: { 'x-test': '1' }, protocol: 'http1' };
    assert.deepEqual(assertValid(documentOf('PerformanceProfile', spec)).spec, spec);
    assertValid(documentOf('PerformanceProfile', { url: 'http://127.0.0.1:50051/weft.Echo/Say', protocol: 'grpc', max: true }));
  });

  it('needs exactly one of rate and max, and checks each flag', () => {
    assertErrors(documentOf('PerformanceProfile', { url: 'http://a' }), [['spec.rate', 'set exactly one of rate']]);
    assertErrors(documentOf('PerformanceProfile', { url: 'http://a', rate: 10, max: true }), [['spec.max', 'set exactly one of rate']]);
    assertErrors(documentOf('PerformanceProfile', { url: 'ftp://a', rate: 0, connections: 0, duration: 'soon', method: 'GE T' }), [
      ['spec.connections', 'must be >= 1'],
      ['spec.duration', ''],
      ['spec.method', ''],
      ['spec.rate', 'must be > 0'],
      ['spec.url', ''],
    ]);
  });
});

describe('PerformanceResult', () => {
  it('keeps the whole SMP document, unknown fields included', () => {
    const smp = {
      performance_test_config: { smp_version: 'v0.0.1', clients: [{ load_generator: 'weft', protocol: 'http', connections: 8, rps: 100, endpoint_url: ['http://a'] }], duration: '10s' },
      performance_test_result: { start_time: '2026-11-24T21:00:00Z', end_time: '2026-11-24T21:00:10Z', latencies_ms: latencies, actual_QPS: 99.8 },
      weft: { histogram: 'HISTFAAAAB...' },
    };
    const resource = assertValid(documentOf('PerformanceResult', { profile: 'productpage', smp }));
    assert.deepEqual(resource.spec, { profile: 'productpage', partial: false, smp });
  });

  it('requires the numbers a comparison uses, and percentiles in order', () => {
    assertErrors(documentOf('PerformanceResult', { smp: { performance_test_result: { latencies_ms: { ...latencies, p99: 'slow' } } } }), [
      ['spec.smp.performance_test_result.actual_QPS', 'required field is missing'],
      ['spec.smp.performance_test_result.latencies_ms.p99', 'expected number'],
    ]);
    assertErrors(documentOf('PerformanceResult', { smp: { performance_test_result: { latencies_ms: { ...latencies, p90: 5 }, actual_QPS: 1 } } }), [
      ['spec.smp.performance_test_result.latencies_ms.p99', 'p99 (4) is below p90 (5)'],
    ]);
  });
});
