/**
 * Service Mesh Performance (SMP) documents from a LoadResult, with the field
 * names of SMP's protos (service_mesh_performance.proto): PerformanceTestConfig,
 * PerformanceTestResult, ServiceMeshConfig, EnvironmentConfig, in proto3's JSON
 * mapping (RFC 3339 timestamps, enum names). SMP has no place for a full
 * histogram, status codes or errors, so Weft adds them under its own key, `weft`,
 * which SMP readers ignore.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, cpus, totalmem } from 'node:os';
import type { LoadResult } from './run.js';

export const SMP_VERSION = 'v0.0.1';
export const LOAD_GENERATOR = 'weft';

export interface SmpDocument {
  smp_version: string;
  performance_test_config: {
    smp_version: string;
    id: string;
    name: string;
    labels: Record<string, string>;
    clients: Array<{
      internal: boolean;
      load_generator: string;
      protocol: 'http' | 'tcp' | 'udp' | 'grpc';
      connections: number;
      rps: number;
      headers: Record<string, string>;
      body: string;
      content_type: string;
      endpoint_url: string[];
    }>;
    duration: string;
  };
  performance_test_result: {
    smp_version: string;
    id: string;
    labels: Record<string, string>;
    start_time: string;
    end_time: string;
    latencies_ms: { min: number; average: number; p50: number; p90: number; p99: number; max: number };
    actual_QPS: number;
    details_uri: string;
    testId: string;
    meshConfigId: string;
    envId: string;
  };
  service_mesh_config: { smp_version: string; id: string; labels: Record<string, string>; [field: string]: unknown };
  environment_config: {
    smp_version: string;
    id: string;
    labels: Record<string, string>;
    node: Array<{ type: string; cores: number; mem_mb: number }>;
    [field: string]: unknown;
  };
  /** Weft's fuller result: every percentile, both histograms (encoded), status codes, errors, partial flag. */
  weft: LoadResult;
}

export interface SmpContext {
  /** Test name (a PerformanceProfile's name, say). */
  name?: string;
  labels?: Record<string, string>;
  /** ServiceMeshConfig fields (mesh_build, proxy_build, mtls_enabled, sidecar, ...), copied as given. */
  serviceMesh?: Record<string, unknown>;
  /** EnvironmentConfig fields; `node` defaults to this host. */
  environment?: Record<string, unknown>;
  /** Ids to use instead of fresh UUIDs. */
  ids?: { test?: string; result?: string; meshConfig?: string; env?: string };
}

/**
 * Client.rps is an int64: a fractional rate is rounded (the exact one stays in
 * `weft.options.rate`), and never to 0, which means closed loop, as Fortio and
 * Meshery use it.
 */
function smpRps(rate: number | undefined): number {
  return rate === undefined ? 0 : Math.max(1, Math.round(rate));
}

/** The SMP document for a result. The protocol enum has no http2: HTTP/2 is `http` with the label `weft.dev/protocol: http2`. */
export function toSmpResult(result: LoadResult, context: SmpContext = {}): SmpDocument {
  const testId = context.ids?.test ?? randomUUID();
  const meshConfigId = context.ids?.meshConfig ?? randomUUID();
  const envId = context.ids?.env ?? randomUUID();
  const labels: Record<string, string> = {
    ...context.labels,
    'weft.dev/protocol': result.options.protocol,
    'weft.dev/mode': result.options.mode,
    ...(result.partial ? { 'weft.dev/partial': 'true' } : {}),
    ...(result.rateReached === false ? { 'weft.dev/rate-not-reached': 'true' } : {}),
  };
  const headers = Object.fromEntries(result.options.headers);
  const latency = result.latencyMs;
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    smp_version: SMP_VERSION,
    performance_test_config: {
      smp_version: SMP_VERSION,
      id: testId,
      name: context.name ?? `weft perf ${result.options.url}`,
      labels,
      clients: [
        {
          internal: false,
          load_generator: LOAD_GENERATOR,
          protocol: result.options.protocol === 'grpc' ? 'grpc' : 'http',
          connections: result.options.connections,
          rps: smpRps(result.options.rate),
          headers,
          body: '',
          content_type: result.options.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? '',
          endpoint_url: [result.options.url],
        },
      ],
      duration: `${result.options.durationMs / 1000}s`,
    },
    performance_test_result: {
      smp_version: SMP_VERSION,
      id: context.ids?.result ?? randomUUID(),
      labels,
      start_time: result.startTime,
      end_time: result.endTime,
      latencies_ms: { min: round(latency.min), average: round(latency.mean), p50: round(latency.p50), p90: round(latency.p90), p99: round(latency.p99), max: round(latency.max) },
      actual_QPS: Math.round(result.achievedRps * 100) / 100,
      details_uri: '',
      testId,
      meshConfigId,
      envId,
    },
    service_mesh_config: { smp_version: SMP_VERSION, id: meshConfigId, labels: {}, ...context.serviceMesh },
    environment_config: {
      smp_version: SMP_VERSION,
      id: envId,
      labels: {},
      node: [{ type: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), mem_mb: Math.round(totalmem() / 2 ** 20) }],
      ...context.environment,
    },
    weft: result,
  };
}
