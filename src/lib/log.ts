/**
 * Process logs: JSON lines on stderr (stdout is left to access logs configured
 * with `/dev/stdout`). Level from WEFT_LOG_LEVEL (trace, debug, info, warn,
 * error, fatal, silent), default info.
 */
import { pino } from 'pino';
import { levelFromEnv } from './json-log.js';

export const rootLogger: pino.Logger = pino({ name: 'weft', level: levelFromEnv() }, pino.destination(2));

/** A logger whose lines carry `component`, e.g. childLogger('admin'). */
export function childLogger(component: string): pino.Logger {
  return rootLogger.child({ component });
}
