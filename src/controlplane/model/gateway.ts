/**
 * Gateway: an edge proxy's listeners and the routes that take traffic from
 * outside the mesh to Services. An HTTP route attaches to the listener it
 * names, or to every HTTP listener; a TCP listener forwards everything to the
 * single route that names it.
 */
import { Type, type Static } from '@sinclair/typebox';
import { fieldPath, indexPath, type FieldError } from './field-error.js';
import { MESH_API_VERSION, type KindInfo, type Reference } from './kind-info.js';
import type { Resource } from './resource.js';
import { FormattedString, Port, ServiceName, StrictObject, StringEnum } from './schema-common.js';
import { duplicateErrors } from './semantics.js';

export const GATEWAY_PROTOCOLS = ['HTTP', 'TCP'] as const;

export const GatewayListenerSchema = StrictObject({
  name: FormattedString('dns1123-label', { description: 'Unique within the Gateway; routes refer to it.' }),
  port: Port('The port the Gateway listens on.'),
  protocol: Type.Optional(StringEnum(GATEWAY_PROTOCOLS, { default: 'HTTP' })),
  hostnames: Type.Optional(
    Type.Array(FormattedString('gateway-hostname'), { minItems: 1, description: 'HTTP only: Host headers served (default: any); "*.example.com" allowed.' }),
  ),
});

export const GatewayRouteSchema = StrictObject({
  listener: Type.Optional(FormattedString('dns1123-label', { description: 'The listener this route attaches to (default: every HTTP listener).' })),
  match: Type.Optional(
    StrictObject({ pathPrefix: FormattedString('http-path', { description: 'HTTP only: requests whose path starts with this.' }) }),
  ),
  backend: StrictObject({
    service: ServiceName('The Service (in this namespace) that receives the traffic.'),
    port: Port('A port of that Service.'),
  }),
});

export const GatewaySpecSchema = StrictObject({
  serviceAccount: Type.Optional(
    FormattedString('dns1123-subdomain', {
      default: 'default',
      description: "The gateway proxy's identity: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. It presents it to sidecars (mTLS) and TrafficTargets name it as a source.",
    }),
  ),
  listeners: Type.Array(GatewayListenerSchema, { minItems: 1 }),
  routes: Type.Array(GatewayRouteSchema, { minItems: 1, description: 'HTTP routes are tried in order; the first match wins.' }),
});

export interface GatewaySpec extends Static<typeof GatewaySpecSchema> {
  serviceAccount: string;
  listeners: Array<Static<typeof GatewayListenerSchema> & { protocol: (typeof GATEWAY_PROTOCOLS)[number] }>;
}

function validateSemantics(resource: Resource, path: string): FieldError[] {
  const spec = resource.spec as GatewaySpec;
  const listenersPath = fieldPath(fieldPath(path, 'spec'), 'listeners');
  const routesPath = fieldPath(fieldPath(path, 'spec'), 'routes');
  const errors = [
    ...duplicateErrors(spec.listeners, (l) => l.name, (i) => fieldPath(indexPath(listenersPath, i), 'name'), 'listener name'),
    ...duplicateErrors(spec.listeners, (l) => l.port, (i) => fieldPath(indexPath(listenersPath, i), 'port'), 'listener port'),
  ];
  const listenerByName = new Map(spec.listeners.map((l) => [l.name, l]));
  spec.listeners.forEach((listener, i) => {
    if (listener.protocol === 'TCP' && listener.hostnames !== undefined) {
      errors.push({ path: fieldPath(indexPath(listenersPath, i), 'hostnames'), message: 'hostnames apply only to HTTP listeners' });
    }
  });
  const hasHttpListener = spec.listeners.some((l) => l.protocol === 'HTTP');
  const tcpRouteCount = new Map<string, number>();
  spec.routes.forEach((route, i) => {
    const routePath = indexPath(routesPath, i);
    if (route.listener === undefined) {
      if (!hasHttpListener) errors.push({ path: routePath, message: 'attaches to no listener: it names none and the Gateway has no HTTP listener' });
      return;
    }
    const listener = listenerByName.get(route.listener);
    if (listener === undefined) {
      errors.push({ path: fieldPath(routePath, 'listener'), message: `no listener named ${JSON.stringify(route.listener)}; listeners: ${[...listenerByName.keys()].join(', ')}` });
    } else if (listener.protocol === 'TCP') {
      if (route.match !== undefined) errors.push({ path: fieldPath(routePath, 'match'), message: `listener ${JSON.stringify(listener.name)} is TCP: a TCP route cannot match on HTTP paths` });
      tcpRouteCount.set(listener.name, (tcpRouteCount.get(listener.name) ?? 0) + 1);
    }
  });
  spec.listeners.forEach((listener, i) => {
    if (listener.protocol !== 'TCP') return;
    const count = tcpRouteCount.get(listener.name) ?? 0;
    if (count !== 1) {
      errors.push({ path: indexPath(listenersPath, i), message: `a TCP listener needs exactly one route naming it in routes[].listener, found ${count}` });
    }
  });
  return errors;
}

function references(resource: Resource): Reference[] {
  const spec = resource.spec as GatewaySpec;
  return spec.routes.map((route, i) => ({
    path: `spec.routes[${i}].backend.service`,
    key: { kind: 'Service', namespace: resource.metadata.namespace, name: route.backend.service },
  }));
}

export const gatewayKind: KindInfo = {
  kind: 'Gateway',
  apiVersion: MESH_API_VERSION,
  plural: 'gateways',
  shortNames: ['gw'],
  namespaced: true,
  description: 'Listeners of an edge proxy and the routes that take traffic from outside the mesh to Services.',
  specSchema: GatewaySpecSchema,
  validateSemantics,
  references,
};
