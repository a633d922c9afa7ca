/**
 * TrafficPolicy: how clients talk to one destination Service — load
 * balancing, timeouts, retries and their budget, circuit breaking, outlier
 * detection, active health checks, rate limiting, fault injection,
 * mirroring and access logging. Every section is optional; an absent section means the proxy's
 * defaults.
 */
import { Type, type Static } from '@sinclair/typebox';
import { accessLogProblems, PolicyAccessLogSchema } from './access-log.js';
import { durationMs } from './duration.js';
import { fieldPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { Duration, FormattedString, Percent, ServiceName, StrictObject, StringEnum } from './schema-common.js';

export const LOAD_BALANCER_POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RING_HASH', 'RANDOM'] as const;
/** The retry conditions the proxy's router implements (Envoy's `retry_on` tokens). */
export const RETRY_ON = ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream'] as const;
export const RATE_LIMIT_UNITS = ['second', 'minute', 'hour'] as const;

const Count = (description: string, minimum = 1) => Type.Integer({ minimum, description });

const LoadBalancerSchema = StrictObject({
  policy: Type.Optional(StringEnum(LOAD_BALANCER_POLICIES, { default: 'ROUND_ROBIN' })),
  hashOn: Type.Optional(
    StrictObject(
      {
        header: Type.Optional(FormattedString('http-header-name', { description: 'Hash the value of this request header.' })),
        cookie: Type.Optional(Type.String({ minLength: 1, description: 'Hash the value of this cookie.' })),
        sourceIp: Type.Optional(Type.Boolean({ description: "Hash the client's IP address." })),
      },
      { minProperties: 1, maxProperties: 1, description: 'What RING_HASH hashes: exactly one of header, cookie, sourceIp.' },
    ),
  ),
});

const TimeoutsSchema = StrictObject({
  connect: Type.Optional(Duration('TCP connect timeout.')),
  request: Type.Optional(Duration('Whole-request timeout, retries included.')),
  idle: Type.Optional(Duration('Idle timeout of an upstream connection.')),
});

const RetriesSchema = StrictObject({
  attempts: Count('Retries after the first try.', 0),
  perTryTimeout: Type.Optional(Duration('Timeout of each try.')),
  retryOn: Type.Optional(Type.Array(StringEnum(RETRY_ON), { minItems: 1, description: 'Conditions that trigger a retry (default: 5xx, connect-failure, reset).' })),
  budget: Type.Optional(
    StrictObject(
      {
        percent: Percent('Retries may add at most this percentage of active requests.'),
        minConcurrency: Count('Retries always allowed below this many concurrent retries.', 0),
      },
      { description: 'Caps retries as a share of live traffic, so retries cannot amplify an outage.' },
    ),
  ),
});

const CircuitBreakerSchema = StrictObject({
  maxConnections: Type.Optional(Count('Connections to the Service, per proxy.')),
  maxPendingRequests: Type.Optional(Count('Requests waiting for a connection.')),
  maxRequests: Type.Optional(Count('Concurrent requests.')),
  maxRetries: Type.Optional(Count('Concurrent retries.', 0)),
});

const OutlierDetectionSchema = StrictObject({
  consecutive5xx: Type.Optional(Count('Consecutive 5xx responses that eject an endpoint.')),
  interval: Type.Optional(Duration('How often ejections are evaluated.')),
  baseEjectionTime: Type.Optional(Duration('Ejection time, multiplied by the number of ejections.')),
  maxEjectionPercent: Type.Optional(Percent('At most this share of endpoints is ejected.')),
});

const HealthCheckSchema = StrictObject(
  {
    http: Type.Optional(
      StrictObject({
        path: FormattedString('http-path', { description: 'Path of the GET request.' }),
        expectedStatuses: Type.Optional(
          Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'Healthy response codes (default: 200).' }),
        ),
      }),
    ),
    tcp: Type.Optional(StrictObject({}, { description: 'Healthy when a connection opens.' })),
    interval: Duration('Time between checks.'),
    timeout: Duration('Time a check may take.'),
    healthyThreshold: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: 'Passes that mark an endpoint healthy.' })),
    unhealthyThreshold: Type.Optional(Type.Integer({ minimum: 1, default: 3, description: 'Failures that mark an endpoint unhealthy.' })),
  },
  { description: 'Active health checking: exactly one of http, tcp.' },
);

const RateLimitSchema = StrictObject({
  requestsPerUnit: Count('Requests allowed per unit of time, per proxy.'),
  unit: StringEnum(RATE_LIMIT_UNITS),
  burst: Type.Optional(Count('Token bucket size (default: requestsPerUnit).')),
});

