/**
 * A sidecar's listeners. Outbound: one HTTP listener on the capture port whose
 * routes (RDS `outbound`) hold a virtual host per HTTP service port, plus a TCP
 * proxy listener on each TCP service port. Inbound (when the proxy names its
 * workload): one listener on the inbound port routing to the workload's ports
 * on loopback, with the workload's RBAC (TrafficTargets, authorization.ts) and
 * its service's rate limit and fault filters.
 */
import { destinationAccessLog, envoyAccessLogs } from './access-log.js';
import { httpRbacFilter, inboundRbacRules, networkRbacFilter } from './authorization.js';
import { inboundCluster } from './clusters.js';
import { workloadPortFor } from './endpoints.js';
import { firstClaim } from './first-claim.js';
import type { JsonObject } from './envoy-values.js';
import { policyHttpFilters } from './http-filters.js';
import {
  httpConnectionManager, httpConnectionManagerFilter, inlineRoutes, rdsRoutes, socketListener, tcpProxyFilter,
} from './listeners.js';
import type { ServiceSpec } from '../model/service.js';
import type { WorkloadSpec } from '../model/workload.js';
import type { MeshView, Named, ServicePort } from './mesh-view.js';
import {
  inboundClusterName, inboundListenerName, outboundClusterName, outboundListenerName, OUTBOUND_ROUTE_CONFIG,
  serviceHosts, virtualHostName,
} from './names.js';
import { isHttpPort, serviceRoutes, unconditionalSplit, type RouteContext } from './routes.js';

/** The inline route configuration of the inbound listener. */
const INBOUND_ROUTE_CONFIG = 'inbound';
/** Inbound requests are bounded by the caller's timeout; Envoy's 15 s route default would cut long calls. */
const NO_TIMEOUT = '0s';

export interface CapturePorts {
  outbound: number;
  inbound: number;
}

export interface ListenersAndRoutes {
  listeners: JsonObject[];
  routes: JsonObject[];
}

/** Outbound listeners and routes for `services` (the proxy's scope, scope.ts). */
export function sidecarOutbound(ctx: RouteContext, clientNamespace: string, ports: CapturePorts, services: ReadonlyArray<Named<ServiceSpec>>): ListenersAndRoutes {
  const listeners = [
    socketListener(outboundListenerName(ports.outbound), ports.outbound, 'OUTBOUND', httpConnectionManagerFilter(
      httpConnectionManager(outboundListenerName(ports.outbound), rdsRoutes(OUTBOUND_ROUTE_CONFIG), [], envoyAccessLogs(ctx.view.accessLog)),
    )),
    ...tcpListeners(ctx.view, services, ports),
  ];
  return { listeners, routes: [{ name: OUTBOUND_ROUTE_CONFIG, virtual_hosts: outboundVirtualHosts(ctx, services, clientNamespace) }] };
}

/**
 * A virtual host per HTTP service port, reachable as `host:port` for every host
 * name of the service; the bare host names go to the service's first HTTP port.
 * A domain already taken (Envoy rejects duplicates) stays with the first service
 * in (namespace, name) order.
 */
function outboundVirtualHosts(ctx: RouteContext, services: ReadonlyArray<Named<ServiceSpec>>, clientNamespace: string): JsonObject[] {
  const claim = firstClaim<string>();
  return services.flatMap((service) => {
    const hosts = serviceHosts(service.name, service.namespace, clientNamespace);
    return service.spec.ports.filter(isHttpPort).flatMap((port, i) => {
      const domains = [...(i === 0 ? hosts : []), ...hosts.map((h) => `${h}:${port.port}`)].filter(claim);
      if (domains.length === 0) return [];
      return [{ name: virtualHostName(service.name, service.namespace, port.port), domains, routes: serviceRoutes(ctx, service, port) }];
    });
  });
}

