/**
 * Gateway proxies: a listener per Gateway listener port. An HTTP listener's
 * RouteConfiguration (named like the listener) holds the routes attached to it
 * (naming it, or naming no listener), in spec order since the first match wins,
 * for the listener's hostnames (any host when it names none). A TCP listener
 * proxies to the one route naming it. Routes honour the backend's TrafficPolicy
 * and its unconditional TrafficSplit. Every listener logs access as the Mesh
 * says; a TCP listener (one backend) as the backend's TrafficPolicy overrides.
 */
import type { GatewaySpec } from '../model/gateway.js';
import { destinationAccessLog, envoyAccessLogs } from './access-log.js';
import type { JsonObject } from './envoy-values.js';
import { firstClaim } from './first-claim.js';
import { httpConnectionManager, httpConnectionManagerFilter, rdsRoutes, socketListener, tcpProxyFilter } from './listeners.js';
import type { MeshView, Named } from './mesh-view.js';
import { gatewayListenerName, outboundClusterName } from './names.js';
import { routeAction, unconditionalSplit, type RouteContext } from './routes.js';
import type { ListenersAndRoutes } from './sidecar.js';

type GatewayListener = GatewaySpec['listeners'][number];
type GatewayRoute = GatewaySpec['routes'][number];

/** A gateway proxy serves the Gateway named like its workload, or every Gateway in its namespace when it names none. */
export function gatewayListeners(ctx: RouteContext, namespace: string, workload: string | undefined): ListenersAndRoutes {
  const gateways = ctx.view.gateways.filter((g) => g.namespace === namespace && (workload === undefined || g.name === workload));
  const claimPort = firstClaim<number>();
  const listeners: JsonObject[] = [];
  const routes: JsonObject[] = [];
  for (const gateway of gateways) {
    for (const listener of gateway.spec.listeners) {
      if (!claimPort(listener.port)) continue;
      const name = gatewayListenerName(listener.port);
      const attached = gateway.spec.routes.filter((r) => r.listener === listener.name || (r.listener === undefined && listener.protocol === 'HTTP'));
      if (listener.protocol === 'HTTP') {
        // OUTBOUND, as Istio marks gateway listeners: the gateway is the mesh client here, so it names
        // itself to the destination sidecar (x-weft-source-workload) and reports as the source.
        listeners.push(socketListener(name, listener.port, 'OUTBOUND', httpConnectionManagerFilter(httpConnectionManager(name, rdsRoutes(name), [], envoyAccessLogs(ctx.view.accessLog)))));
        routes.push({ name, virtual_hosts: [{ name, domains: gatewayDomains(listener), routes: httpRoutes(ctx, gateway, attached) }] });
      } else {
        const tcp = attached[0] === undefined ? undefined : tcpProxy(ctx.view, gateway, attached[0], name);
        if (tcp !== undefined) listeners.push(socketListener(name, listener.port, 'OUTBOUND', tcp));
      }
    }
  }
  return { listeners, routes };
}

/** Each hostname with and without the listener port (clients send the port in Host unless it is the scheme's default). */
function gatewayDomains(listener: GatewayListener): string[] {
  const hostnames = listener.hostnames ?? [];
  if (hostnames.length === 0) return ['*'];
  return hostnames.flatMap((h) => [h, `${h}:${listener.port}`]);
}

function httpRoutes(ctx: RouteContext, gateway: Named<GatewaySpec>, attached: readonly GatewayRoute[]): JsonObject[] {
  return attached.flatMap((route) => {
    const backend = resolveBackend(ctx.view, gateway.namespace, route);
    if (backend === undefined) return [];
    const split = unconditionalSplit(ctx.view, backend.service, backend.port);
    return [{ match: { prefix: route.match?.pathPrefix ?? '/' }, route: routeAction(ctx, backend.service, backend.port, split) }];
  });
}

function tcpProxy(view: MeshView, gateway: Named<GatewaySpec>, route: GatewayRoute, statPrefix: string): JsonObject | undefined {
  const backend = resolveBackend(view, gateway.namespace, route);
  if (backend === undefined) return undefined;
  const { service, port } = backend;
  const policy = view.policyFor(service.namespace, service.name);
  const cluster = outboundClusterName(service.name, service.namespace, port.port);
  return tcpProxyFilter(statPrefix, cluster, unconditionalSplit(view, service, port), policy?.timeouts?.idle, envoyAccessLogs(destinationAccessLog(view, policy)));
}

/** A missing backend service or port leaves the route out (the Gateway carries an Invalid condition). */
function resolveBackend(view: MeshView, namespace: string, route: GatewayRoute) {
  const service = view.service(namespace, route.backend.service);
  const port = service?.spec.ports.find((p) => p.port === route.backend.port);
  return service === undefined || port === undefined ? undefined : { service, port };
}
