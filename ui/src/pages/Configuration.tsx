/**
 * Configuration: every kind the API serves, its resources, and a YAML editor
 * that applies (create or replace) and deletes through the API. Server-side
 * validation errors are shown with their field path and the line it is on.
 */
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { stringify } from 'yaml';
import { ApiFailure, errorText, type StatusCause } from '../api/client';
import { useLive, useResources } from '../api/live-resources';
import { acceptance, applyResource, deleteResource, resourceKey, type KindInfo, type Resource } from '../api/resources';
import { href, navigate } from '../hooks';
import { lineAt, lineOfField, parseDocument } from '../yaml-paths';

const NEW = '+new';

export function ConfigurationPage({ kind, namespace, name }: { kind: string | undefined; namespace: string | undefined; name: string | undefined }): ReactNode {
  const live = useLive();
  const kinds = useMemo(() => [...live.kinds].sort((a, b) => a.kind.localeCompare(b.kind)), [live.kinds]);
  const selected = kinds.find((k) => k.kind === kind) ?? kinds[0];
  const counts = useMemo(() => {
    const byKind = new Map<string, number>();
    for (const r of live.byKey.values()) byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
    return byKind;
  }, [live.byKey]);
  return (
    <>
      <h1>Configuration</h1>
      <div className="layout-config">
        <nav className="panel" aria-label="Kinds">
          <ul className="kind-list">
            {kinds.map((k) => (
              <li key={k.kind}>
                <a href={href('config', k.kind)} aria-current={k === selected ? 'true' : undefined}>
                  <span>{k.kind}</span>
                  <span className="muted">{counts.get(k.kind) ?? 0}</span>
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {selected ? <KindResources kind={selected} namespace={namespace} name={name} /> : <p className="muted">{live.loaded ? 'No kinds served.' : 'Loading…'}</p>}
      </div>
    </>
  );
}

function KindResources({ kind, namespace, name }: { kind: KindInfo; namespace: string | undefined; name: string | undefined }): ReactNode {
  const resources = useResources(kind.kind);
  const creating = namespace === NEW;
  const current = resources.find((r) => (r.metadata.namespace ?? '') === (kind.namespaced ? namespace : '') && r.metadata.name === name);
  return (
    <>
      <section className="panel" aria-label={`${kind.kind} resources`}>
        <div className="row" style={{ justifyContent: 'space-between' }}>
          <h2 style={{ margin: 0 }}>{kind.kind}</h2>
          <button type="button" onClick={() => navigate('config', kind.kind, NEW)}>New {kind.kind}</button>
        </div>
        <p className="muted" style={{ margin: '4px 0 8px' }}><code>{kind.apiVersion}</code> · {kind.namespaced ? 'namespaced' : 'cluster-scoped'}</p>
        <table>
          <thead>
            <tr><th>Name</th>{kind.namespaced && <th>Namespace</th>}<th>Status</th></tr>
          </thead>
          <tbody>
            {resources.map((r) => {
              const state = acceptance(r);
              return (
                <tr key={resourceKey(r)} className={r === current ? 'selected' : undefined}>
                  <td><a href={href('config', kind.kind, r.metadata.namespace || '_', r.metadata.name)}>{r.metadata.name}</a></td>
                  {kind.namespaced && <td>{r.metadata.namespace}</td>}
                  <td><span className={`pill ${state.ok ? 'ok' : 'bad'}`} title={state.text}>{state.ok ? 'Accepted' : 'Invalid'}</span></td>
                </tr>
              );
            })}
            {resources.length === 0 && <tr><td colSpan={3} className="muted">None yet.</td></tr>}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-label="Editor">
        {creating ? (
          <Editor key={`new/${kind.kind}`} kind={kind} resource={undefined} />
        ) : current ? (
          <Editor key={resourceKey(current)} kind={kind} resource={current} />
        ) : (
          <p className="muted">{name ? `${kind.kind} ${name} does not exist (any more).` : `Pick a ${kind.kind} to view or edit it as YAML, or create a new one.`}</p>
        )}
      </section>
    </>
  );
}

/** What the editor starts from: the stored document without what the server owns, keeping resourceVersion for conflict detection. */
function editableYaml(resource: Resource): string {
  const { status: _status, ...rest } = resource;
  const metadata = { ...rest.metadata } as Record<string, unknown>;
  delete metadata['uid'];
  delete metadata['creationTimestamp'];
  return stringify({ ...rest, metadata });
}

function template(kind: KindInfo): string {
  const metadata = kind.namespaced ? { name: 'example', namespace: 'default' } : { name: 'example' };
  return stringify({ apiVersion: kind.apiVersion, kind: kind.kind, metadata, spec: {} });
}

/** The outcome an editor leaves for the next one (see Editor). */
let flash: Outcome | undefined;

interface Outcome {
  message: string;
  causes: Array<StatusCause & { line?: number }>;
  ok: boolean;
}

function Editor({ kind, resource }: { kind: KindInfo; resource: Resource | undefined }): ReactNode {
  const live = useLive();
  const original = resource ? editableYaml(resource) : template(kind);
  const [text, setText] = useState(original);
  // A create navigates to the new resource, which mounts a new editor: it shows the outcome the last one left.
  const [outcome, setOutcome] = useState<Outcome | undefined>(flash);
  useEffect(() => {
    flash = undefined;
  }, []);
  const [busy, setBusy] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const baseline = useRef(original);

  // Follow changes from the watch stream while the user has not edited the text.
  useEffect(() => {
    if (text === baseline.current && original !== baseline.current) setText(original);
    baseline.current = original;
  }, [original]);
  const changedOnServer = resource !== undefined && text !== original && original !== baseline.current;

  const apply = async (): Promise<void> => {
    setOutcome(undefined);
    const doc = parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      setOutcome({ ok: false, message: 'The YAML does not parse.', causes: [{ field: '', message: first.message.split('\n')[0]!, line: lineAt(text, first.pos[0]) }] });
      return;
    }
    const body = doc.toJS() as Partial<Resource> | null;
    const target = live.kinds.find((k) => k.kind === body?.kind) ?? kind;
    const name = body?.metadata?.name;
    if (typeof name !== 'string' || name === '') {
      setOutcome({ ok: false, message: 'The document needs metadata.name.', causes: [{ field: 'metadata.name', message: 'required', line: lineOfField(text, doc, 'metadata') }] });
      return;
    }
    setBusy(true);
    try {
      const key = resourceKey({ kind: target.kind, metadata: { name, namespace: target.namespaced ? (body?.metadata?.namespace || 'default') : '' } });
      const saved = await applyResource(target, body?.metadata?.namespace, name, text, 'application/yaml', live.byKey.has(key));
      const savedText = editableYaml(saved);
      baseline.current = savedText;
      setText(savedText);
      const done = { ok: true, message: `Applied ${saved.kind} ${saved.metadata.namespace ? `${saved.metadata.namespace}/` : ''}${saved.metadata.name} (version ${saved.metadata.resourceVersion}).`, causes: [] };
      setOutcome(done);
      if (resource === undefined || resourceKey(saved) !== resourceKey(resource)) {
        flash = done;
        navigate('config', saved.kind, saved.metadata.namespace || '_', saved.metadata.name);
      }
    } catch (err) {
      const causes = err instanceof ApiFailure ? err.causes.map((c) => ({ ...c, line: c.field ? lineOfField(text, doc, c.field) : undefined })) : [];
      setOutcome({ ok: false, message: errorText(err), causes });
    } finally {
      setBusy(false);
    }
  };

  const remove = async (): Promise<void> => {
    if (!resource) return;
    setBusy(true);
    try {
      await deleteResource(kind, resource.metadata.namespace, resource.metadata.name);
      navigate('config', kind.kind);
    } catch (err) {
      setOutcome({ ok: false, message: errorText(err), causes: [] });
    } finally {
      setBusy(false);
      setConfirmDelete(false);
    }
  };

  const selectLine = (line: number): void => {
    const el = area.current;
    if (!el) return;
    const lines = el.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    el.focus();
    el.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  };

  return (
    <>
      <h2 style={{ marginTop: 0 }}>{resource ? `${kind.kind} ${resource.metadata.namespace ? `${resource.metadata.namespace}/` : ''}${resource.metadata.name}` : `New ${kind.kind}`}</h2>
      {resource && !acceptance(resource).ok && <div className="error-box" role="note">Invalid: {acceptance(resource).text}</div>}
      <label htmlFor="yaml-editor" className="muted">YAML</label>
      <textarea id="yaml-editor" ref={area} className="yaml" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} aria-invalid={outcome !== undefined && !outcome.ok} aria-describedby="apply-outcome" />
      {changedOnServer && <p className="muted">This resource changed on the server since you started editing. <button type="button" className="secondary" onClick={() => setText(original)}>Load the new version</button></p>}
      <div className="row" style={{ marginTop: 8 }}>
        <button type="button" onClick={() => void apply()} disabled={busy}>Apply</button>
        <button type="button" className="secondary" onClick={() => { setText(original); setOutcome(undefined); }} disabled={busy || text === original}>Revert</button>
        <span className="spacer" />
        {resource && !confirmDelete && <button type="button" className="danger" onClick={() => setConfirmDelete(true)} disabled={busy}>Delete</button>}
        {resource && confirmDelete && (
          <span className="row" role="group" aria-label="Confirm delete">
            Delete {resource.metadata.name}?
            <button type="button" className="danger" onClick={() => void remove()} autoFocus>Yes, delete</button>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)}>Cancel</button>
          </span>
        )}
      </div>
      <div id="apply-outcome" aria-live="polite">
        {outcome && (outcome.ok ? <div className="ok-box">{outcome.message}</div> : (
          <div className="error-box" role="alert">
            <strong>{outcome.message}</strong>
            {outcome.causes.length > 0 && (
              <ul>
                {outcome.causes.map((c, i) => (
                  <li key={i} className="field-error" data-field={c.field}>
                    {c.field && <code>{c.field}</code>}{c.field && ': '}{c.message}
                    {c.line !== undefined && <> — <button type="button" className="secondary" onClick={() => selectLine(c.line!)}>line {c.line}</button></>}
                  </li>
                ))}
              </ul>
            )}
          </div>
        ))}
      </div>
    </>
  );
}
