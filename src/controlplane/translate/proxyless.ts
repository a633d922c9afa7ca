/**
 * Proxyless gRPC clients (grpc-js-xds): `xds:///<target>` makes the client ask
 * LDS for the Listener named `<target>`, whose api_listener is an
 * HttpConnectionManager naming a RouteConfiguration (RDS) of the same name, in
 * which the virtual host matching `<target>` picks the cluster. So each
 * HTTP-family service port gets one Listener and one RouteConfiguration per
 * name a client may dial: every host of the service (names.ts serviceHosts)
 * with `:<port>`, and without a port for the service's first HTTP port.
 * TCP ports are not reachable by gRPC and get none.
 */
import type { JsonObject } from './envoy-values.js';
import { firstClaim } from './first-claim.js';
import { policyHttpFilters } from './http-filters.js';
import { httpConnectionManager, rdsRoutes } from './listeners.js';
import { serviceHosts } from './names.js';
import { isHttpPort, serviceRoutes, type RouteContext } from './routes.js';
import type { ListenersAndRoutes } from './sidecar.js';

export function proxylessListeners(ctx: RouteContext, clientNamespace: string): ListenersAndRoutes {
  const claim = firstClaim<string>();
  const listeners: JsonObject[] = [];
  const routes: JsonObject[] = [];
  for (const service of ctx.view.services) {
    const hosts = serviceHosts(service.name, service.namespace, clientNamespace);
    // grpc-js-xds runs the fault filter (no rate limiting); the api_listener serves this service only.
    const filters = policyHttpFilters(ctx.view.policyFor(service.namespace, service.name), { rateLimit: false });
    service.spec.ports.filter(isHttpPort).forEach((port, i) => {
      const targets = [...(i === 0 ? hosts : []), ...hosts.map((h) => `${h}:${port.port}`)].filter(claim);
      for (const target of targets) {
        listeners.push({ name: target, api_listener: { api_listener: httpConnectionManager(target, rdsRoutes(target), filters) } });
        routes.push({ name: target, virtual_hosts: [{ name: target, domains: [target], routes: serviceRoutes(ctx, service, port) }] });
      }
    });
  }
  return { listeners, routes };
}
