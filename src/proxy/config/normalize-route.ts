/** RouteConfiguration -> internal routing types, with Envoy's cross-field rules and cluster references checked. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../lib/errors.js';
import { durationMs } from './duration.js';
import { checkRegex, normalizeHeaderMutations, normalizeStringMatch, oneOf, positive } from './normalize-common.js';
import { fieldPath, indexPath } from './path.js';
import {
  FRACTION_DENOMINATORS, REDIRECT_RESPONSE_CODES, RETRY_ON_TOKENS,
  type RawDirectResponseAction, type RawHashPolicy, type RawHeaderMatcher, type RawQueryParameterMatcher,
  type RawRedirectAction, type RawRequestMirrorPolicy, type RawRetryPolicy, type RawRoute, type RawRouteAction,
  type RawRouteConfiguration, type RawRouteMatch, type RawVirtualHost, type RawWeightedClusters,
} from './schema-route.js';
import type {
  DirectResponseAction, ForwardAction, HashPolicy, HeaderMatcher, QueryParameterMatcher, RedirectAction,
  RequestMirrorPolicy, RetryPolicy, Route, RouteConfiguration, RouteMatch, VirtualHost, WeightedCluster,
} from './types.js';

/** Throws when `name` is not a cluster defined in the bootstrap. */
export type ClusterReferenceCheck = (name: string, path: string) => void;

const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
const DEFAULT_RETRY_BASE_INTERVAL_MS = 25;

export function normalizeRouteConfiguration(raw: RawRouteConfiguration, path: string, checkCluster: ClusterReferenceCheck): RouteConfiguration {
  const vhostsPath = fieldPath(path, 'virtual_hosts');
  const virtualHosts = (raw.virtual_hosts ?? []).map((vh, i) => normalizeVirtualHost(vh, indexPath(vhostsPath, i), checkCluster));
  checkDomainsUnique(virtualHosts, vhostsPath);
  checkDirectResponseBodies(virtualHosts, vhostsPath, raw.max_direct_response_body_size_bytes ?? DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES);
  return { name: raw.name ?? '', virtualHosts, ...normalizeHeaderMutations(raw, path) };
}

/** Envoy's default `max_direct_response_body_size_bytes`: a larger body fails its config load, so it fails here too. */
const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

function checkDirectResponseBodies(virtualHosts: VirtualHost[], path: string, maxBytes: number): void {
  virtualHosts.forEach((vh, i) => vh.routes.forEach((route, j) => {
    const size = route.action.kind === 'direct' ? route.action.body?.length ?? 0 : 0;
    if (size <= maxBytes) return;
    const bodyPath = fieldPath(fieldPath(indexPath(fieldPath(indexPath(path, i), 'routes'), j), 'direct_response'), 'body');
    throw new ConfigError(bodyPath, `response body size is ${size} bytes; maximum is ${maxBytes} (raise the route config's max_direct_response_body_size_bytes)`);
  }));
}

/** What an HCM with `rds` serves until its route config arrives: no virtual host, so every request gets 404. */
export function emptyRouteConfiguration(name: string): RouteConfiguration {
  return { name, virtualHosts: [], requestHeadersToAdd: [], requestHeadersToRemove: [], responseHeadersToAdd: [], responseHeadersToRemove: [] };
}

function normalizeVirtualHost(raw: RawVirtualHost, path: string, checkCluster: ClusterReferenceCheck): VirtualHost {
  raw.domains.forEach((domain, i) => checkDomain(domain, indexPath(fieldPath(path, 'domains'), i)));
  const routesPath = fieldPath(path, 'routes');
  const vhost: VirtualHost = {
    name: raw.name,
    domains: raw.domains,
    routes: (raw.routes ?? []).map((route, i) => normalizeRoute(route, indexPath(routesPath, i), checkCluster)),
    ...normalizeHeaderMutations(raw, path),
  };
  if (raw.retry_policy !== undefined) vhost.retryPolicy = normalizeRetryPolicy(raw.retry_policy, fieldPath(path, 'retry_policy'));
  return vhost;
}

/** Envoy's wildcards: `*` alone, or one `*` at the start or the end. */
function checkDomain(domain: string, path: string): void {
  const stars = domain.split('*').length - 1;
  if (stars === 0 || domain === '*') return;
  if (stars === 1 && (domain.startsWith('*') || domain.endsWith('*'))) return;
  throw new ConfigError(path, `invalid domain ${JSON.stringify(domain)}: a wildcard may only be a whole domain, a prefix or a suffix`);
}

