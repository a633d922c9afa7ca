/**
 * Performance: start a load test through the control plane with live progress
 * (server-sent events), view a result's latency distribution and percentile
 * curve, compare two results side by side, and download a result as SMP JSON.
 * Results are the PerformanceResult resources (kept live by the watch stream)
 * plus the runs finished on this page.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type uPlot from 'uplot';
import { errorText } from '../api/client';
import { useResources } from '../api/live-resources';
import { getPerfRuns, perfEventsPath, startPerfRun, type PerfProgress, type PerfResult, type PerfRun, type SmpDocument } from '../api/mesh';
import { readEvents } from '../api/sse';
import { Chart } from '../components/Chart';
import { fmtMs } from '../format';
import { usePoll } from '../hooks';
import { endpoint, fromNines, nines, view } from '../perf-model';

/** p50, p90, p99, p99.9, p99.99 and max on the "nines" axis (perf-model.ts). */
const NINES_TICKS = [Math.log10(2), 1, 2, 3, 4, 4.5];
const SUMMARY_KEYS = ['min', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'max'];

interface RunState {
  id: string;
  progress?: PerfProgress;
  error?: string;
  done: boolean;
}

export function PerformancePage(): ReactNode {
  const stored = useResources('PerformanceResult');
  const runs = usePoll((signal) => getPerfRuns(signal), 0, 'perf-runs');
  const [local, setLocal] = useState<PerfResult[]>([]);
  const results = useMemo(() => {
    const byName = new Map<string, PerfResult>();
    for (const r of stored) {
      const smp = (r.spec as { smp?: SmpDocument }).smp;
      if (smp?.result ?? smp?.performance_test_result) byName.set(r.metadata.name, { name: r.metadata.name, smp });
    }
    for (const r of [...local, ...(runs.data?.items ?? []).flatMap(runResult)]) if (!byName.has(r.name)) byName.set(r.name, r);
    return [...byName.values()].sort((a, b) => (view(b.smp).result.start_time ?? '').localeCompare(view(a.smp).result.start_time ?? ''));
  }, [stored, local, runs.data]);
  const [selected, setSelected] = useState<string>('');
  const [compareWith, setCompareWith] = useState<string>('');
  const current = results.find((r) => r.name === selected) ?? results[0];
  const other = results.find((r) => r.name === compareWith && r !== current);

  return (
    <>
      <h1>Performance</h1>
      <RunForm onResult={(result) => { setLocal((prev) => [...prev.filter((r) => r.name !== result.name), result]); setSelected(result.name); }} />
      <section className="panel" style={{ marginTop: 14 }} aria-label="Results">
        <div className="form-row">
          <label className="field">Result
            <select value={current?.name ?? ''} onChange={(e) => setSelected(e.target.value)} aria-label="Result">
              {results.map((r) => <option key={r.name} value={r.name}>{label(r)}</option>)}
            </select>
          </label>
          <label className="field">Compare with
            <select value={other?.name ?? ''} onChange={(e) => setCompareWith(e.target.value)} aria-label="Compare with">
              <option value="">(none)</option>
              {results.filter((r) => r !== current).map((r) => <option key={r.name} value={r.name}>{label(r)}</option>)}
            </select>
          </label>
          {current && <button type="button" className="secondary" onClick={() => download(current)}>Export SMP JSON</button>}
        </div>
        {results.length === 0 && <p className="muted">No results yet: start a run above.</p>}
      </section>
      {current && (other ? <Comparison a={current} b={other} /> : <ResultView result={current} />)}
    </>
  );
}

/** A finished run's result, named by its name or its id. */
function runResult(run: PerfRun): PerfResult[] {
  return run.result ? [{ name: run.name ?? `run-${run.id.slice(0, 8)}`, smp: run.result }] : [];
}

function label(r: PerfResult): string {
  const start = view(r.smp).result.start_time;
  const when = start ? new Date(start).toLocaleString() : '';
  return `${r.name}${when ? ` — ${when}` : ''}`;
}

