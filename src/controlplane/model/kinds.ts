/** The registry of mesh resource kinds: native mesh.weft.dev kinds and the SMI kinds. */
import { gatewayKind } from './gateway.js';
import { httpRouteGroupKind } from './http-route-group.js';
import type { KindInfo } from './kind-info.js';
import { meshKind } from './mesh.js';
import { performanceProfileKind } from './performance-profile.js';
import { performanceResultKind } from './performance-result.js';
import { serviceKind } from './service.js';
import { tcpRouteKind } from './tcp-route.js';
import { trafficPolicyKind } from './traffic-policy.js';
import { trafficSplitKind } from './traffic-split.js';
import { trafficTargetKind } from './traffic-target.js';
import { workloadKind } from './workload.js';

export type { KindInfo, Reference } from './kind-info.js';
export { MESH_API_VERSION, SMI_ACCESS_API_VERSION, SMI_SPECS_API_VERSION, SMI_SPLIT_API_VERSION } from './kind-info.js';

export const KINDS: readonly KindInfo[] = [
  meshKind,
  serviceKind,
  workloadKind,
  trafficPolicyKind,
  gatewayKind,
  trafficSplitKind,
  httpRouteGroupKind,
  tcpRouteKind,
  performanceProfileKind,
  performanceResultKind,
  trafficTargetKind,
];

// Every spelling the CLI and API accept, lower-cased: kind, plural, short names.
const kindByName = new Map<string, KindInfo>();
for (const info of KINDS) {
  for (const name of [info.kind, info.plural, ...(info.shortNames ?? [])]) {
    const key = name.toLowerCase();
    const taken = kindByName.get(key);
    if (taken !== undefined) throw new Error(`kind registry: "${name}" names both ${taken.kind} and ${info.kind}`);
    kindByName.set(key, info);
  }
}

/** The kind named by its kind (`TrafficSplit`, any case), plural (`trafficsplits`) or short name (`ts`). */
export function findKind(kindOrPlural: string): KindInfo | undefined {
  return kindByName.get(kindOrPlural.toLowerCase());
}
