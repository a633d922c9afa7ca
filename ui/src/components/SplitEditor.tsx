/**
 * Edits one TrafficSplit's backend weights with sliders (and number fields for
 * exact values) and replaces the resource through the API. Weights are
 * relative: each backend gets weight / sum. Server errors show per field.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { ApiFailure, errorText, request, type StatusCause } from '../api/client';
import { useLive, useResources } from '../api/live-resources';
import { itemPath, type Resource } from '../api/resources';

interface Backend {
  service: string;
  weight: number;
}

export function SplitEditor({ split }: { split: Resource }): ReactNode {
  const { kinds } = useLive();
  const stored = (split.spec as { backends?: Backend[] }).backends ?? [];
  const [weights, setWeights] = useState<Backend[]>(stored);
  const [dirty, setDirty] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; message: string; causes: StatusCause[] } | undefined>();
  const [busy, setBusy] = useState(false);
  // A change from elsewhere (watch stream) shows up unless the user is mid-edit.
  const storedKey = JSON.stringify(stored);
  useEffect(() => {
    if (!dirty) setWeights(stored);
  }, [storedKey]);

  const candidates = useResources('Service').filter((svc) => (svc.metadata.namespace ?? 'default') === (split.metadata.namespace ?? 'default') && !weights.some((b) => b.service === svc.metadata.name) && svc.metadata.name !== (split.spec as { service?: string }).service);
  const addBackend = (service: string): void => {
    if (service === '') return;
    setDirty(true);
    setWeights((prev) => [...prev, { service, weight: 0 }]);
  };
  const total = weights.reduce((sum, b) => sum + b.weight, 0);
  const set = (i: number, weight: number): void => {
    setDirty(true);
    setResult(undefined);
    setWeights((prev) => prev.map((b, j) => (j === i ? { ...b, weight: Number.isFinite(weight) ? Math.max(0, Math.round(weight)) : 0 } : b)));
  };

  const apply = async (): Promise<void> => {
    const kind = kinds.find((k) => k.kind === 'TrafficSplit');
    if (!kind) return;
    setBusy(true);
    try {
      const body = { apiVersion: split.apiVersion, kind: split.kind, metadata: split.metadata, spec: { ...split.spec, backends: weights } };
      const saved = await request<Resource>('PUT', itemPath(kind, split.metadata.namespace, split.metadata.name), { body });
      setDirty(false);
      setResult({ ok: true, message: `Applied (version ${saved.metadata.resourceVersion}).`, causes: [] });
    } catch (err) {
      setResult({ ok: false, message: errorText(err), causes: err instanceof ApiFailure ? err.causes : [] });
    } finally {
      setBusy(false);
    }
  };

  const name = split.metadata.name;
  return (
    <form className="panel split-editor" aria-label={`TrafficSplit ${name}`} onSubmit={(e) => { e.preventDefault(); void apply(); }}>
      <h3 style={{ margin: '0 0 6px' }}>TrafficSplit {name} <span className="muted">({(split.spec as { service?: string }).service})</span></h3>
      {weights.map((b, i) => {
        const id = `weight-${name}-${b.service}`;
        return (
          <div className="slider-row" key={b.service}>
            <label htmlFor={id}>{b.service}</label>
            <input id={id} type="range" min={0} max={100} step={1} value={Math.min(100, b.weight)} onChange={(e) => set(i, Number(e.target.value))} aria-valuetext={`${b.weight}`} />
            <input type="number" min={0} value={b.weight} onChange={(e) => set(i, Number(e.target.value))} aria-label={`${b.service} weight`} data-backend={b.service} />
            <span className="muted" data-share={b.service}>{total > 0 ? `${Math.round((100 * b.weight) / total)}%` : '—'}</span>
          </div>
        );
      })}
      <div className="row" style={{ marginTop: 8 }}>
        <button type="submit" disabled={busy || !dirty}>Apply weights</button>
        {candidates.length > 0 && (
          <select aria-label="Add a backend" value="" onChange={(e) => addBackend(e.target.value)}>
            <option value="">Add a backend…</option>
            {candidates.map((c) => <option key={c.metadata.name} value={c.metadata.name}>{c.metadata.name}</option>)}
          </select>
        )}
        <button type="button" className="secondary" disabled={busy || !dirty} onClick={() => { setWeights(stored); setDirty(false); setResult(undefined); }}>Reset</button>
        {total === 0 && <span className="error-line">At least one backend needs a positive weight.</span>}
      </div>
      <div aria-live="polite">
        {result && (result.ok ? <div className="ok-box">{result.message}</div> : (
          <div className="error-box" role="alert">{result.message}{result.causes.length > 0 && <ul>{result.causes.map((c, i) => <li key={i}><code>{c.field}</code>: {c.message}</li>)}</ul>}</div>
        ))}
      </div>
    </form>
  );
}
