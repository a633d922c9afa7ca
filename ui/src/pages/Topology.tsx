/**
 * Topology: the live service graph. Edges carry rps / success rate / p99 and
 * are coloured by health; a click on a node opens its service. The table
 * under the graph lists the same, for keyboards and screen readers.
 */
import { useMemo, type ReactNode } from 'react';
import { useResources } from '../api/live-resources';
import { getTopology } from '../api/mesh';
import { Graph, type GraphEdge, type GraphNode } from '../components/Graph';
import { fmtMs, fmtPct, fmtRps, health, metricsLabel } from '../format';
import { href, navigate, usePoll } from '../hooks';
import { buildGraph, type MeshNode } from '../topology-model';

const POLL_MS = 5000;

/** The metrics name requests from outside the mesh (no source sidecar) `unknown`. */
const displayName = (n: MeshNode): string => (n.name === 'unknown' ? '(outside the mesh)' : n.name);

export function TopologyPage(): ReactNode {
  const services = useResources('Service');
  const workloads = useResources('Workload');
  const topology = usePoll((signal) => getTopology(signal), POLL_MS, 'topology');
  const graph = useMemo(() => buildGraph(services, workloads, topology.data), [services, workloads, topology.data]);
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph.nodes]);
  const nodes = useMemo<GraphNode[]>(() => graph.nodes.map((n) => ({ id: n.id, label: displayName(n), kind: n.kind, health: health(n.metrics) })), [graph.nodes]);
  const edges = useMemo<GraphEdge[]>(() => graph.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, label: e.member ? '' : metricsLabel(e.metrics), health: e.member ? 'idle' : health(e.metrics), member: e.member })), [graph.edges]);
  const traffic = graph.edges.filter((e) => !e.member);
  const open = (node: MeshNode | undefined): void => {
    if (node) navigate('services', node.namespace, node.service);
  };

  return (
    <>
      <h1>Topology</h1>
      {topology.error && (
        <div className="banner info" role="status">
          {topology.status === 404 ? 'This control plane serves no metrics (/api/v1/topology): the graph shows services and workloads without traffic.' : `Metrics: ${topology.error}`}
        </div>
      )}
      <div className="legend" aria-hidden="true">
        <span><i style={{ background: 'var(--ok)' }} />≥ 99% success</span>
        <span><i style={{ background: 'var(--warn)' }} />≥ 95%</span>
        <span><i style={{ background: 'var(--bad)' }} />&lt; 95%</span>
        <span><i style={{ background: 'var(--idle)' }} />no traffic</span>
        <span>▭ service ◯ workload; edges: requests/s · success · p99</span>
      </div>
      <Graph nodes={nodes} edges={edges} onSelect={(id) => open(byId.get(id))} />
      <div className="grid2" style={{ marginTop: 14 }}>
        <section className="panel" aria-label="Nodes">
          <h2 style={{ marginTop: 0 }}>Nodes</h2>
          <table id="topology-nodes">
            <thead><tr><th>Kind</th><th>Name</th><th className="num">rps</th><th className="num">Success</th><th className="num">p99</th></tr></thead>
            <tbody>
              {graph.nodes.map((n) => (
                <tr key={n.id} data-kind={n.kind} data-name={n.name}>
                  <td>{n.kind}</td>
                  <td><span className={`dot ${health(n.metrics)}`} aria-hidden="true" /> <a href={href('services', n.namespace, n.service)}>{displayName(n)}</a></td>
                  <td className="num">{fmtRps(n.metrics?.rps)}</td>
                  <td className="num">{fmtPct(n.metrics?.successRate)}</td>
                  <td className="num">{fmtMs(n.metrics?.p99Ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="panel" aria-label="Traffic">
          <h2 style={{ marginTop: 0 }}>Traffic</h2>
          <table id="topology-edges">
            <thead><tr><th>From</th><th>To</th><th className="num">rps</th><th className="num">Success</th><th className="num">p99</th></tr></thead>
            <tbody>
              {traffic.map((e) => (
                <tr key={e.id} data-source={byId.get(e.source)?.name} data-target={byId.get(e.target)?.name} data-rps={e.metrics?.rps ?? 0}>
                  <td>{byId.get(e.source) ? displayName(byId.get(e.source)!) : e.source}</td>
                  <td>{byId.get(e.target) ? displayName(byId.get(e.target)!) : e.target}</td>
                  <td className="num">{fmtRps(e.metrics?.rps)}</td>
                  <td className="num"><span className={`pill ${health(e.metrics)}`}>{fmtPct(e.metrics?.successRate)}</span></td>
                  <td className="num">{fmtMs(e.metrics?.p99Ms)}</td>
                </tr>
              ))}
              {traffic.length === 0 && <tr><td colSpan={5} className="muted">No traffic measured yet.</td></tr>}
            </tbody>
          </table>
        </section>
      </div>
    </>
  );
}
