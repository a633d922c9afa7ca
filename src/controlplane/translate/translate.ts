/**
 * translate/: mesh resources in, the xDS resources of one proxy out. A pure
 * function of its inputs: resources are indexed in sorted order and every output
 * list is sorted by name, so equal inputs give byte-equal JSON (the xDS cache
 * versions resources by hash). Naming conventions: names.ts and README.md.
 *
 * Every proxy gets a cluster and a ClusterLoadAssignment per service port in the
 * mesh (a sidecar may call any service; clients that subscribe by name, like
 * grpc-js-xds, are narrowed by the ADS server). Listeners and routes depend on
 * the proxy's kind: sidecar.ts, proxyless.ts, gateway.ts.
 */
import type { Resource } from '../model/resource.js';
import { outboundCluster } from './clusters.js';
import { loadAssignment } from './endpoints.js';
import { pruneUndefined, type JsonObject } from './envoy-values.js';
import { gatewayListeners } from './gateway.js';
import { buildMeshView, compare, type MeshView } from './mesh-view.js';
import { DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT, outboundClusterName } from './names.js';
import { proxylessListeners } from './proxyless.js';
import type { RouteContext } from './routes.js';
import { mtlsEnabled, proxySecrets, reachedThroughSidecars, secureInboundListener, upstreamTlsSocket } from './mtls.js';
import { sidecarInbound, sidecarOutbound, type CapturePorts } from './sidecar.js';

export interface ProxyIdentity {
  nodeId: string;
  /** The Workload this proxy fronts (sidecar), or the Gateway it serves (gateway). */
  workload?: string;
  namespace: string;
  kind: 'sidecar' | 'gateway' | 'proxyless';
  /** A sidecar's capture listener ports; default 15001 / 15006 (DESIGN.md). */
  capturePorts?: CapturePorts;
}

/** Envoy v3 resources as proto3 JSON (snake_case fields, `@type` in Any). */
export interface XdsResources {
  listeners: object[];
  routes: object[];
  clusters: object[];
  endpoints: object[];
  /** SDS: `ROOTCA` and (once issued) `default` for a sidecar of a registered workload. */
  secrets: object[];
}

/**
 * Translates one model version for many proxies. Everything that does not depend
 * on the individual proxy (the mesh view, the outbound clusters and endpoints,
 * the outbound routes of a namespace, a namespace's proxyless listeners) is built
 * once and shared: proxies that see the same thing get the same objects, so the
 * snapshot cache hashes and encodes them once (go-control-plane's "build once,
 * serve many"). Outputs must be treated as immutable.
 */
export interface Translator {
  forProxy(proxy: ProxyIdentity): XdsResources;
}

interface Parts {
  listeners: JsonObject[];
  routes: JsonObject[];
  clusters: JsonObject[];
  endpoints: JsonObject[];
}

export function createTranslator(resources: readonly Resource[]): Translator {
  const view = buildMeshView(resources);
  const memo = new Map<string, unknown>();
  /** Builds a shared part on first use, pruned once so every proxy gets the identical objects. */
  const shared = <T extends object>(key: string, build: () => T): T => {
    let part = memo.get(key) as T | undefined;
    if (part === undefined) {
      part = pruneUndefined(build());
      memo.set(key, part);
    }
    return part;
  };
  return {
    forProxy(proxy) {
      const proxyless = proxy.kind === 'proxyless';
      const ctx: RouteContext = { view, proxyless };
      const base = shared(`clusters|${proxyless}`, () => outboundClusters(view, proxyless));
      const out: Parts = { listeners: [], routes: [], clusters: [...base.clusters], endpoints: base.endpoints };
      let secrets: object[] = [];
      switch (proxy.kind) {
        case 'sidecar': {
          const ports = proxy.capturePorts ?? { outbound: DEFAULT_OUTBOUND_PORT, inbound: DEFAULT_INBOUND_PORT };
          const outbound = shared(`sidecar|${proxy.namespace}|${ports.outbound}|${ports.inbound}`, () => sidecarOutbound(ctx, proxy.namespace, ports));
          out.listeners.push(...outbound.listeners);
          out.routes.push(...outbound.routes);
          if (proxy.workload !== undefined) {
            const inbound = pruneUndefined(sidecarInbound(view, proxy.namespace, proxy.workload, ports.inbound));
            const mtls = view.mtls;
            out.listeners.push(...(mtlsEnabled(mtls) ? inbound.listeners.map((l) => pruneUndefined(secureInboundListener(l, mtls))) : inbound.listeners));
            out.clusters.push(...inbound.clusters);
            secrets = pruneUndefined(proxySecrets(view.ca, view.issuedCertificate(proxy.namespace, proxy.workload)));
          }
          break;
        }
        case 'proxyless': {
          const { listeners, routes } = shared(`proxyless|${proxy.namespace}`, () => proxylessListeners(ctx, proxy.namespace));
          out.listeners.push(...listeners);
          out.routes.push(...routes);
          break;
        }
        case 'gateway': {
          const { listeners, routes } = pruneUndefined(gatewayListeners(ctx, proxy.namespace, proxy.workload));
          out.listeners.push(...listeners);
          out.routes.push(...routes);
          break;
        }
      }
      return {
        listeners: sortedBy(out.listeners, 'name'),
        routes: sortedBy(out.routes, 'name'),
        clusters: sortedBy(out.clusters, 'name'),
        endpoints: sortedBy(out.endpoints, 'cluster_name'),
        secrets,
      };
    },
  };
}

/** One proxy's resources from one model version (see createTranslator to serve many). */
export function translateForProxy(proxy: ProxyIdentity, resources: readonly Resource[]): XdsResources {
  return createTranslator(resources).forProxy(proxy);
}

function outboundClusters(view: MeshView, proxyless: boolean): { clusters: JsonObject[]; endpoints: JsonObject[] } {
  const clusters: JsonObject[] = [];
  const endpoints: JsonObject[] = [];
  for (const service of view.services) {
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
