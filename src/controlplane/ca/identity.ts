/**
 * SPIFFE identities of workloads: `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`
 * (Istio's path layout, so Istio-aware tools read Weft certificates).
 */

export const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** The control plane's own identity (its mTLS xDS port): `spiffe://<trust domain>/ns/weft-system/sa/weft-controlplane`. */
export const CONTROL_PLANE_NAMESPACE = 'weft-system';
export const CONTROL_PLANE_SERVICE_ACCOUNT = 'weft-controlplane';

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export function spiffeId({ trustDomain, namespace, serviceAccount }: WorkloadIdentity): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

const SPIFFE_PATH = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;

/** The identity a SPIFFE ID names, or undefined when it is not of the `/ns/<ns>/sa/<sa>` form. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const match = SPIFFE_PATH.exec(uri);
  if (match === null) return undefined;
  return { trustDomain: match[1]!, namespace: match[2]!, serviceAccount: match[3]! };
}
