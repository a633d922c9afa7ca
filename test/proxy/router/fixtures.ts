/**
 * Builders for normalized routing config with Envoy's defaults filled in, so
 * each test states only what it is about. Independent of the bootstrap loader.
 */
import type {
  ForwardAction,
  HeaderMutations,
  RedirectAction,
  RetryPolicy,
  Route,
  RouteConfiguration,
  RouteMatch,
  VirtualHost,
} from '../../../src/proxy/config/types.js';
import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import type { RouteRequest } from '../../../src/proxy/router/route-table.js';

export { seededRandom } from '../../support/random.js';

export function noMutations(): HeaderMutations {
  return { requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] };
}

export function routeConfig(virtualHosts: VirtualHost[], extra: Partial<RouteConfiguration> = {}): RouteConfiguration {
  return { name: 'test', virtualHosts, ...noMutations(), ...extra };
}

export function virtualHost(name: string, domains: string[], routes: Route[], extra: Partial<VirtualHost> = {}): VirtualHost {
  return { name, domains, routes, ...noMutations(), ...extra };
}

export function routeMatch(path: RouteMatch['path'], extra: Partial<RouteMatch> = {}): RouteMatch {
  return { path, caseSensitive: true, headers: [], queryParameters: [], ...extra };
}

export function forward(extra: Partial<ForwardAction> = {}): ForwardAction {
  const action: ForwardAction = {
    kind: 'forward',
    autoHostRewrite: false,
    timeoutMs: 15_000,
    requestMirrorPolicies: [],
    hashPolicy: [],
    ...extra,
  };
  if (action.cluster === undefined && action.weightedClusters === undefined && action.clusterHeader === undefined) action.cluster = 'default';
  return action;
}

export function redirect(extra: Partial<RedirectAction> = {}): RedirectAction {
  return { kind: 'redirect', responseCode: 301, stripQuery: false, ...extra };
}

/** A route matching prefix '/' (or `match`) forwarding to cluster 'default' unless `action` says otherwise. */
export function route(extra: Partial<Omit<Route, 'match'>> & { match?: RouteMatch } = {}): Route {
  return { match: routeMatch({ kind: 'prefix', value: '/' }), action: forward(), ...noMutations(), ...extra };
}

export function retryPolicy(extra: Partial<RetryPolicy> = {}): RetryPolicy {
  return { retryOn: [], numRetries: 1, perTryTimeoutMs: 0, retriableStatusCodes: [], backOff: { baseIntervalMs: 25, maxIntervalMs: 250 }, ...extra };
}

/** `headers` as [name, value] pairs, duplicates allowed. */
export function request(extra: Partial<Omit<RouteRequest, 'headers'>> & { headers?: Array<[string, string]> } = {}): RouteRequest {
  const { headers = [], ...rest } = extra;
  return {
    authority: 'example.com',
    path: '/',
    method: 'GET',
    remoteAddress: '10.0.0.1',
    scheme: 'http',
    ...rest,
    headers: HeaderMap.fromRaw(headers.flat()),
  };
}

/** Header lines in order as [name, value] pairs. */
export function headerList(headers: HeaderMap): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  headers.forEach((name, value) => out.push([name, value]));
  return out;
}
