/**
 * translate/: mesh resources in, the xDS resources of one proxy out. A pure
 * function of its inputs: resources are indexed in sorted order and every output
 * list is sorted by name, so equal inputs give byte-equal JSON (the xDS cache
 * versions resources by hash). Naming conventions: names.ts and README.md.
 *
 * Every proxy gets a cluster and a ClusterLoadAssignment per service port in its
 * scope (scope.ts): every service in the mesh, or for a sidecar whose Workload
 * sets reachableServices those services and their route targets. Clients that
 * subscribe by name, like grpc-js-xds, are narrowed further by the ADS server. Listeners and routes depend on
 * the proxy's kind: sidecar.ts, proxyless.ts, gateway.ts.
 */
import type { Resource } from '../model/resource.js';
import { outboundCluster } from './clusters.js';
import { loadAssignment } from './endpoints.js';
import { pruneUndefined, type JsonObject } from './envoy-values.js';
import { gatewayListeners } from './gateway.js';
import type { ServiceSpec } from '../model/service.js';
import { buildMeshView, compare, type MeshView, type Named } from './mesh-view.js';
import { DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT, outboundClusterName } from './names.js';
import { proxylessListeners } from './proxyless.js';
import type { RouteContext } from './routes.js';
import { mtlsEnabled, proxySecrets, reachedThroughSidecars, secureInboundListener, upstreamTlsSocket } from './mtls.js';
import { everyService, sidecarScope } from './scope.js';
import { sidecarInbound, sidecarOutbound, type CapturePorts, type InboundResources } from './sidecar.js';

export interface ProxyIdentity {
  nodeId: string;
  /** The Workload this proxy fronts (sidecar), or the Gateway it serves (gateway). */
  workload?: string;
  namespace: string;
  kind: 'sidecar' | 'gateway' | 'proxyless';
  /** A sidecar's capture listener ports; default 15001 / 15006 (DESIGN.md). */
  capturePorts?: CapturePorts;
}

/** Envoy v3 resources as proto3 JSON (snake_case fields, `@type` in Any): what proxies of one shape share. */
export interface XdsConfig {
  listeners: object[];
  routes: object[];
  clusters: object[];
  endpoints: object[];
}

/** One proxy's whole config: the shared part and its own SDS secrets (`ROOTCA`, and `default` once its certificate is issued). */
export interface XdsResources extends XdsConfig {
  secrets: object[];
}

/**
 * Translates one model version for many proxies. Everything that does not depend
 * on the individual proxy (the mesh view, the outbound clusters and endpoints,
 * the outbound routes of a namespace, a namespace's proxyless listeners) is built
 * once and shared: proxies that see the same thing get the same objects, so the
 * snapshot cache hashes and encodes them once (go-control-plane's "build once,
 * serve many"). Proxies whose whole config is equal get the same XdsResources
 * object, which lets the controller and the cache share one snapshot between
 * them. Outputs must be treated as immutable.
 */
export interface Translator {
  /** The index the translator reads (for dependency tracking, translate/dependencies.ts). */
  readonly view: MeshView;
  /** Listeners, routes, clusters and endpoints: the same object for every proxy with equal config. */
  forProxy(proxy: ProxyIdentity): XdsConfig;
  /** The proxy's own secrets: its certificate is bound to the key only it holds, so this part is never shared. */
  secretsFor(proxy: ProxyIdentity): object[];
}

