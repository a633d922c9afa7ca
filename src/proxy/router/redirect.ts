/**
 * The Location of a redirect route, built as Envoy's Http::Utility::newUri does:
 * `scheme://host[:port]/path[?query]`, always absolute.
 */
import type { RedirectAction } from '../config/types.js';
import type { RouteRequest } from './route-table.js';

/**
 * `path` is the request path after the route's rewrite: pass
 * `compiledRoute.rewritePath(req.path)` so a redirect `prefix_rewrite` applies
 * (the action alone does not know which prefix the route matched).
 *
 * - scheme: scheme_redirect (https_redirect arrives as 'https'), else the request's.
 * - host: host_redirect (replaces host and port), else the request's authority,
 *   whose port is dropped when port_redirect is set, or when the scheme changes
 *   and the port is the request scheme's default (http :80, https :443).
 * - path: path_redirect, keeping the request's query unless path_redirect has
 *   its own; strip_query removes the query unless it came from path_redirect.
 */
export function redirectLocation(action: RedirectAction, req: RouteRequest, path: string = req.path): string {
  // Envoy treats empty strings and port 0 as "not set".
  const scheme = action.schemeRedirect || req.scheme;
  const port = action.portRedirect ? `:${action.portRedirect}` : '';
  const host = action.hostRedirect || requestHost(req.authority, req.scheme, scheme.toLowerCase(), port !== '');

  const pathRedirect = action.pathRedirect || undefined;
  const redirectHasQuery = pathRedirect !== undefined && pathRedirect.includes('?');
  let finalPath = path;
  if (pathRedirect !== undefined) {
    const queryStart = path.indexOf('?');
    finalPath = redirectHasQuery || queryStart === -1 ? pathRedirect : pathRedirect + path.slice(queryStart);
  }
  if (!finalPath.startsWith('/')) finalPath = `/${finalPath}`;
  if (action.stripQuery && !redirectHasQuery) {
    const queryStart = finalPath.indexOf('?');
    if (queryStart !== -1) finalPath = finalPath.slice(0, queryStart);
  }
  return `${scheme}://${host}${port}${finalPath}`;
}

/** Envoy's processRequestHost: the request's authority, minus a port that must not survive the redirect. */
function requestHost(authority: string, requestScheme: string, newScheme: string, newPort: boolean): string {
  if (authority === '') return authority;
  let portStart: number;
  if (authority.startsWith('[')) {
    const bracket = authority.lastIndexOf(']:');
    portStart = bracket === -1 ? -1 : bracket + 1;
  } else {
    portStart = authority.lastIndexOf(':');
  }
  if (portStart === -1) return authority;
  let removePort = newPort;
  if (newScheme !== requestScheme) {
    const requestPort = authority.slice(portStart);
    removePort ||= (requestScheme === 'https' && requestPort === ':443') || (requestScheme === 'http' && requestPort === ':80');
  }
  return removePort ? authority.slice(0, portStart) : authority;
}