const FaultSchema = StrictObject(
  {
    delay: Type.Optional(
      StrictObject({ fixed: Duration('Delay added before forwarding.'), percent: Percent('Share of requests delayed.') }),
    ),
    abort: Type.Optional(
      StrictObject({
        httpStatus: Type.Integer({ minimum: 200, maximum: 599, description: 'Status returned instead of forwarding.' }),
        percent: Percent('Share of requests aborted.'),
      }),
    ),
  },
  { minProperties: 1, description: 'Fault injection: delay and/or abort.' },
);

const MirrorSchema = StrictObject({
  service: ServiceName('Receives a copy of each request; its responses are discarded.'),
  percent: Type.Optional(Percent('Share of requests mirrored.', { default: 100 })),
});

export const TrafficPolicySpecSchema = StrictObject({
  targetRef: StrictObject(
    { kind: StringEnum(['Service'] as const), name: ServiceName('The destination Service (in this namespace).') },
    { description: 'The destination this policy applies to.' },
  ),
  loadBalancer: Type.Optional(LoadBalancerSchema),
  timeouts: Type.Optional(TimeoutsSchema),
  retries: Type.Optional(RetriesSchema),
  circuitBreaker: Type.Optional(CircuitBreakerSchema),
  outlierDetection: Type.Optional(OutlierDetectionSchema),
  healthCheck: Type.Optional(HealthCheckSchema),
  rateLimit: Type.Optional(RateLimitSchema),
  fault: Type.Optional(FaultSchema),
  mirror: Type.Optional(MirrorSchema),
  accessLog: Type.Optional(PolicyAccessLogSchema),
});

export type TrafficPolicySpec = Static<typeof TrafficPolicySpecSchema>;

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as TrafficPolicySpec;
  const at = (...keys: string[]) => keys.reduce(fieldPath, fieldPath(path, 'spec'));
  const errors: FieldError[] = [];
  const lb = spec.loadBalancer;
  if (lb?.hashOn !== undefined && lb.policy !== 'RING_HASH') {
    errors.push({ path: at('loadBalancer', 'hashOn'), message: `hashOn applies only to policy RING_HASH, not ${lb.policy ?? 'ROUND_ROBIN'}` });
  }
  if (lb?.policy === 'RING_HASH' && lb.hashOn === undefined) {
    errors.push({ path: at('loadBalancer', 'hashOn'), message: 'required when policy is RING_HASH: what to hash (header, cookie or sourceIp)' });
  }
  if (lb?.hashOn?.sourceIp === false) {
    errors.push({ path: at('loadBalancer', 'hashOn', 'sourceIp'), message: 'must be true (omit hashOn.sourceIp to hash something else)' });
  }
  const perTry = spec.retries?.perTryTimeout;
  const request = spec.timeouts?.request;
  if (perTry !== undefined && request !== undefined && durationMs(perTry) > durationMs(request)) {
    errors.push({ path: at('retries', 'perTryTimeout'), message: `${perTry} exceeds timeouts.request ${request}: no try could use it` });
  }
  const check = spec.healthCheck;
  if (check !== undefined && (check.http === undefined) === (check.tcp === undefined)) {
    errors.push({ path: at('healthCheck'), message: 'exactly one of http or tcp is required' });
  }
  if (check !== undefined && durationMs(check.interval) === 0) {
    errors.push({ path: at('healthCheck', 'interval'), message: 'must be greater than 0' });
  }
  const outlierInterval = spec.outlierDetection?.interval;
  if (outlierInterval !== undefined && durationMs(outlierInterval) === 0) {
    errors.push({ path: at('outlierDetection', 'interval'), message: 'must be greater than 0' });
  }
  if (spec.mirror !== undefined && spec.mirror.service === spec.targetRef.name) {
    errors.push({ path: at('mirror', 'service'), message: 'must differ from targetRef.name: a Service cannot mirror to itself' });
  }
  errors.push(...accessLogProblems(spec.accessLog, at('accessLog')));
  return errors;
}

function references(resource: Resource): Reference[] {
  const spec = resource.spec as TrafficPolicySpec;
  const namespace = resource.metadata.namespace;
  const refs: Reference[] = [{ path: 'spec.targetRef.name', key: { kind: 'Service', namespace, name: spec.targetRef.name } }];
  if (spec.mirror !== undefined) refs.push({ path: 'spec.mirror.service', key: { kind: 'Service', namespace, name: spec.mirror.service } });
  return refs;
}

export const trafficPolicyKind: KindInfo = {
  kind: 'TrafficPolicy',
  apiVersion: MESH_API_VERSION,
  plural: 'trafficpolicies',
  shortNames: ['tp'],
  namespaced: true,
  description:
    'How clients reach one Service: load balancing, timeouts, retries, circuit breaking, outlier detection, health checks, rate limits, faults, mirroring, access logging.',
  specSchema: TrafficPolicySpecSchema,
  validateSemantics,
  references,
};
