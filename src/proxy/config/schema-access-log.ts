/** Envoy access loggers: `envoy.access_loggers.file` and the stdout/stderr stream loggers. */
import { Type, type Static } from '@sinclair/typebox';
import { NonEmptyStr, Obj, Opt, Shared, Str, TypedConfigOneOf, Unsupported, unsupportedFields } from './schema-common.js';
import { FILE_ACCESS_LOG_TYPE_URL, STDERR_ACCESS_LOG_TYPE_URL, STDOUT_ACCESS_LOG_TYPE_URL } from './type-urls.js';

/** SubstitutionFormatString: exactly one of json_format / text_format_source (checked in code). */
const LogFormat = Obj({
  /** Flat key -> format string; nested objects are not supported. */
  json_format: Opt(Type.Record(Type.String(), Type.String())),
  text_format_source: Opt(Obj({ inline_string: Str(), ...unsupportedFields(['filename', 'inline_bytes', 'environment_variable']) })),
  text_format: Opt(Unsupported('deprecated in Envoy; use text_format_source.inline_string')),
  ...unsupportedFields(['omit_empty_values', 'content_type', 'formatters', 'json_format_options']),
});

const FileAccessLog = Obj({
  '@type': Type.Literal(FILE_ACCESS_LOG_TYPE_URL),
  path: NonEmptyStr(),
  log_format: Opt(LogFormat),
  format: Opt(Unsupported('deprecated in Envoy; use log_format.text_format_source')),
  json_format: Opt(Unsupported('deprecated in Envoy; use log_format.json_format')),
  typed_json_format: Opt(Unsupported('deprecated in Envoy; use log_format.json_format')),
});

const StdoutAccessLog = Obj({ '@type': Type.Literal(STDOUT_ACCESS_LOG_TYPE_URL), log_format: Opt(LogFormat) });
const StderrAccessLog = Obj({ '@type': Type.Literal(STDERR_ACCESS_LOG_TYPE_URL), log_format: Opt(LogFormat) });

export const AccessLog = Shared('AccessLog', Obj({
  name: Opt(Str()),
  typed_config: TypedConfigOneOf(FileAccessLog, StdoutAccessLog, StderrAccessLog),
  ...unsupportedFields(['filter']),
}));

export type RawAccessLog = Static<typeof AccessLog>;
export type RawLogFormat = Static<typeof LogFormat>;
