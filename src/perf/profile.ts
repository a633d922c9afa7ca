/**
 * A PerformanceProfile's spec as load options: the profile is a saved
 * `weft perf run` command line, so the same defaults and checks apply.
 */
import type { PerformanceProfileSpec } from '../controlplane/model/performance-profile.js';
import { parseDuration, resolveLoadOptions, type LoadOptions } from './options.js';

export function loadOptionsFromProfile(spec: PerformanceProfileSpec): LoadOptions {
  return resolveLoadOptions({
    url: spec.url,
    rate: spec.max === true ? undefined : spec.rate,
    ...(spec.protocol === undefined ? {} : { protocol: spec.protocol }),
    ...(spec.duration === undefined ? {} : { durationMs: parseDuration('duration', spec.duration) }),
    ...(spec.warmup === undefined ? {} : { warmupMs: parseDuration('warmup', spec.warmup) }),
    ...(spec.connections === undefined ? {} : { connections: spec.connections }),
    ...(spec.threads === undefined ? {} : { threads: spec.threads }),
    ...(spec.method === undefined ? {} : { method: spec.method }),
    headers: Object.entries(spec.headers ?? {}),
    body: spec.bodySize === undefined ? undefined : Buffer.alloc(spec.bodySize, 'x'),
    agents: spec.agents ?? [],
  });
}

/** `<profile>-<UTC yyyymmdd-hhmmss>`: a result name that sorts by time and stays a DNS subdomain. */
export function resultName(profile: string, startTime: string): string {
  const stamp = startTime.replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-').replace(/Z$/, '').toLowerCase();
  return `${profile.slice(0, 253 - stamp.length - 1)}-${stamp}`;
}
