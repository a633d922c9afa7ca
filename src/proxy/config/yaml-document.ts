/**
 * Bootstrap text -> plain JS document. JSON is YAML, so one parser serves both.
 * Duplicate keys are errors (Envoy rejects them too), reported with the key's field path.
 */
import { isPair, isScalar, isSeq, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { ConfigError } from '../../lib/errors.js';
import { fieldPath, indexPath, inSource } from './path.js';

export function parseYaml(text: string, sourceName: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  const error = doc.errors[0];
  if (error !== undefined) throw yamlError(doc, error, sourceName);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The parser throws a bare ReferenceError for an alias "bomb" (aliases of aliases ...).
    throw new ConfigError(sourceName, `invalid YAML: ${(err as Error).message} (at most ${MAX_ALIAS_COUNT} alias expansions)`, { cause: err });
  }
}

const MAX_ALIAS_COUNT = 100;

function yamlError(doc: Document, error: YAMLError, sourceName: string): ConfigError {
  const where = error.linePos === undefined ? '' : ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})`;
  if (error.code === 'DUPLICATE_KEY') {
    const path = duplicateKeyPath(doc, error.pos[0]);
    if (path !== undefined) return inSource(new ConfigError(path, `duplicate key${where}`), sourceName);
  }
  // The parser's own message names its API ("please use YAML.parseAllDocuments()"), which means nothing to the writer.
  if (error.code === 'MULTIPLE_DOCS') {
    const second = error.linePos === undefined ? '' : ` (the second starts at line ${error.linePos[0].line})`;
    return new ConfigError(sourceName, `invalid YAML: more than one document, one is expected${second}`);
  }
  const firstLine = error.message.split('\n')[0]!.replace(/:$/, '');
  return new ConfigError(sourceName, `invalid YAML: ${firstLine}`);
}

/** The field path of the map key that starts at `offset`. */
function duplicateKeyPath(doc: Document, offset: number): string | undefined {
  let found: string | undefined;
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
      found = pathOf([...ancestors, pair]);
      return visit.BREAK;
    },
  });
  return found;
}

function pathOf(chain: readonly unknown[]): string {
  let path = '';
  chain.forEach((node, i) => {
    if (isPair(node) && isScalar(node.key)) path = fieldPath(path, String(node.key.value));
    else if (isSeq(node)) path = indexPath(path, (node.items as unknown[]).indexOf(chain[i + 1]));
  });
  return path;
}
