import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TrafficPolicySpec } from '../../../src/controlplane/model/traffic-policy.js';
import { assertErrors, assertValid, documentOf } from './documents.js';

const targetRef = { kind: 'Service', name: 'reviews' };
const policy = (spec: Record<string, unknown>) => documentOf('TrafficPolicy', { targetRef, ...spec }, { name: 'reviews' });

describe('TrafficPolicy', () => {
  it('accepts every section', () => {
    const spec = {
      targetRef,
      loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x-user-id' } },
      timeouts: { connect: '250ms', request: '1m30s', idle: '1h' },
      retries: { attempts: 3, perTryTimeout: '2s', retryOn: ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream'], budget: { percent: 20, minConcurrency: 3 } },
      circuitBreaker: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 1000, maxRetries: 3 },
      outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 50 },
      healthCheck: { tcp: {}, interval: '5s', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 2 },
      rateLimit: { requestsPerUnit: 600, unit: 'minute', burst: 50 },
      fault: { delay: { fixed: '100ms', percent: 10 }, abort: { httpStatus: 503, percent: 0.5 } },
      mirror: { service: 'reviews-shadow', percent: 5 },
      accessLog: { backends: [{ file: { path: '/var/log/reviews.log', format: { text: '%RESPONSE_CODE%' } } }] },
    };
    assert.deepEqual(assertValid(documentOf('TrafficPolicy', spec)).spec, spec);
  });

  it('defaults the load balancer policy, health thresholds and mirror percent', () => {
    const spec = assertValid(
      policy({ loadBalancer: {}, healthCheck: { http: { path: '/health' }, interval: '5s', timeout: '1s' }, mirror: { service: 'reviews-shadow' } }),
    ).spec as TrafficPolicySpec;
    assert.equal(spec.loadBalancer?.policy, 'ROUND_ROBIN');
    assert.equal(spec.healthCheck?.healthyThreshold, 1);
    assert.equal(spec.healthCheck?.unhealthyThreshold, 3);
    assert.equal(spec.mirror?.percent, 100);
  });

  it('requires a Service targetRef', () => {
    assertErrors(documentOf('TrafficPolicy', { timeouts: {} }), [['spec.targetRef', 'required field is missing']]);
    assertErrors(documentOf('TrafficPolicy', { targetRef: { kind: 'Workload', name: 'Reviews' } }), [
      ['spec.targetRef.kind', 'unsupported value "Workload"; supported: Service'],
      ['spec.targetRef.name', 'is not a DNS-1123 label'],
    ]);
  });

  it('rejects durations that do not parse, with the offending field', () => {
    assertErrors(policy({ timeouts: { connect: '5', request: '-1s', idle: 30 }, retries: { attempts: 1, perTryTimeout: '1 s' } }), [
      ['spec.retries.perTryTimeout', 'invalid duration "1 s"'],
      ['spec.timeouts.connect', 'expected a Go-style duration such as "250ms"'],
      ['spec.timeouts.idle', 'expected string, got number 30'],
      ['spec.timeouts.request', 'must not be negative'],
    ]);
  });

  it('bounds percentages to 0-100 and counts to their minimums', () => {
    assertErrors(
      policy({
        retries: { attempts: -1, budget: { percent: 120, minConcurrency: 0 } },
        outlierDetection: { maxEjectionPercent: -5, consecutive5xx: 0 },
        fault: { abort: { httpStatus: 700, percent: 101 } },
        circuitBreaker: { maxConnections: 0 },
      }),
      [
        ['spec.circuitBreaker.maxConnections', 'must be >= 1'],
        ['spec.fault.abort.httpStatus', 'must be <= 599'],
        ['spec.fault.abort.percent', 'must be <= 100'],
        ['spec.outlierDetection.consecutive5xx', 'must be >= 1'],
        ['spec.outlierDetection.maxEjectionPercent', 'must be >= 0'],
        ['spec.retries.attempts', 'must be >= 0'],
        ['spec.retries.budget.percent', 'must be <= 100'],
      ],
    );
  });

  it('accepts only the retry conditions the proxy implements', () => {
    assertErrors(policy({ retries: { attempts: 2, retryOn: ['5xx', 'cancelled'] } }), [
      ['spec.retries.retryOn[1]', 'unsupported value "cancelled"; supported: 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream'],
    ]);
  });

  it('ties hashOn to RING_HASH, with exactly one thing to hash', () => {
    assertErrors(policy({ loadBalancer: { policy: 'RING_HASH' } }), [['spec.loadBalancer.hashOn', 'required when policy is RING_HASH']]);
    assertErrors(policy({ loadBalancer: { policy: 'LEAST_REQUEST', hashOn: { sourceIp: true } } }), [
      ['spec.loadBalancer.hashOn', 'hashOn applies only to policy RING_HASH, not LEAST_REQUEST'],
    ]);
    assertErrors(policy({ loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x-user', cookie: 'session' } } }), [
      ['spec.loadBalancer.hashOn', 'must set at most 1 field(s), got header, cookie'],
    ]);
    assertErrors(policy({ loadBalancer: { policy: 'RING_HASH', hashOn: {} } }), [['spec.loadBalancer.hashOn', 'must set at least 1 field(s)']]);
    assertErrors(policy({ loadBalancer: { policy: 'RING_HASH', hashOn: { header: 'x user' } } }), [['spec.loadBalancer.hashOn.header', 'is not a valid HTTP header name']]);
    assertErrors(policy({ loadBalancer: { policy: 'RING_HASH', hashOn: { sourceIp: false } } }), [['spec.loadBalancer.hashOn.sourceIp', 'must be true']]);
  });

  it('rejects a per-try timeout longer than the request timeout', () => {
    assertErrors(policy({ timeouts: { request: '500ms' }, retries: { attempts: 2, perTryTimeout: '1s' } }), [
      ['spec.retries.perTryTimeout', '1s exceeds timeouts.request 500ms'],
    ]);
    assertValid(policy({ timeouts: { request: '1s' }, retries: { attempts: 2, perTryTimeout: '1000ms' } }));
  });

  it('requires exactly one health check type and a positive interval', () => {
    assertErrors(policy({ healthCheck: { interval: '5s', timeout: '1s' } }), [['spec.healthCheck', 'exactly one of http or tcp is required']]);
    assertErrors(policy({ healthCheck: { http: { path: '/health' }, tcp: {}, interval: '0', timeout: '1s' } }), [
      ['spec.healthCheck', 'exactly one of http or tcp is required'],
      ['spec.healthCheck.interval', 'must be greater than 0'],
    ]);
    assertErrors(policy({ healthCheck: { http: { path: 'health', expectedStatuses: [] }, timeout: '1s' } }), [
      ['spec.healthCheck.http.expectedStatuses', 'must have at least 1 item(s)'],
      ['spec.healthCheck.http.path', 'must start with "/"'],
      ['spec.healthCheck.interval', 'required field is missing'],
    ]);
    assertErrors(policy({ healthCheck: { tcp: { send: 'ping' }, interval: '5s', timeout: '1s' } }), [
      ['spec.healthCheck.tcp.send', 'unknown field; no fields are allowed here'],
    ]);
  });

  it('checks rate limit units, fault contents and mirror targets', () => {
    assertErrors(policy({ rateLimit: { requestsPerUnit: 0, unit: 'day' } }), [
      ['spec.rateLimit.requestsPerUnit', 'must be >= 1'],
      ['spec.rateLimit.unit', 'unsupported value "day"; supported: second, minute, hour'],
    ]);
    assertErrors(policy({ fault: {} }), [['spec.fault', 'must set at least 1 field(s)']]);
    assertErrors(policy({ fault: { delay: { percent: 10 } } }), [['spec.fault.delay.fixed', 'required field is missing']]);
    assertErrors(policy({ mirror: { service: 'reviews' } }), [['spec.mirror.service', 'a Service cannot mirror to itself']]);
  });

  it('overrides the Mesh access log with backends or disabled: true, never both', () => {
    assert.deepEqual(assertValid(policy({ accessLog: { disabled: true } })).spec, { targetRef, accessLog: { disabled: true } });
    assertErrors(policy({ accessLog: { disabled: true, backends: [{ stdout: {} }] } }), [['spec.accessLog', 'must set at most 1 field(s)']]);
    assertErrors(policy({ accessLog: {} }), [['spec.accessLog', 'must set at least 1 field(s)']]);
    assertErrors(policy({ accessLog: { disabled: false } }), [['spec.accessLog.disabled', 'must be true']]);
    assertErrors(policy({ accessLog: { backends: [{ stdout: { format: { text: '%BOGUS%' } } }] } }), [
      ['spec.accessLog.backends[0].stdout.format.text', 'unknown command operator %BOGUS%'],
    ]);
  });
});
