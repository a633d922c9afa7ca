/**
 * Process logs: JSON lines on stderr (stdout is left to access logs configured
 * with `/dev/stdout`). Level from WEFT_LOG_LEVEL (trace, debug, info, warn,
 * error, fatal, silent), default info.
 */
import { pino } from 'pino';

function levelFromEnv(): string {
  const wanted = process.env['WEFT_LOG_LEVEL'];
  if (wanted === undefined || wanted === '') return 'info';
  if (wanted === 'silent' || Object.hasOwn(pino.levels.values, wanted)) return wanted;
  process.stderr.write(`weft: ignoring WEFT_LOG_LEVEL=${wanted} (not a log level); using info\n`);
  return 'info';
}

export const rootLogger: pino.Logger = pino({ name: 'weft', level: levelFromEnv() }, pino.destination(2));

/** A logger whose lines carry `component`, e.g. childLogger('admin'). */
export function childLogger(component: string): pino.Logger {
  return rootLogger.child({ component });
}