/** Envoy rejects a domain that appears in two virtual hosts of one route config. */
function checkDomainsUnique(virtualHosts: VirtualHost[], path: string): void {
  const seen = new Map<string, number>();
  virtualHosts.forEach((vh, i) => {
    vh.domains.forEach((domain, j) => {
      const key = domain.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ConfigError(indexPath(fieldPath(indexPath(path, i), 'domains'), j), `duplicate domain ${JSON.stringify(domain)} (also in virtual_hosts[${first}])`);
      }
      seen.set(key, i);
    });
  });
}

function normalizeRoute(raw: RawRoute, path: string, checkCluster: ClusterReferenceCheck): Route {
  const kind = oneOf(raw, ['route', 'redirect', 'direct_response'] as const, path)!;
  const action =
    kind === 'route' ? normalizeForward(raw.route!, fieldPath(path, 'route'), checkCluster)
    : kind === 'redirect' ? normalizeRedirect(raw.redirect!, fieldPath(path, 'redirect'))
    : normalizeDirectResponse(raw.direct_response!, fieldPath(path, 'direct_response'));
  const route: Route = { match: normalizeRouteMatch(raw.match, fieldPath(path, 'match')), action, ...normalizeHeaderMutations(raw, path) };
  if (raw.name !== undefined) route.name = raw.name;
  return route;
}

