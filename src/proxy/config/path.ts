/**
 * Field paths for the config loader: the shared helpers (src/lib/field-path.ts)
 * and naming the source file in a ConfigError.
 */
import type { ConfigError } from '../../lib/errors.js';

export { displayPath, fieldPath, indexPath, pointerToPath, ROOT_PATH } from '../../lib/field-path.js';

/** Names the file (or other source) in a ConfigError's message; `path` and `reason` stay as they were. */
export function inSource(error: ConfigError, sourceName: string): ConfigError {
  error.message = `${sourceName}: ${error.message}`;
  return error;
}
