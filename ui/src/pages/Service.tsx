/**
 * Services: the list, and one service's golden metrics over time (rps,
 * success rate, p50/p95/p99), its workloads and endpoints with health, the
 * policies and TrafficSplits that apply to it, and a split editor.
 */
import { useMemo, type ReactNode } from 'react';
import type uPlot from 'uplot';
import { useResources } from '../api/live-resources';
import { getProxies, getServiceSeries, getTopology, type GoldenMetrics, type Series } from '../api/mesh';
import { acceptance, type Resource } from '../api/resources';
import { Chart } from '../components/Chart';
import { SplitEditor } from '../components/SplitEditor';
import { fmtMs, fmtPct, fmtRps, health } from '../format';
import { href, usePoll } from '../hooks';
import { nodeId, selects } from '../topology-model';

const POLL_MS = 5000;

function useNodeMetrics(): Map<string, GoldenMetrics> {
  const topology = usePoll((signal) => getTopology(signal), POLL_MS, 'topology');
  return useMemo(() => new Map((topology.data?.nodes ?? []).flatMap((n) => (n.metrics ? [[nodeId(n.kind, n.namespace, n.name), n.metrics] as const] : []))), [topology.data]);
}

export function ServicePage({ namespace, name }: { namespace: string | undefined; name: string | undefined }): ReactNode {
  const services = useResources('Service');
  const metrics = useNodeMetrics();
  const service = services.find((s) => (s.metadata.namespace ?? 'default') === namespace && s.metadata.name === name);
  if (namespace && name) {
    return service ? <ServiceDetail service={service} metrics={metrics} /> : <><h1>Service {namespace}/{name}</h1><p className="muted">No such service (yet). <a href={href('services')}>All services</a></p></>;
  }
  return (
    <>
      <h1>Services</h1>
      <section className="panel">
        <table>
          <thead><tr><th>Name</th><th>Namespace</th><th>Ports</th><th className="num">rps</th><th className="num">Success</th><th className="num">p99</th><th>Status</th></tr></thead>
          <tbody>
            {services.map((s) => {
              const ns = s.metadata.namespace ?? 'default';
              const m = metrics.get(nodeId('service', ns, s.metadata.name));
              return (
                <tr key={`${ns}/${s.metadata.name}`}>
                  <td><span className={`dot ${health(m)}`} aria-hidden="true" /> <a href={href('services', ns, s.metadata.name)}>{s.metadata.name}</a></td>
                  <td>{ns}</td>
                  <td>{((s.spec as { ports?: Array<{ name: string; port: number }> }).ports ?? []).map((p) => `${p.name}:${p.port}`).join(', ')}</td>
                  <td className="num">{fmtRps(m?.rps)}</td>
                  <td className="num">{fmtPct(m?.successRate)}</td>
                  <td className="num">{fmtMs(m?.p99Ms)}</td>
                  <td>{acceptance(s).ok ? <span className="pill ok">Accepted</span> : <span className="pill bad" title={acceptance(s).text}>Invalid</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
    </>
  );
}

function ServiceDetail({ service, metrics }: { service: Resource; metrics: Map<string, GoldenMetrics> }): ReactNode {
  const ns = service.metadata.namespace ?? 'default';
  const name = service.metadata.name;
  const workloads = useResources('Workload').filter((w) => selects(service, w));
  const policies = useResources('TrafficPolicy').filter((p) => {
    const ref = (p.spec as { targetRef?: { kind?: string; name?: string } }).targetRef;
    return (p.metadata.namespace ?? 'default') === ns && (ref === undefined || (ref.kind === 'Service' && ref.name === name) || ref.kind === 'Mesh');
  });
  const splits = useResources('TrafficSplit').filter((t) => {
    const spec = t.spec as { service?: string; backends?: Array<{ service: string }> };
    return (t.metadata.namespace ?? 'default') === ns && (spec.service === name || (spec.backends ?? []).some((b) => b.service === name));
  });
  const proxies = usePoll((signal) => getProxies(signal), POLL_MS, 'proxies');
  const series = usePoll((signal) => getServiceSeries(ns, name, signal), POLL_MS, `${ns}/${name}`);
  const own = metrics.get(nodeId('service', ns, name));

  return (
    <>
      <h1>Service {name} <span className="muted" style={{ fontWeight: 400, fontSize: 14 }}>{ns}</span></h1>
      <p className="row">
        <span className={`pill ${health(own)}`}>{health(own) === 'idle' ? 'no traffic' : health(own)}</span>
        <span>{fmtRps(own?.rps)} rps</span><span>success {fmtPct(own?.successRate)}</span><span>p99 {fmtMs(own?.p99Ms)}</span>
        <a href={href('config', 'Service', ns, name)}>Edit YAML</a>
      </p>
      <SeriesCharts series={series.data} error={series.error} notServed={series.status === 404} />
      <div className="grid2" style={{ marginTop: 14 }}>
        <section className="panel" aria-label="Workloads">
          <h2 style={{ marginTop: 0 }}>Workloads and endpoints</h2>
          <table>
            <thead><tr><th>Workload</th><th>Endpoint</th><th>Version</th><th>Sidecar</th><th className="num">rps</th><th className="num">Success</th></tr></thead>
            <tbody>
              {workloads.map((w) => {
                const spec = w.spec as { address?: string; ports?: Array<{ name: string; port: number }>; version?: string };
                const m = metrics.get(nodeId('workload', ns, w.metadata.name));
                const connected = proxies.data?.items.some((p) => p.nodeMetadata?.['WORKLOAD'] === w.metadata.name && (p.nodeMetadata?.['NAMESPACE'] ?? 'default') === ns);
                return (
                  <tr key={w.metadata.name}>
                    <td><span className={`dot ${health(m)}`} aria-hidden="true" /> <a href={href('config', 'Workload', ns, w.metadata.name)}>{w.metadata.name}</a></td>
                    <td><code>{(spec.ports ?? []).map((p) => `${spec.address ?? '?'}:${p.port}`).join(', ')}</code></td>
                    <td>{spec.version ?? '—'}</td>
                    <td>{proxies.data === undefined ? '…' : connected ? <span className="pill ok">connected</span> : <span className="pill bad">not connected</span>}</td>
                    <td className="num">{fmtRps(m?.rps)}</td>
                    <td className="num">{fmtPct(m?.successRate)}</td>
                  </tr>
                );
              })}
              {workloads.length === 0 && <tr><td colSpan={6} className="muted">No workload belongs to this service.</td></tr>}
            </tbody>
          </table>
        </section>
        <section className="panel" aria-label="Policies">
          <h2 style={{ marginTop: 0 }}>Policies and splits that apply</h2>
          <ul>
            {[...policies, ...splits].map((r) => (
              <li key={`${r.kind}/${r.metadata.name}`}>
                {r.kind} <a href={href('config', r.kind, ns, r.metadata.name)}>{r.metadata.name}</a>{' '}
                {acceptance(r).ok ? <span className="pill ok">Accepted</span> : <span className="pill bad" title={acceptance(r).text}>Invalid</span>}
              </li>
            ))}
            {policies.length + splits.length === 0 && <li className="muted">None.</li>}
          </ul>
        </section>
      </div>
      {splits.filter((s) => (s.spec as { service?: string }).service === name).map((s) => (
        <div key={s.metadata.name} style={{ marginTop: 14 }}><SplitEditor split={s} /></div>
      ))}
    </>
  );
}

function SeriesCharts({ series, error, notServed }: { series: Series | undefined; error: string; notServed: boolean }): ReactNode {
  const data = useMemo(() => {
    const points = series?.points ?? [];
    const t = points.map((p) => p.timestamp / 1000);
    const col = (pick: (p: (typeof points)[number]) => number | undefined): Array<number | null> => points.map((p) => pick(p) ?? null);
    return {
      rps: [t, col((p) => p.rps)] as uPlot.AlignedData,
      success: [t, col((p) => (p.successRate === undefined ? undefined : p.successRate * 100))] as uPlot.AlignedData,
      latency: [t, col((p) => p.p50Ms), col((p) => p.p95Ms), col((p) => p.p99Ms)] as uPlot.AlignedData,
    };
  }, [series]);
  if (error) return <div className="error-box">{notServed ? 'This control plane serves no metrics series.' : error}</div>;
  return (
    <div className="grid3">
      <div className="panel"><Chart title="Requests per second" data={data.rps} series={[{ label: 'rps', color: '--chart-1', format: fmtRps }]} /></div>
      <div className="panel"><Chart title="Success rate (%)" data={data.success} yRange={[0, 100]} series={[{ label: 'success', color: '--chart-2', format: (v) => `${v.toFixed(1)}%` }]} /></div>
      <div className="panel">
        <Chart title="Latency (ms)" data={data.latency} series={[{ label: 'p50', color: '--chart-1', format: fmtMs }, { label: 'p95', color: '--chart-3', format: fmtMs }, { label: 'p99', color: '--chart-4', format: fmtMs }]} />
      </div>
    </div>
  );
}
