/**
 * The graph the Topology page draws: services and workloads from the live
 * resources (so the graph exists before any traffic), with the golden metrics
 * and traffic edges of /api/v1/topology laid over them.
 */
import type { GoldenMetrics, Topology } from './api/mesh';
import type { Resource } from './api/resources';

export interface MeshNode {
  id: string;
  kind: 'service' | 'workload';
  name: string;
  namespace: string;
  /** The service page a click opens. */
  service: string;
  metrics?: GoldenMetrics;
}

export interface MeshEdge {
  id: string;
  source: string;
  target: string;
  metrics?: GoldenMetrics;
  member: boolean;
}

export const nodeId = (kind: string, namespace: string, name: string): string => `${kind}:${namespace || 'default'}/${name}`;

/** Whether a Service selects a Workload: by `spec.service`, or by every selector label. */
export function selects(service: Resource, workload: Resource): boolean {
  const spec = workload.spec as { service?: string; labels?: Record<string, string> };
  if ((service.metadata.namespace ?? '') !== (workload.metadata.namespace ?? '')) return false;
  if (spec.service === service.metadata.name) return true;
  const selector = (service.spec as { selector?: Record<string, string> }).selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  const labels = { ...workload.metadata.labels, ...spec.labels };
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function buildGraph(services: Resource[], workloads: Resource[], topology: Topology | undefined): { nodes: MeshNode[]; edges: MeshEdge[] } {
  const nodes = new Map<string, MeshNode>();
  const edges = new Map<string, MeshEdge>();
  for (const s of services) {
    const ns = s.metadata.namespace ?? 'default';
    nodes.set(nodeId('service', ns, s.metadata.name), { id: nodeId('service', ns, s.metadata.name), kind: 'service', name: s.metadata.name, namespace: ns, service: s.metadata.name });
  }
  for (const w of workloads) {
    const ns = w.metadata.namespace ?? 'default';
    const id = nodeId('workload', ns, w.metadata.name);
    nodes.set(id, { id, kind: 'workload', name: w.metadata.name, namespace: ns, service: (w.spec as { service?: string }).service ?? w.metadata.name });
    for (const s of services) {
      if (!selects(s, w)) continue;
      const sid = nodeId('service', ns, s.metadata.name);
      edges.set(`member:${sid}>${id}`, { id: `member:${sid}>${id}`, source: sid, target: id, member: true });
    }
  }
  const ids = new Map<string, string>();
  for (const n of topology?.nodes ?? []) {
    const id = nodeId(n.kind, n.namespace, n.name);
    ids.set(n.id, id);
    const known = nodes.get(id);
    nodes.set(id, { id, kind: n.kind, name: n.name, namespace: n.namespace || 'default', service: known?.service ?? n.name, ...(n.metrics ? { metrics: n.metrics } : {}) });
  }
  for (const e of topology?.edges ?? []) {
    const source = ids.get(e.source) ?? e.source;
    const target = ids.get(e.target) ?? e.target;
    if (!nodes.has(source) || !nodes.has(target)) continue;
    const id = `traffic:${source}>${target}`;
    edges.set(id, { id, source, target, metrics: e.metrics, member: false });
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
