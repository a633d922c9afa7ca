/**
 * Access logging, as Kuma's MeshAccessLog and Istio's Telemetry `accessLogging`
 * offer it: the Mesh sets a mesh-wide default, a TrafficPolicy overrides it
 * for one destination (other backends, or `disabled`). A backend is stdout or
 * a file on the proxy's host; a line is JSON with Envoy's command-operator
 * names as keys unless `format` says otherwise. The proxies write the lines
 * (Envoy's `envoy.access_loggers.file` / `stdout`, translate/access-log.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../lib/errors.js';
import { compileFormat, compileJsonFormat } from '../../proxy/observe/format.js';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { FormattedString, StrictObject, StringMap } from './schema-common.js';

const FormatSchema = StrictObject(
  {
    json: Type.Optional(StringMap({ minProperties: 1, description: 'One JSON object per request: key -> Envoy format string, e.g. `"%RESPONSE_CODE%"`.' })),
    text: Type.Optional(Type.String({ minLength: 1, description: 'One text line per request: an Envoy format string.' })),
  },
  {
    minProperties: 1,
    maxProperties: 1,
    description: "Exactly one of json, text. Default: JSON with Envoy's command-operator names as keys (docs/observability.md).",
  },
);

const BackendSchema = StrictObject(
  {
    stdout: Type.Optional(StrictObject({ format: Type.Optional(FormatSchema) }, { description: "The proxy's standard output." })),
    file: Type.Optional(
      StrictObject(
        {
          path: FormattedString('absolute-path', { description: "Appended to on the proxy's host; opened when the proxy takes the config." }),
          format: Type.Optional(FormatSchema),
        },
        { description: 'A file on the proxy host.' },
      ),
    ),
  },
  { minProperties: 1, maxProperties: 1, description: 'Where lines go: exactly one of stdout, file.' },
);

const Backends = Type.Array(BackendSchema, { minItems: 1, description: 'Each request is logged to every backend.' });

/** Mesh `spec.accessLog`: the default for every proxy listener. */
export const MeshAccessLogSchema = StrictObject(
  { backends: Backends },
  { description: "Access logging on every sidecar and gateway listener, unless a destination's TrafficPolicy overrides it." },
);

/** TrafficPolicy `spec.accessLog`: replaces the Mesh default for one destination. */
export const PolicyAccessLogSchema = StrictObject(
  {
    backends: Type.Optional(Backends),
    disabled: Type.Optional(Type.Boolean({ description: 'true: no access log for this destination, whatever the Mesh sets.' })),
  },
  {
    minProperties: 1,
    maxProperties: 1,
    description: "Replaces the Mesh's access logging where a listener serves this destination alone: its workloads' inbound listener and its TCP listeners. Exactly one of backends, disabled: true.",
  },
);

export type AccessLogBackend = Static<typeof BackendSchema>;
export type MeshAccessLog = Static<typeof MeshAccessLogSchema>;
export type PolicyAccessLog = Static<typeof PolicyAccessLogSchema>;

/** What a schema cannot check: `disabled: false` (meaningless) and format strings the proxy would reject (unknown command operators). */
export function accessLogProblems(accessLog: MeshAccessLog | PolicyAccessLog | undefined, path: string): FieldError[] {
  if (accessLog === undefined) return [];
  const errors: FieldError[] = [];
  if ('disabled' in accessLog && accessLog.disabled === false) {
    errors.push({ path: fieldPath(path, 'disabled'), message: 'must be true (omit accessLog to keep the Mesh default)' });
  }
  (accessLog.backends ?? []).forEach((backend, i) => {
    const kind = backend.stdout === undefined ? 'file' : 'stdout';
    const format = backend[kind]?.format;
    if (format === undefined) return;
    const formatPath = fieldPath(fieldPath(indexPath(fieldPath(path, 'backends'), i), kind), 'format');
    try {
      if (format.json !== undefined) compileJsonFormat(format.json, fieldPath(formatPath, 'json'));
      if (format.text !== undefined) compileFormat(format.text, fieldPath(formatPath, 'text'));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      errors.push({ path: error.path, message: error.reason });
    }
  });
  return errors;
}
