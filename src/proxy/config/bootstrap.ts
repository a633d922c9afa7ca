/**
 * Loads an Envoy v3 bootstrap (YAML or JSON) into the internal Bootstrap config:
 * text -> document (yaml-document.ts) -> structural validation against the
 * supported subset (schema-*.ts, validator.ts) -> normalization with defaults and
 * cross-field checks (normalize-*.ts). Every rejection is a ConfigError naming
 * the field's path.
 */
import { ConfigError } from '../../lib/errors.js';
import { readBootstrapText } from './load-isolated.js';
import { normalizeBootstrap } from './normalize-bootstrap.js';
import { inSource, ROOT_PATH } from './path.js';
import { Bootstrap as BootstrapSchema, type RawBootstrap } from './schema-bootstrap.js';
import type { Bootstrap } from './types.js';
import { compileValidator, type Validator } from './validator.js';
import { parseYaml } from './yaml-document.js';

const validateBootstrap: Validator<RawBootstrap> = compileValidator(BootstrapSchema);

/** Parses bootstrap text; `sourceName` (usually the file) prefixes error messages. */
export function parseBootstrapText(text: string, sourceName: string): Bootstrap {
  const doc = parseYaml(text, sourceName);
  try {
    if (doc === null || doc === undefined) throw new ConfigError(ROOT_PATH, 'the bootstrap is empty');
    return parseBootstrap(doc);
  } catch (err) {
    throw err instanceof ConfigError ? inSource(err, sourceName) : err;
  }
}

/** Validates and normalizes an already parsed bootstrap document; `source` keeps `doc` as given. */
export function parseBootstrap(doc: unknown): Bootstrap {
  validateBootstrap(doc, '');
  return normalizeBootstrap(doc, doc);
}

export async function loadBootstrapFile(file: string): Promise<Bootstrap> {
  return parseBootstrapText(await readBootstrapText(file), file);
}
