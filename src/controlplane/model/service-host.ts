/**
 * Resolves the host names mesh resources use for Services to a Service's key:
 * `reviews`, `reviews.bookinfo`, `reviews.bookinfo.svc` or
 * `reviews.bookinfo.svc.<trust domain>`, as Kubernetes DNS spells them.
 */
import type { ResourceKey } from './resource.js';

/** The Service `host` names, relative to `namespace`; undefined for a host outside the mesh (e.g. `api.example.com`). */
export function serviceKeyFromHost(host: string, namespace: string): ResourceKey | undefined {
  const [name = '', hostNamespace = namespace, svc] = host.split('.');
  if (name === '') return undefined;
  const isServiceHost = svc === undefined || svc === 'svc';
  return isServiceHost ? { kind: 'Service', namespace: hostNamespace, name } : undefined;
}
