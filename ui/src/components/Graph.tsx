/**
 * The service graph (cytoscape). Elements are updated in place on each poll,
 * so positions stay put; the layout runs again only when the set of nodes
 * changes. Colours come from the theme's CSS variables.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { cssVar, useAppliedTheme } from '../hooks';
import type { Health } from '../format';

export interface GraphNode {
  id: string;
  label: string;
  kind: 'service' | 'workload';
  health: Health;
}

export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  label: string;
  health: Health;
  /** Membership (service -> its workload) rather than traffic: drawn dashed. */
  member?: boolean;
}

function style(): cytoscape.StylesheetJson {
  const colour = (h: Health): string => cssVar(h === 'idle' ? '--idle' : `--${h}`);
  const byHealth = (['ok', 'warn', 'bad', 'idle'] as const).flatMap((h) => [
    { selector: `node[health = "${h}"]`, style: { 'border-color': colour(h) } },
    { selector: `edge[health = "${h}"]`, style: { 'line-color': colour(h), 'target-arrow-color': colour(h) } },
  ]);
  return [
    {
      selector: 'node',
      style: {
        label: 'data(label)', 'font-size': 12, color: cssVar('--fg'), 'text-valign': 'bottom', 'text-margin-y': 4,
        'background-color': cssVar('--panel'), 'border-width': 3, width: 38, height: 38,
      },
    },
    { selector: 'node[kind = "service"]', style: { shape: 'round-rectangle', width: (n: cytoscape.NodeSingular) => 20 + 7.5 * String(n.data('label')).length, height: 30, 'text-valign': 'center', 'text-margin-y': 0, 'font-weight': 'bold' } },
    {
      selector: 'edge',
      style: {
        label: 'data(label)', 'font-size': 10, color: cssVar('--fg'), 'text-background-color': cssVar('--bg'), 'text-background-opacity': 0.85, 'text-background-padding': '2px',
        width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'text-rotation': 'autorotate',
      },
    },
    { selector: 'edge[?member]', style: { 'line-style': 'dashed', width: 1, 'target-arrow-shape': 'none', label: '', 'line-color': cssVar('--border') } },
    ...byHealth,
    { selector: 'node:selected', style: { 'overlay-color': cssVar('--accent'), 'overlay-opacity': 0.2 } },
  ] as cytoscape.StylesheetJson;
}

export function Graph({ nodes, edges, onSelect }: { nodes: GraphNode[]; edges: GraphEdge[]; onSelect: (id: string) => void }): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  const cy = useRef<Core | null>(null);
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const theme = useAppliedTheme();

  useEffect(() => {
    const instance = cytoscape({ container: host.current, elements: [], style: style(), minZoom: 0.3, maxZoom: 3 });
    instance.on('tap', 'node', (event) => onSelectRef.current(event.target.id() as string));
    cy.current = instance;
    (window as unknown as { weftGraph?: Core }).weftGraph = instance; // for the browser tests and debugging
    return () => {
      instance.destroy();
      cy.current = null;
    };
  }, []);

  useEffect(() => {
    cy.current?.style(style());
  }, [theme]);

  useEffect(() => {
    const instance = cy.current;
    if (!instance) return;
    const wanted: ElementDefinition[] = [
      ...nodes.map((n) => ({ group: 'nodes' as const, data: { ...n } })),
      ...edges.filter((e) => nodes.some((n) => n.id === e.source) && nodes.some((n) => n.id === e.target)).map((e) => ({ group: 'edges' as const, data: { ...e } })),
    ];
    const ids = new Set(wanted.map((e) => e.data.id!));
    let changed = false;
    instance.batch(() => {
      instance.elements().forEach((el) => {
        if (!ids.has(el.id())) {
          el.remove();
          changed = true;
        }
      });
      for (const def of wanted) {
        const existing = instance.getElementById(def.data.id!);
        if (existing.nonempty()) existing.data(def.data);
        else {
          instance.add(def);
          changed = true;
        }
      }
    });
    if (changed) {
      // Layers follow the traffic only (membership edges would pull idle split backends into the chain):
      // entry points (outside callers, gateways, idle nodes) on top, each node a layer below its caller,
      // so a call chain reads from top to bottom.
      const traffic = instance.nodes().union(instance.edges().filter((e) => e.data('member') !== true));
      const roots = traffic.nodes().filter((n) => n.incomers('edge').filter((e) => e.data('member') !== true).empty());
      traffic.layout({ name: 'breadthfirst', directed: true, spacingFactor: 1.1, padding: 30, ...(roots.nonempty() ? { roots } : {}) } as cytoscape.LayoutOptions).run();
    }
  }, [nodes, edges]);

  return <div ref={host} className="graph" role="img" aria-label="Service graph; the table below lists the same nodes and edges" />;
}
