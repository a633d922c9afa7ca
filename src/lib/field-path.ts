/**
 * Dotted field paths for error messages, shared by the proxy's config loader and
 * the control plane's resource model: `static_resources.clusters[1].lb_policy`,
 * `spec.backends[1].weight`. Keys that are not plain identifiers
 * (`envoy.extensions...HttpProtocolOptions`, `app.kubernetes.io/name`) are quoted
 * in brackets so the path stays unambiguous.
 */

/** The path of the document itself (used when the whole document is wrong). */
export const ROOT_PATH = '(root)';

const PLAIN_KEY = /^[A-Za-z_@$][A-Za-z0-9_$]*$/;

/** `base.key`, or `base["key"]` when the key would make the path ambiguous. */
export function fieldPath(base: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/**
 * Converts a JSON pointer (ajv's `instancePath`) into a dotted path under `base`,
 * walking `root` to tell array indexes from object keys that happen to be numeric.
 */
export function pointerToPath(pointer: string, root: unknown, base = ''): string {
  let path = base;
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path = indexPath(path, Number(segment));
      node = node[Number(segment)];
    } else {
      path = fieldPath(path, segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** A path fit for an error message: the root gets a visible name. */
export function displayPath(path: string): string {
  return path === '' ? ROOT_PATH : path;
}
