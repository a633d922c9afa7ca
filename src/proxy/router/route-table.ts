/**
 * The route table: a RouteConfiguration compiled once per config version into
 * a virtual-host selector and, per virtual host, an ordered array of route
 * predicates (first match wins). Everything a request needs from its route —
 * cluster pick, path rewrite, header mutations, hash key — is precompiled on
 * the CompiledRoute, so per request nothing is parsed or allocated beyond the
 * values returned. See README.md in this folder for the data flow.
 */
import { ConfigError } from '../../lib/errors.js';
import type {
  ForwardAction,
  RetryPolicy,
  Route,
  RouteConfiguration,
  VirtualHost,
  WeightedCluster,
} from '../config/types.js';
import type { HeaderMap } from '../http1/headers.js';
import { compileHashPolicies, type HashComputer } from './hash-policy.js';
import { applyMutations, compileMutationLevel, type MutationStep } from './header-mutations.js';
import { compilePathRewrite, type PathRewriter } from './path-rewrite.js';
import { headerReader, pathEnd } from './request-values.js';
import { compileWeightedPick } from './weighted-pick.js';
import { compileRouteMatch, type RouteMatcher } from './route-match.js';
import { compileVirtualHostSelector } from './virtual-host-selector.js';

export interface RouteRequest {
  /** Host / :authority as received (any case, may carry :port). */
  authority: string;
  /** Path with query, origin-form. */
  path: string;
  method: string;
  headers: HeaderMap;
  remoteAddress: string;
  scheme: 'http' | 'https';
}

export interface ClusterPick {
  cluster: string;
  /** The weighted_clusters entry picked, for its header mutations. */
  weighted?: WeightedCluster;
}

export interface CompiledRoute {
  /** The config. */
  readonly route: Route;
  readonly virtualHost: VirtualHost;
  /** Route name or '' (for %ROUTE_NAME%). */
  readonly name: string;
  readonly action: Route['action'];
  /** Route's, else the virtual host's; undefined for redirect and direct-response routes. */
  readonly retryPolicy: RetryPolicy | undefined;
  /**
   * Picks the upstream cluster name (weighted: by cumulative weight with `random`
   * in [0,1) supplied by the caller; cluster_header: from headers). undefined =
   * no cluster (cluster_header missing or empty, or not a forward route). The
   * returned object may be shared between requests: do not mutate it.
   */
  pickCluster(req: RouteRequest, random: number): ClusterPick | undefined;
  /**
   * Rewritten path for the upstream request (prefix_rewrite / regex_rewrite), or
   * the original path; query preserved. For redirect routes this applies the
   * redirect's prefix_rewrite: pass its result to `redirectLocation`.
   */
  rewritePath(path: string): string;
  /** Applies request header mutations in Envoy's order (weighted cluster, route, virtual host, route configuration; removes before adds at each level). */
  mutateRequestHeaders(headers: HeaderMap, weighted?: WeightedCluster): void;
  /** Same for response headers. */
  mutateResponseHeaders(headers: HeaderMap, weighted?: WeightedCluster): void;
  /** Key for hash-based load balancing from the route's hash_policy (see hash.ts for the function), or undefined when no policy produced a value. */
  computeHash(req: RouteRequest): number | undefined;
}

export interface RouteTable {
  match(req: RouteRequest): CompiledRoute | undefined;
  readonly config: RouteConfiguration;
}

interface MutationLevels {
  readonly request: readonly MutationStep[];
  readonly response: readonly MutationStep[];
}

function compileLevels(
  level: Pick<RouteConfiguration, 'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'>,
  configPath: string,
): MutationLevels {
  return {
    request: compileMutationLevel(level.requestHeadersToAdd, level.requestHeadersToRemove, configPath, 'request'),
    response: compileMutationLevel(level.responseHeadersToAdd, level.responseHeadersToRemove, configPath, 'response'),
  };
}

type ClusterPicker = (req: RouteRequest, random: number) => ClusterPick | undefined;

const noCluster: ClusterPicker = () => undefined;

function compileClusterPicker(action: ForwardAction, configPath: string): ClusterPicker {
  if (action.cluster !== undefined) {
    const pick: ClusterPick = Object.freeze({ cluster: action.cluster });
    return () => pick;
  }
  if (action.weightedClusters !== undefined) return compileWeightedPicker(action.weightedClusters, `${configPath}.route.weighted_clusters`);
  if (action.clusterHeader !== undefined) {
    const read = headerReader(action.clusterHeader);
    return (req) => {
      const cluster = read(req);
      return cluster === undefined || cluster === '' ? undefined : { cluster };
    };
  }
  throw new ConfigError(`${configPath}.route`, 'one of cluster, weighted_clusters or cluster_header is required');
}