export function createTranslator(resources: readonly Resource[]): Translator {
  const view = buildMeshView(resources);
  const memo = new Map<string, unknown>();
  const memoized = <T>(key: string, build: () => T): T => {
    let value = memo.get(key) as T | undefined;
    if (value === undefined) memo.set(key, (value = build()));
    return value;
  };
  /** Builds a shared part on first use, pruned once so every proxy gets the identical objects. */
  const shared = <T extends object>(key: string, build: () => T): T => memoized(key, () => pruneUndefined(build()));
  return {
    view,
    forProxy(proxy) {
      const proxyless = proxy.kind === 'proxyless';
      const ctx: RouteContext = { view, proxyless };
      const scope = proxy.kind === 'sidecar' ? sidecarScope(view, proxy.namespace, proxy.workload) : everyService(view);
      const base = () => shared(`clusters|${proxyless}|${scope.key}`, () => outboundClusters(view, proxyless, scope.services));
      switch (proxy.kind) {
        case 'sidecar': {
          const ports = proxy.capturePorts ?? { outbound: DEFAULT_OUTBOUND_PORT, inbound: DEFAULT_INBOUND_PORT };
          const outboundKey = `${proxy.namespace}|${ports.outbound}|${ports.inbound}|${scope.key}`;
          const inbound = proxy.workload === undefined ? undefined : secureInbound(view, sidecarInbound(view, proxy.namespace, proxy.workload, ports.inbound));
          // Sidecars whose inbound side is equal too (replicas of one workload shape) share the whole output.
          return memoized(`sidecar|${outboundKey}|${JSON.stringify(inbound)}`, () => {
            const outbound = shared(`sidecar-outbound|${outboundKey}`, () => sidecarOutbound(ctx, proxy.namespace, ports, scope.services));
            return assemble(base(), outbound, inbound ?? { listeners: [], clusters: [] });
          });
        }
        case 'proxyless':
          return memoized(`proxyless|${proxy.namespace}`, () => assemble(base(), shared(`proxyless-listeners|${proxy.namespace}`, () => proxylessListeners(ctx, proxy.namespace))));
        case 'gateway':
          return memoized(`gateway|${proxy.namespace}|${proxy.workload ?? ''}`, () => assemble(base(), pruneUndefined(gatewayListeners(ctx, proxy.namespace, proxy.workload))));
      }
    },
    secretsFor(proxy) {
      // Sidecars and gateways hold identities (a gateway presents its own to the sidecars it calls).
      if (proxy.kind === 'proxyless' || proxy.workload === undefined) return [];
      return pruneUndefined(proxySecrets(view.ca, view.issuedCertificate(proxy.namespace, proxy.workload)));
    },
  };
}

/** One proxy's sorted resource lists from shared parts (the objects themselves are shared, never copied). */
function assemble(
  base: { clusters: JsonObject[]; endpoints: JsonObject[] },
  listenersAndRoutes: { listeners: JsonObject[]; routes: JsonObject[] },
  own: { listeners: JsonObject[]; clusters: JsonObject[] } = { listeners: [], clusters: [] },
): XdsConfig {
  return {
    listeners: sortedBy([...listenersAndRoutes.listeners, ...own.listeners], 'name'),
    routes: sortedBy(listenersAndRoutes.routes, 'name'),
    clusters: sortedBy([...base.clusters, ...own.clusters], 'name'),
    endpoints: sortedBy(base.endpoints, 'cluster_name'),
  };
}

/** A sidecar's inbound listener with TLS per the Mesh's mode (mtls.ts), pruned. */
function secureInbound(view: MeshView, inbound: InboundResources): InboundResources {
  const mtls = view.mtls;
  const listeners = mtlsEnabled(mtls) ? inbound.listeners.map((l) => secureInboundListener(l, mtls)) : inbound.listeners;
  return pruneUndefined({ listeners, clusters: inbound.clusters });
}

/** One proxy's resources from one model version (see createTranslator to serve many). */
export function translateForProxy(proxy: ProxyIdentity, resources: readonly Resource[]): XdsResources {
  const translator = createTranslator(resources);
  return { ...translator.forProxy(proxy), secrets: translator.secretsFor(proxy) };
}

function outboundClusters(view: MeshView, proxyless: boolean, services: ReadonlyArray<Named<ServiceSpec>>): { clusters: JsonObject[]; endpoints: JsonObject[] } {
  const clusters: JsonObject[] = [];
  const endpoints: JsonObject[] = [];
  for (const service of services) {
    const policy = view.policyFor(service.namespace, service.name);
    const workloads = view.workloadsOf(service);
    // Proxyless clients have no SDS and dial workloads directly; sidecars go through the peer's sidecar.
    const throughSidecars = !proxyless && reachedThroughSidecars(workloads);
    const mtls = view.mtls;
    for (const port of service.spec.ports) {
      const cluster = outboundCluster(service, port, policy, proxyless);
      if (throughSidecars && mtlsEnabled(mtls)) cluster['transport_socket'] = upstreamTlsSocket(service, port, workloads, mtls.trustDomain);
      clusters.push(cluster);
      endpoints.push(loadAssignment(outboundClusterName(service.name, service.namespace, port.port), port, workloads, !proxyless));
    }
  }
  return { clusters, endpoints };
}

/** Sorted copy of already-pruned items (the objects themselves are shared, never copied). */
function sortedBy(items: readonly JsonObject[], field: 'name' | 'cluster_name'): object[] {
  return [...items].sort((a, b) => compare(String(a[field]), String(b[field])));
}
