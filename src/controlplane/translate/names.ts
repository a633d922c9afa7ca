/**
 * The names translate/ gives xDS resources. They are part of the control plane's
 * contract (proxies, dashboards and tests refer to them), so they live in one
 * place and README.md lists them.
 */

/** The cluster domain Kubernetes-style host names end with. */
export const CLUSTER_DOMAIN = 'cluster.local';

/** Ports of the sidecar's capture listeners (DESIGN.md). */
export const DEFAULT_OUTBOUND_PORT = 15001;
export const DEFAULT_INBOUND_PORT = 15006;

/** The sidecar's outbound RouteConfiguration, named by its HTTP connection manager's rds. */
export const OUTBOUND_ROUTE_CONFIG = 'outbound';

/** `<name>.<namespace>.svc.cluster.local`: the one fully qualified host of a service. */
export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

/** Istio's outbound cluster name: `outbound|<port>||<name>.<namespace>.svc`. Also the EDS resource name. */
export function outboundClusterName(name: string, namespace: string, port: number): string {
  return `outbound|${port}||${name}.${namespace}.svc`;
}

/** Istio's inbound cluster name: `inbound|<workload port>||`. */
export function inboundClusterName(workloadPort: number): string {
  return `inbound|${workloadPort}||`;
}

/** `outbound_0.0.0.0_<port>` (the capture listener and the per-port TCP listeners). */
export function outboundListenerName(port: number): string {
  return `outbound_0.0.0.0_${port}`;
}

export function inboundListenerName(port: number): string {
  return `inbound_0.0.0.0_${port}`;
}

/** A gateway's listener on `port`; also the name of its RouteConfiguration when HTTP. */
export function gatewayListenerName(port: number): string {
  return `gateway_0.0.0.0_${port}`;
}

/** The virtual host of one service port in an outbound or gateway route config. */
export function virtualHostName(name: string, namespace: string, port: number): string {
  return `${serviceFqdn(name, namespace)}:${port}`;
}

/**
 * The host names a client may use for a service, shortest first: the bare name
 * only from the service's own namespace (elsewhere it would be ambiguous), then
 * `name.ns`, `name.ns.svc` and the FQDN.
 */
export function serviceHosts(name: string, namespace: string, clientNamespace: string): string[] {
  const hosts = [`${name}.${namespace}`, `${name}.${namespace}.svc`, serviceFqdn(name, namespace)];
  return namespace === clientNamespace ? [name, ...hosts] : hosts;
}