function compileWeightedPicker(clusters: readonly WeightedCluster[], configPath: string): ClusterPicker {
  const picks = clusters.map((weighted): ClusterPick => Object.freeze({ cluster: weighted.name, weighted }));
  const pick = compileWeightedPick(picks, (p) => p.weighted!.weight);
  if (pick === undefined) throw new ConfigError(`${configPath}.clusters`, 'the sum of cluster weights must be greater than 0');
  return (_req, random) => pick(random);
}

class CompiledRouteImpl implements CompiledRoute {
  readonly name: string;
  readonly action: Route['action'];
  readonly retryPolicy: RetryPolicy | undefined;
  readonly pickCluster: ClusterPicker;
  readonly rewritePath: PathRewriter;
  readonly computeHash: HashComputer;
  private readonly requestSteps: readonly MutationStep[];
  private readonly responseSteps: readonly MutationStep[];
  private readonly weightedLevels: Map<WeightedCluster, MutationLevels>;

  constructor(
    readonly route: Route,
    readonly virtualHost: VirtualHost,
    configPath: string,
    enclosingLevels: readonly MutationLevels[],
  ) {
    const { action } = route;
    this.name = route.name ?? '';
    this.action = action;
    this.weightedLevels = new Map();
    const routeLevels = compileLevels(route, configPath);
    this.requestSteps = [routeLevels, ...enclosingLevels].flatMap((l) => l.request);
    this.responseSteps = [routeLevels, ...enclosingLevels].flatMap((l) => l.response);

    if (action.kind === 'forward') {
      this.retryPolicy = action.retryPolicy ?? virtualHost.retryPolicy;
      this.pickCluster = compileClusterPicker(action, configPath);
      this.rewritePath = compilePathRewrite(route.match, action.prefixRewrite, action.regexRewrite, configPath);
      this.computeHash = compileHashPolicies(action.hashPolicy);
      action.weightedClusters?.forEach((w, i) => {
        this.weightedLevels.set(w, compileLevels(w, `${configPath}.route.weighted_clusters.clusters[${i}]`));
      });
    } else {
      this.retryPolicy = undefined;
      this.pickCluster = noCluster;
      this.computeHash = compileHashPolicies([]);
      if (action.kind === 'redirect' && action.pathRedirect !== undefined && action.prefixRewrite !== undefined) {
        throw new ConfigError(`${configPath}.redirect`, 'path_redirect and prefix_rewrite are mutually exclusive');
      }
      this.rewritePath = compilePathRewrite(route.match, action.kind === 'redirect' ? action.prefixRewrite : undefined, undefined, configPath);
    }
  }

  mutateRequestHeaders(headers: HeaderMap, weighted?: WeightedCluster): void {
    if (weighted !== undefined) applyMutations(headers, this.levelsOf(weighted).request);
    applyMutations(headers, this.requestSteps);
  }

  mutateResponseHeaders(headers: HeaderMap, weighted?: WeightedCluster): void {
    if (weighted !== undefined) applyMutations(headers, this.levelsOf(weighted).response);
    applyMutations(headers, this.responseSteps);
  }

  private levelsOf(weighted: WeightedCluster): MutationLevels {
    // Entries from this route's config are precompiled; any other object is compiled on demand.
    return this.weightedLevels.get(weighted) ?? compileLevels(weighted, 'weighted_cluster');
  }
}

interface CompiledVirtualHost {
  readonly matchers: readonly RouteMatcher[];
  readonly routes: readonly CompiledRoute[];
}

/**
 * Compiles and validates a route configuration; throws ConfigError (path under
 * `configPath`) for an invalid regex or rewrite, a duplicate domain, a missing
 * cluster specifier or a mutation of a reserved header.
 */
export function compileRouteTable(config: RouteConfiguration, configPath = 'route_config'): RouteTable {
  const configLevels = compileLevels(config, configPath);
  const hosts = config.virtualHosts.map((virtualHost, i) => {
    const hostPath = `${configPath}.virtual_hosts[${i}]`;
    const enclosing = [compileLevels(virtualHost, hostPath), configLevels];
    const matchers: RouteMatcher[] = [];
    const routes: CompiledRoute[] = [];
    virtualHost.routes.forEach((route, j) => {
      const routePath = `${hostPath}.routes[${j}]`;
      matchers.push(compileRouteMatch(route.match, routePath));
      routes.push(new CompiledRouteImpl(route, virtualHost, routePath, enclosing));
    });
    const compiled: CompiledVirtualHost = { matchers, routes };
    return { domains: virtualHost.domains, value: compiled };
  });
  const selector = compileVirtualHostSelector(hosts, configPath);

  return {
    config,
    match(req: RouteRequest): CompiledRoute | undefined {
      const host = selector.select(req.authority);
      if (host === undefined) return undefined;
      const end = pathEnd(req.path);
      const { matchers } = host;
      for (let i = 0; i < matchers.length; i++) if (matchers[i]!(req, end)) return host.routes[i];
      return undefined;
    },
  };
}