function download(result: PerfResult): void {
  const blob = new Blob([JSON.stringify(result.smp, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${result.name}.smp.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

function RunForm({ onResult }: { onResult: (result: PerfResult) => void }): ReactNode {
  const [url, setUrl] = useState('');
  const [rate, setRate] = useState(50);
  const [duration, setDuration] = useState('10s');
  const [connections, setConnections] = useState(4);
  const [run, setRun] = useState<RunState | undefined>();
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const start = async (): Promise<void> => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setRun({ id: '', done: false });
    try {
      const started = await startPerfRun({ url, rate, duration, connections });
      setRun({ id: started.id, done: false });
      await readEvents(perfEventsPath(started.id), (event) => {
        const data = JSON.parse(event.data) as unknown;
        if (event.event === 'progress') setRun((prev) => ({ ...prev!, progress: data as PerfProgress }));
        else if (event.event === 'result') {
          setRun((prev) => ({ ...prev!, done: true }));
          const [result] = runResult(data as PerfRun);
          if (result) onResult(result);
        } else if (event.event === 'failure') setRun((prev) => ({ ...prev!, done: true, error: (data as { error?: string }).error ?? 'the run failed' }));
      }, controller.signal);
      setRun((prev) => (prev && !prev.done ? { ...prev, done: true, error: prev.error ?? 'the progress stream ended before a result' } : prev));
    } catch (err) {
      if (!controller.signal.aborted) setRun((prev) => ({ id: prev?.id ?? '', done: true, error: errorText(err) }));
    }
  };

  const running = run !== undefined && !run.done;
  const p = run?.progress;
  const fraction = p ? Math.min(1, p.percent / 100) : 0;
  return (
    <form className="panel" aria-label="New run" onSubmit={(e) => { e.preventDefault(); void start(); }}>
      <h2 style={{ marginTop: 0 }}>New run</h2>
      <div className="form-row">
        <label className="field" style={{ flex: 1, minWidth: 260 }}>Target URL
          <input type="url" required value={url} placeholder="http://127.0.0.1:15106/productpage" onChange={(e) => setUrl(e.target.value)} name="url" />
        </label>
        <label className="field">Rate (req/s)
          <input type="number" min={1} required value={rate} onChange={(e) => setRate(Number(e.target.value))} name="rate" />
        </label>
        <label className="field">Duration
          <input type="text" required pattern="[0-9]+(ms|s|m)" value={duration} onChange={(e) => setDuration(e.target.value)} name="duration" />
        </label>
        <label className="field">Connections
          <input type="number" min={1} required value={connections} onChange={(e) => setConnections(Number(e.target.value))} name="connections" />
        </label>
        <button type="submit" disabled={running}>{running ? 'Running…' : 'Start'}</button>
      </div>
      {run && (
        <div style={{ marginTop: 10 }} aria-live="polite" id="run-progress">
          <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)}><div style={{ width: `${run.done && !run.error ? 100 : fraction * 100}%` }} /></div>
          <p className="muted" style={{ margin: '4px 0 0' }}>
            {run.error ? <span className="error-line">Run failed: {run.error}</span>
              : run.done ? 'Done.'
              : p ? `${p.phase === 'warmup' ? 'warming up · ' : ''}${(p.elapsedMs / 1000).toFixed(0)} / ${(p.durationMs / 1000).toFixed(0)} s · ${p.requests} requests · ${p.rps.toFixed(0)} req/s · p99 ${fmtMs(p.p99Ms)}${p.errors > 0 ? ` · ${p.errors} errors` : ''}`
              : 'Starting…'}
          </p>
        </div>
      )}
    </form>
  );
}

function percentileData(results: PerfResult[]): uPlot.AlignedData {
  const xs = [...new Set(results.flatMap((r) => view(r.smp).percentiles.filter((p) => p.percentile > 0).map((p) => nines(p.percentile))))].sort((a, b) => a - b);
  return [xs, ...results.map((r) => {
    const byX = new Map(view(r.smp).percentiles.map((p) => [nines(p.percentile), p.latencyMs]));
    return xs.map((x) => byX.get(x) ?? null);
  })] as uPlot.AlignedData;
}

function ResultView({ result }: { result: PerfResult }): ReactNode {
  const dist = view(result.smp);
  const distData = useMemo(() => [dist.bands.map((_, i) => i), dist.bands.map((b) => b.percent)] as uPlot.AlignedData, [dist]);
  const pctData = useMemo(() => percentileData([result]), [result]);
  const r = dist.result;
  const latencies = dist.latencies;
  return (
    <section className="panel" style={{ marginTop: 14 }} aria-label={`Result ${result.name}`}>
      <h2 style={{ marginTop: 0 }}>{result.name}</h2>
      <dl className="kv">
        <dt>Target</dt><dd><code>{endpoint(dist.config) || '—'}</code></dd>
        <dt>Requested</dt><dd>{dist.config.clients?.[0]?.rps || 'max'} req/s for {dist.config.duration ?? '—'}, {dist.config.clients?.[0]?.connections ?? '—'} connections</dd>
        <dt>Achieved</dt><dd>{r.actual_QPS?.toFixed(1) ?? '—'} req/s{result.smp.weft?.partial ? ' (partial run)' : ''}</dd>
        <dt>Latency</dt><dd>{['min', 'average', 'p50', 'p90', 'p99', 'max'].map((k) => `${k} ${fmtMs(latencies[k])}`).join(' · ')}</dd>
        {result.smp.weft?.statusCodes && <><dt>Status codes</dt><dd>{Object.entries(result.smp.weft.statusCodes).map(([code, n]) => `${code}: ${n}`).join(' · ')}</dd></>}
      </dl>
      <div className="grid2" style={{ marginTop: 10 }}>
        <Chart
          title={dist.exact ? 'Latency distribution (% of requests)' : 'Latency distribution (% of requests up to each percentile)'}
          time={false}
          data={distData}
          xFormat={(i) => (Number.isInteger(i) && dist.bands[i] ? `≤${fmtMs(dist.bands[i]!.latencyMs)}` : '')}
          xName="latency"
          series={[{ label: 'requests', color: '--chart-1', bars: true, format: (v) => `${v.toFixed(1)}%` }]}
        />
        <Chart title="Latency by percentile (ms)" time={false} data={pctData} xFormat={fromNines} xSplits={NINES_TICKS} xName="percentile" series={[{ label: 'latency', color: '--chart-4', format: fmtMs }]} />
      </div>
    </section>
  );
}

function Comparison({ a, b }: { a: PerfResult; b: PerfResult }): ReactNode {
  const va = view(a.smp);
  const vb = view(b.smp);
  // The rows: SMP's summary percentiles of A (the full curves are in the chart).
  const rows = SUMMARY_KEYS.filter((k) => va.latencies[k] !== undefined).map((k) => [k, va.latencies[k]!] as const);
  const data = useMemo(() => percentileData([a, b]), [a, b]);
  const delta = (x: number | undefined, y: number | undefined): string => (x === undefined || y === undefined || x === 0 ? '—' : `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(1)}%`);
  return (
    <section className="panel" style={{ marginTop: 14 }} aria-label="Comparison">
      <h2 style={{ marginTop: 0 }}>{a.name} vs {b.name}</h2>
      <div className="grid2">
        <table>
          <thead><tr><th /><th className="num">{a.name}</th><th className="num">{b.name}</th><th className="num">Δ</th></tr></thead>
          <tbody>
            <tr><td>throughput (req/s)</td><td className="num">{va.result.actual_QPS?.toFixed(1)}</td><td className="num">{vb.result.actual_QPS?.toFixed(1)}</td><td className="num">{delta(va.result.actual_QPS, vb.result.actual_QPS)}</td></tr>
            {rows.map(([key, value]) => (
              <tr key={key}>
                <td>{key === 'p999' ? 'p99.9' : key}</td>
                <td className="num">{fmtMs(value)}</td>
                <td className="num">{fmtMs(vb.latencies[key])}</td>
                <td className="num">{delta(value, vb.latencies[key])}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Chart title="Latency by percentile (ms)" time={false} data={data} xFormat={fromNines} xSplits={NINES_TICKS} xName="percentile" series={[{ label: a.name, color: '--chart-1', format: fmtMs }, { label: b.name, color: '--chart-4', format: fmtMs }]} />
      </div>
    </section>
  );
}
