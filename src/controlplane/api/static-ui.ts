/**
 * Serves the built web UI (dist/ui, made by `npm run build`) on the API port:
 * files by path with their content type, `index.html` for every other GET that
 * is not an API path (the app routes on the client), hashed assets
 * (`assets/name-<hash>.js`) cached for a year, everything else revalidated.
 * Without a build, `/` answers 404 with a line saying how to make one.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** dist/ui, next to dist/src (this file is dist/src/controlplane/api/static-ui.js). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

/** Paths that belong to the API: never answered with the app. */
const API_PREFIXES = ['/api/', '/apis/', '/openapi.json', '/healthz'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Vite's output names: `name-<8+ base64url chars>.ext` under assets/. */
const HASHED_ASSET = /\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export const NO_BUILD_MESSAGE = 'The web UI is not built: run `npm run build` (it builds the UI into dist/ui), then reload.\n';

export function isApiPath(path: string): boolean {
  return API_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, '') || path.startsWith(prefix));
}

/**
 * Answers a GET/HEAD the router did not match: a UI file, the SPA's index.html,
 * or the no-build 404. Returns false when the request is not the UI's (API paths,
 * other methods): the caller answers it as an API 404.
 */
export async function serveUi(uiDir: string, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = decodePath(request.url.split('?')[0] ?? '/');
  if (path === undefined || isApiPath(path)) return false;
  const root = normalize(uiDir.endsWith(sep) ? uiDir : `${uiDir}${sep}`);
  const candidate = normalize(join(root, path));
  // A path that climbs out of the UI directory is not a UI file; it still gets the app.
  const file = candidate.startsWith(root) && (await isFile(candidate)) ? candidate : undefined;
  const index = join(root, 'index.html');
  if (file === undefined && !(await isFile(index))) {
    void reply.code(404).type('text/plain; charset=utf-8').send(NO_BUILD_MESSAGE);
    return true;
  }
  // A missing file that looks like an asset is a 404, not the app (a stale tab asking for an old hash).
  if (file === undefined && extname(path) !== '' && path.startsWith('/assets/')) {
    void reply.code(404).type('text/plain; charset=utf-8').send(`no UI asset ${path}\n`);
    return true;
  }
  const served = file ?? index;
  const type = CONTENT_TYPES[extname(served).toLowerCase()] ?? 'application/octet-stream';
  const cache = file !== undefined && HASHED_ASSET.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache';
  void reply.code(200).type(type).header('cache-control', cache).header('x-content-type-options', 'nosniff');
  if (request.method === 'HEAD') void reply.send();
  else void reply.send(createReadStream(served));
  return true;
}

function decodePath(path: string): string | undefined {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
