/**
 * Access logging (model/access-log.ts) as Envoy `access_log` entries on an
 * HttpConnectionManager or TcpProxy. Envoy logs per listener, not per route, so
 * a TrafficPolicy's override applies where a listener serves its destination
 * alone (a sidecar's inbound listener, a TCP listener); listeners serving many
 * destinations (the outbound HTTP listener, gateway HTTP listeners) take the
 * Mesh's default.
 */
import { FILE_ACCESS_LOG_TYPE_URL, STDOUT_ACCESS_LOG_TYPE_URL } from '../../proxy/config/type-urls.js';
import { DEFAULT_JSON_FORMAT } from '../../proxy/observe/format.js';
import type { AccessLogBackend, MeshAccessLog } from '../model/access-log.js';
import type { TrafficPolicySpec } from '../model/traffic-policy.js';
import type { JsonObject } from './envoy-values.js';
import type { MeshView } from './mesh-view.js';

const FILE_LOGGER = 'envoy.access_loggers.file';
const STDOUT_LOGGER = 'envoy.access_loggers.stdout';

/** The backends a listener serving only `policy`'s destination logs to: the policy's override, else the Mesh's. */
export function destinationAccessLog(view: MeshView, policy: TrafficPolicySpec | undefined): MeshAccessLog | undefined {
  const override = policy?.accessLog;
  if (override?.disabled === true) return undefined;
  if (override?.backends !== undefined) return { backends: override.backends };
  return view.accessLog;
}

/** Envoy `access_log` entries; undefined (field omitted) when nothing is logged. */
export function envoyAccessLogs(accessLog: MeshAccessLog | undefined): JsonObject[] | undefined {
  return accessLog?.backends.map(envoyAccessLog);
}

function envoyAccessLog(backend: AccessLogBackend): JsonObject {
  if (backend.file !== undefined) {
    return { name: FILE_LOGGER, typed_config: { '@type': FILE_ACCESS_LOG_TYPE_URL, path: backend.file.path, log_format: logFormat(backend.file.format) } };
  }
  return { name: STDOUT_LOGGER, typed_config: { '@type': STDOUT_ACCESS_LOG_TYPE_URL, log_format: logFormat(backend.stdout?.format) } };
}

/**
 * Envoy's SubstitutionFormatString. The default JSON keys are written out, not
 * left to the proxy's default, so any Envoy logs the same lines (Envoy's own
 * default is a text line).
 */
function logFormat(format: { json?: Record<string, string>; text?: string } | undefined): JsonObject {
  if (format?.text !== undefined) return { text_format_source: { inline_string: format.text } };
  return { json_format: { ...(format?.json ?? DEFAULT_JSON_FORMAT) } };
}