/** A TCP service port gets its own listener; a port already taken (capture ports, another service) stays with the first. */
function tcpListeners(view: MeshView, services: ReadonlyArray<Named<ServiceSpec>>, ports: CapturePorts): JsonObject[] {
  const claim = firstClaim([ports.outbound, ports.inbound]);
  return services.flatMap((service) => service.spec.ports.filter((p) => !isHttpPort(p)).flatMap((port) => {
    if (!claim(port.port)) return [];
    const cluster = outboundClusterName(service.name, service.namespace, port.port);
    const policy = view.policyFor(service.namespace, service.name);
    const proxy = tcpProxyFilter(cluster, cluster, unconditionalSplit(view, service, port), policy?.timeouts?.idle, envoyAccessLogs(destinationAccessLog(view, policy)));
    return [socketListener(outboundListenerName(port.port), port.port, 'OUTBOUND', proxy)];
  }));
}

export interface InboundResources {
  listeners: JsonObject[];
  clusters: JsonObject[];
}

/** Nothing when the workload is not registered: the sidecar then only has outbound config. */
export function sidecarInbound(view: MeshView, namespace: string, workloadName: string, inboundPort: number): InboundResources {
  const workload = view.workload(namespace, workloadName);
  if (workload === undefined) return { listeners: [], clusters: [] };
  const served = servedPorts(view, workload);
  const clusterPorts = [...new Set([...workload.spec.ports.map((p) => p.port), ...served.keys()])].sort((a, b) => a - b);
  const listener = inboundListener(view, workload, served, inboundPort);
  return { listeners: listener === undefined ? [] : [listener], clusters: clusterPorts.map(inboundCluster) };
}

/** Workload port -> the service port that targets it (the first, in service order). */
function servedPorts(view: MeshView, workload: Named<WorkloadSpec>): Map<number, ServicePort> {
  const served = new Map<number, ServicePort>();
  for (const service of view.servicesOf(workload)) {
    for (const servicePort of service.spec.ports) {
      const port = workloadPortFor(servicePort, workload.spec);
      if (!served.has(port)) served.set(port, servicePort);
    }
  }
  return served;
}

/**
 * HTTP when the workload serves any HTTP port: its first HTTP port takes every
 * host, the others `*:<service port>`. A TCP-only workload gets a TCP proxy to
 * its first port. The filters and the access log come from the first backing
 * service with a policy.
 */
function inboundListener(view: MeshView, workload: Named<WorkloadSpec>, served: Map<number, ServicePort>, inboundPort: number): JsonObject | undefined {
  const name = inboundListenerName(inboundPort);
  const entries = [...served.entries()];
  const http = entries.filter(([, servicePort]) => isHttpPort(servicePort));
  const policy = view.servicesOf(workload).map((s) => view.policyFor(s.namespace, s.name)).find((p) => p !== undefined);
  const accessLog = envoyAccessLogs(destinationAccessLog(view, policy));
  if (http.length === 0) {
    const first = entries[0];
    if (first === undefined) return undefined;
    const rules = inboundRbacRules(view, workload, 'tcp', [first[1].port]);
    const proxy = tcpProxyFilter(name, inboundClusterName(first[0]), undefined, undefined, accessLog);
    return socketListener(name, inboundPort, 'INBOUND', ...(rules === undefined ? [] : [networkRbacFilter(rules)]), proxy);
  }
  const claim = firstClaim<string>();
  const virtualHosts = http.flatMap(([port, servicePort], i) => {
    const domain = i === 0 ? '*' : `*:${servicePort.port}`;
    if (!claim(domain)) return [];
    const cluster = inboundClusterName(port);
    return [{ name: cluster, domains: [domain], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: NO_TIMEOUT } }] }];
  });
  // Authorization first: a denied request must not take a rate-limit token or wait out a fault delay.
  const rules = inboundRbacRules(view, workload, 'http', entries.map(([, servicePort]) => servicePort.port));
  const filters = [...(rules === undefined ? [] : [httpRbacFilter(rules)]), ...policyHttpFilters(policy, { rateLimit: true })];
  const manager = httpConnectionManager(name, inlineRoutes({ name: INBOUND_ROUTE_CONFIG, virtual_hosts: virtualHosts }), filters, accessLog);
  return socketListener(name, inboundPort, 'INBOUND', httpConnectionManagerFilter(manager));
}
