/**
 * Mesh resources for the translation tests, built the way the API builds them:
 * through the model's validation, so specs carry their defaults.
 */
import { validateResource } from '../../../src/controlplane/model/validate.js';
import type { Resource } from '../../../src/controlplane/model/resource.js';
import type { ProxyIdentity } from '../../../src/controlplane/translate/translate.js';

const MESH = 'mesh.weft.dev/v1alpha1';

export function resource(apiVersion: string, kind: string, name: string, spec: unknown, namespace = 'default'): Resource {
  const result = validateResource({ apiVersion, kind, metadata: { name, namespace }, spec });
  if (!result.ok) throw new Error(`test resource ${kind} ${name} is invalid: ${JSON.stringify(result.errors)}`);
  return result.resource;
}

export function service(name: string, spec: unknown, namespace?: string): Resource {
  return resource(MESH, 'Service', name, spec, namespace);
}

export function workload(name: string, spec: unknown, namespace?: string): Resource {
  return resource(MESH, 'Workload', name, spec, namespace);
}

export function trafficPolicy(name: string, spec: unknown, namespace?: string): Resource {
  return resource(MESH, 'TrafficPolicy', name, spec, namespace);
}

export function gateway(name: string, spec: unknown, namespace?: string): Resource {
  return resource(MESH, 'Gateway', name, spec, namespace);
}

export function trafficSplit(name: string, spec: unknown, namespace?: string): Resource {
  return resource('split.smi-spec.io/v1alpha4', 'TrafficSplit', name, spec, namespace);
}

export function httpRouteGroup(name: string, spec: unknown, namespace?: string): Resource {
  return resource('specs.smi-spec.io/v1alpha4', 'HTTPRouteGroup', name, spec, namespace);
}

/** An HTTP service `name` on port 9080 with one workload per address. */
export function httpService(name: string, addresses: readonly string[], extra: { selector?: Record<string, string>; labels?: Record<string, string> } = {}): Resource[] {
  return [
    service(name, { ports: [{ name: 'http', port: 9080, protocol: 'http' }], ...(extra.selector === undefined ? {} : { selector: extra.selector }) }),
    ...addresses.map((address, i) => workload(`${name}-${i + 1}`, {
      address,
      service: name,
      ports: [{ name: 'http', port: 9080 }],
      ...(extra.labels === undefined ? {} : { labels: extra.labels }),
    })),
  ];
}

export const SIDECAR: ProxyIdentity = { nodeId: 'sidecar~10.0.0.9~productpage-1.default', namespace: 'default', kind: 'sidecar' };
export const PROXYLESS: ProxyIdentity = { nodeId: 'grpc-client', namespace: 'default', kind: 'proxyless' };

/** The element of `items` whose `field` is `value`; fails the test when absent. */
export function named<T extends object>(items: readonly T[], value: string, field = 'name'): Record<string, unknown> {
  const found = items.find((item) => (item as Record<string, unknown>)[field] === value);
  if (found === undefined) {
    throw new Error(`no ${field} ${value} among ${items.map((i) => String((i as Record<string, unknown>)[field])).join(', ')}`);
  }
  return found as Record<string, unknown>;
}
