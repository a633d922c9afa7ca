/** Maps a server field path (`spec.backends[1].weight`) to a line of the YAML the user wrote. */
import { isNode, parseDocument, type Document } from 'yaml';

export function parsePath(field: string): Array<string | number> {
  const parts: Array<string | number> = [];
  for (const match of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (match[2] !== undefined) parts.push(Number(match[2]));
    else parts.push(match[1]!);
  }
  return parts;
}

/** The 1-based line of the deepest node on `field`'s path that exists in `doc`, or undefined. */
export function lineOfField(text: string, doc: Document, field: string): number | undefined {
  const path = parsePath(field);
  for (let depth = path.length; depth > 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return lineAt(text, node.range[0]);
  }
  return undefined;
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export { parseDocument };