function normalizeRouteMatch(raw: RawRouteMatch, path: string): RouteMatch {
  const kind = oneOf(raw, ['prefix', 'path', 'safe_regex', 'path_separated_prefix'] as const, path)!;
  let pathMatch: RouteMatch['path'];
  if (kind === 'safe_regex') {
    pathMatch = { kind: 'regex', regex: checkRegex(raw.safe_regex!.regex, fieldPath(fieldPath(path, 'safe_regex'), 'regex')) };
  } else if (kind === 'path_separated_prefix') {
    const value = raw.path_separated_prefix!;
    if (!/^\/[^?#]*$/.test(value) || value.endsWith('/')) {
      throw new ConfigError(fieldPath(path, kind), 'must start with "/", not end with "/" and contain no "?" or "#"');
    }
    pathMatch = { kind, value };
  } else {
    pathMatch = { kind, value: raw[kind]! };
  }
  const headersPath = fieldPath(path, 'headers');
  const queryPath = fieldPath(path, 'query_parameters');
  return {
    path: pathMatch,
    caseSensitive: raw.case_sensitive ?? true,
    headers: (raw.headers ?? []).map((h, i) => normalizeHeaderMatcher(h, indexPath(headersPath, i))),
    queryParameters: (raw.query_parameters ?? []).map((q, i) => normalizeQueryParameterMatcher(q, indexPath(queryPath, i))),
  };
}

const HEADER_MATCH_SPECIFIERS = [
  'exact_match', 'prefix_match', 'suffix_match', 'contains_match', 'safe_regex_match', 'present_match', 'range_match', 'string_match',
] as const;

/** No specifier means "header present", as in Envoy. The deprecated *_match fields become StringMatch. */
export function normalizeHeaderMatcher(raw: RawHeaderMatcher, path: string): HeaderMatcher {
  const kind = oneOf(raw, HEADER_MATCH_SPECIFIERS, path, false);
  const matcher: HeaderMatcher = {
    name: raw.name.toLowerCase(),
    invert: raw.invert_match ?? false,
    treatMissingAsEmpty: raw.treat_missing_header_as_empty ?? false,
  };
  switch (kind) {
    case undefined:
      matcher.present = true;
      break;
    case 'present_match':
      matcher.present = raw.present_match!;
      break;
    case 'range_match': {
      const { start, end } = raw.range_match!;
      if (start >= end) throw new ConfigError(fieldPath(path, kind), `start (${start}) must be less than end (${end})`);
      matcher.range = { start, end };
      break;
    }
    case 'string_match':
      matcher.match = normalizeStringMatch(raw.string_match!, fieldPath(path, kind));
      break;
    case 'safe_regex_match':
      matcher.match = { kind: 'regex', regex: checkRegex(raw.safe_regex_match!.regex, fieldPath(fieldPath(path, kind), 'regex')) };
      break;
    default:
      matcher.match = { kind: LEGACY_HEADER_MATCH_KINDS[kind], value: raw[kind]!, ignoreCase: false };
  }
  return matcher;
}

const LEGACY_HEADER_MATCH_KINDS = {
  exact_match: 'exact',
  prefix_match: 'prefix',
  suffix_match: 'suffix',
  contains_match: 'contains',
} as const;

function normalizeQueryParameterMatcher(raw: RawQueryParameterMatcher, path: string): QueryParameterMatcher {
  const kind = oneOf(raw, ['string_match', 'present_match'] as const, path, false);
  if (kind === 'string_match') return { name: raw.name, match: normalizeStringMatch(raw.string_match!, fieldPath(path, kind)) };
  return { name: raw.name, present: raw.present_match ?? true };
}

function normalizeForward(raw: RawRouteAction, path: string, checkCluster: ClusterReferenceCheck): ForwardAction {
  const target = oneOf(raw, ['cluster', 'weighted_clusters', 'cluster_header'] as const, path)!;
  oneOf(raw, ['prefix_rewrite', 'regex_rewrite'] as const, path, false);
  if (raw.auto_host_rewrite === true && raw.host_rewrite_literal !== undefined) {
    throw new ConfigError(path, 'only one of host_rewrite_literal, auto_host_rewrite may be set');
  }
  const action: ForwardAction = {
    kind: 'forward',
    autoHostRewrite: raw.auto_host_rewrite ?? false,
    timeoutMs: durationMs(raw.timeout, DEFAULT_ROUTE_TIMEOUT_MS),
    requestMirrorPolicies: (raw.request_mirror_policies ?? []).map((m, i) =>
      normalizeMirrorPolicy(m, indexPath(fieldPath(path, 'request_mirror_policies'), i), checkCluster)),
    hashPolicy: (raw.hash_policy ?? []).map((h, i) => normalizeHashPolicy(h, indexPath(fieldPath(path, 'hash_policy'), i))),
  };
  if (target === 'cluster') {
    checkCluster(raw.cluster!, fieldPath(path, 'cluster'));
    action.cluster = raw.cluster!;
  } else if (target === 'weighted_clusters') {
    action.weightedClusters = normalizeWeightedClusters(raw.weighted_clusters!, fieldPath(path, 'weighted_clusters'), checkCluster);
  } else {
    action.clusterHeader = raw.cluster_header!.toLowerCase();
  }
  if (raw.prefix_rewrite !== undefined) action.prefixRewrite = raw.prefix_rewrite;
  if (raw.regex_rewrite !== undefined) {
    const regexPath = fieldPath(fieldPath(fieldPath(path, 'regex_rewrite'), 'pattern'), 'regex');
    action.regexRewrite = { regex: checkRegex(raw.regex_rewrite.pattern.regex, regexPath), substitution: raw.regex_rewrite.substitution };
  }
  if (raw.host_rewrite_literal !== undefined) action.hostRewriteLiteral = raw.host_rewrite_literal;
  if (raw.idle_timeout !== undefined) action.idleTimeoutMs = durationMs(raw.idle_timeout, 0);
  if (raw.retry_policy !== undefined) action.retryPolicy = normalizeRetryPolicy(raw.retry_policy, fieldPath(path, 'retry_policy'));
  return action;
}

function normalizeWeightedClusters(raw: RawWeightedClusters, path: string, checkCluster: ClusterReferenceCheck): WeightedCluster[] {
  const clustersPath = fieldPath(path, 'clusters');
  const clusters = raw.clusters.map((c, i) => {
    const at = indexPath(clustersPath, i);
    checkCluster(c.name, fieldPath(at, 'name'));
    return { name: c.name, weight: c.weight ?? 0, ...normalizeHeaderMutations(c, at) };
  });
  const total = clusters.reduce((sum, c) => sum + c.weight, 0);
  if (total === 0) throw new ConfigError(clustersPath, 'the weights must add up to more than 0');
  if (raw.total_weight !== undefined && raw.total_weight !== total) {
    throw new ConfigError(fieldPath(path, 'total_weight'), `(deprecated) must equal the sum of the weights, ${total}, or be omitted`);
  }
  return clusters;
}

function normalizeMirrorPolicy(raw: RawRequestMirrorPolicy, path: string, checkCluster: ClusterReferenceCheck): RequestMirrorPolicy {
  checkCluster(raw.cluster, fieldPath(path, 'cluster'));
  const percent = raw.runtime_fraction?.default_value;
  const fraction = percent === undefined ? 1 : Math.min(1, percent.numerator / FRACTION_DENOMINATORS[percent.denominator ?? 'HUNDRED']);
  return { cluster: raw.cluster, fraction };
}

function normalizeHashPolicy(raw: RawHashPolicy, path: string): HashPolicy {
  const kind = oneOf(raw, ['header', 'cookie', 'connection_properties', 'query_parameter'] as const, path)!;
  const terminal = raw.terminal ?? false;
  switch (kind) {
    case 'header':
      return { kind, headerName: raw.header!.header_name.toLowerCase(), terminal };
    case 'cookie':
      return { kind, name: raw.cookie!.name, terminal };
    case 'query_parameter':
      return { kind, name: raw.query_parameter!.name, terminal };
    case 'connection_properties':
      if (!raw.connection_properties!.source_ip) {
        throw new ConfigError(fieldPath(fieldPath(path, kind), 'source_ip'), 'must be true (false hashes nothing; remove the policy instead)');
      }
      return { kind: 'source_ip', terminal };
  }
}

function normalizeRetryPolicy(raw: RawRetryPolicy, path: string): RetryPolicy {
  const retryOn = parseRetryOn(raw.retry_on ?? '', fieldPath(path, 'retry_on'));
  const backOffPath = fieldPath(path, 'retry_back_off');
  const baseIntervalMs = raw.retry_back_off === undefined
    ? DEFAULT_RETRY_BASE_INTERVAL_MS
    : positive(durationMs(raw.retry_back_off.base_interval, 0), fieldPath(backOffPath, 'base_interval'));
  const maxIntervalMs = durationMs(raw.retry_back_off?.max_interval, baseIntervalMs * 10);
  if (maxIntervalMs < baseIntervalMs) {
    throw new ConfigError(fieldPath(backOffPath, 'max_interval'), 'must be greater than or equal to base_interval');
  }
  return {
    retryOn,
    numRetries: raw.num_retries ?? 1,
    perTryTimeoutMs: durationMs(raw.per_try_timeout, 0),
    retriableStatusCodes: raw.retriable_status_codes ?? [],
    backOff: { baseIntervalMs, maxIntervalMs },
  };
}

const RETRY_ON = new Set<string>(RETRY_ON_TOKENS);

function parseRetryOn(value: string, path: string): string[] {
  const tokens = new Set<string>();
  for (const raw of value.split(',')) {
    const token = raw.trim();
    if (token === '') continue;
    if (!RETRY_ON.has(token)) throw new ConfigError(path, `unsupported value ${JSON.stringify(token)}; supported: ${RETRY_ON_TOKENS.join(', ')}`);
    tokens.add(token);
  }
  return [...tokens];
}

function normalizeRedirect(raw: RawRedirectAction, path: string): RedirectAction {
  oneOf(raw, ['scheme_redirect', 'https_redirect'] as const, path, false);
  oneOf(raw, ['path_redirect', 'prefix_rewrite'] as const, path, false);
  const redirect: RedirectAction = {
    kind: 'redirect',
    responseCode: REDIRECT_RESPONSE_CODES[raw.response_code ?? 'MOVED_PERMANENTLY'],
    stripQuery: raw.strip_query ?? false,
  };
  if (raw.https_redirect === true) redirect.schemeRedirect = 'https';
  if (raw.scheme_redirect !== undefined) redirect.schemeRedirect = raw.scheme_redirect.toLowerCase();
  if (raw.host_redirect !== undefined) redirect.hostRedirect = raw.host_redirect;
  if (raw.port_redirect !== undefined) redirect.portRedirect = raw.port_redirect;
  if (raw.path_redirect !== undefined) redirect.pathRedirect = raw.path_redirect;
  if (raw.prefix_rewrite !== undefined) redirect.prefixRewrite = raw.prefix_rewrite;
  return redirect;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The body is materialized at load: `filename` is read once here, never per request. */
function normalizeDirectResponse(raw: RawDirectResponseAction, path: string): DirectResponseAction {
  const action: DirectResponseAction = { kind: 'direct', status: raw.status };
  if (raw.body === undefined) return action;
  const bodyPath = fieldPath(path, 'body');
  const source = oneOf(raw.body, ['inline_string', 'inline_bytes', 'filename'] as const, bodyPath)!;
  if (source === 'inline_string') {
    action.body = Buffer.from(raw.body.inline_string!, 'utf8');
  } else if (source === 'inline_bytes') {
    if (!BASE64.test(raw.body.inline_bytes!)) throw new ConfigError(fieldPath(bodyPath, source), 'must be base64');
    action.body = Buffer.from(raw.body.inline_bytes!, 'base64');
  } else {
    try {
      action.body = readFileSync(raw.body.filename!);
    } catch (err) {
      throw new ConfigError(fieldPath(bodyPath, source), `cannot read ${JSON.stringify(raw.body.filename)}: ${(err as Error).message}`, { cause: err });
    }
  }
  return action;
}
