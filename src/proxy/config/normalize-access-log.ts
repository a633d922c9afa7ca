/** Access logger entries -> AccessLogConfig (a path plus an optional format). */
import { ConfigError } from '../../lib/errors.js';
import { oneOf } from './normalize-common.js';
import { fieldPath, indexPath } from './path.js';
import type { RawAccessLog, RawLogFormat } from './schema-access-log.js';
import { FILE_ACCESS_LOG_TYPE_URL, STDOUT_ACCESS_LOG_TYPE_URL } from './type-urls.js';
import type { AccessLogConfig } from './types.js';

export function normalizeAccessLogs(raw: RawAccessLog[] | undefined, path: string): AccessLogConfig[] {
  return (raw ?? []).map((log, i) => normalizeAccessLog(log, indexPath(path, i)));
}

function normalizeAccessLog(raw: RawAccessLog, path: string): AccessLogConfig {
  const config = raw.typed_config;
  const logPath =
    config['@type'] === FILE_ACCESS_LOG_TYPE_URL ? config.path
    : config['@type'] === STDOUT_ACCESS_LOG_TYPE_URL ? '/dev/stdout'
    : '/dev/stderr';
  const out: AccessLogConfig = { path: logPath };
  if (config.log_format !== undefined) applyLogFormat(out, config.log_format, fieldPath(fieldPath(path, 'typed_config'), 'log_format'));
  return out;
}

function applyLogFormat(out: AccessLogConfig, format: RawLogFormat, path: string): void {
  const kind = oneOf(format, ['json_format', 'text_format_source'] as const, path)!;
  if (kind === 'json_format') {
    if (Object.keys(format.json_format!).length === 0) throw new ConfigError(fieldPath(path, kind), 'must name at least one field');
    out.jsonFormat = format.json_format!;
  } else {
    out.textFormat = format.text_format_source!.inline_string;
  }
}
