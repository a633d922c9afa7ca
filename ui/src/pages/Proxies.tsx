/**
 * Proxies: every proxy connected over xDS, what each resource type was sent
 * and acknowledged, the reason of a rejection (NACK), the certificate expiry
 * when the mesh issues certificates, and one proxy's config dump.
 */
import { useMemo, type ReactNode } from 'react';
import { getConfigDump, getProxies, getProxyDetail, type ProxyStatus, type TypeStatus } from '../api/mesh';
import { href, usePoll } from '../hooks';

/** `type.googleapis.com/envoy.config.listener.v3.Listener` -> `LDS`. */
const TYPE_NAMES: Record<string, string> = {
  Listener: 'LDS',
  RouteConfiguration: 'RDS',
  Cluster: 'CDS',
  ClusterLoadAssignment: 'EDS',
  Secret: 'SDS',
};

function shortType(typeUrl: string): string {
  const last = typeUrl.split('.').pop() ?? typeUrl;
  return TYPE_NAMES[last] ?? last;
}

function TypeCell({ status }: { status: TypeStatus }): ReactNode {
  if (status.nackError) {
    return (
      <span className="pill bad" title={status.nackError.message}>NACK {status.nackError.rejectedVersion}</span>
    );
  }
  const synced = status.sentVersion !== '' && status.sentVersion === status.ackedVersion;
  return <span className={`pill ${synced ? 'ok' : 'warn'}`} title={`sent ${status.sentVersion || '—'}, acked ${status.ackedVersion || '—'}`}>{synced ? `ACK ${status.ackedVersion}` : `sent ${status.sentVersion || '—'}`}</span>;
}

export function ProxiesPage({ nodeId }: { nodeId: string | undefined }): ReactNode {
  const proxies = usePoll((signal) => getProxies(signal), 3000, 'proxies');
  const items = useMemo(() => [...(proxies.data?.items ?? [])].sort((a, b) => a.nodeId.localeCompare(b.nodeId)), [proxies.data]);
  const typeUrls = useMemo(() => [...new Set(items.flatMap((p) => Object.keys(p.types)))].sort((a, b) => order(shortType(a)) - order(shortType(b))), [items]);
  const nacks = items.flatMap((p) => Object.entries(p.types).filter(([, s]) => s?.nackError).map(([t, s]) => ({ proxy: p, type: t, error: s!.nackError! })));
  const selected = items.find((p) => p.nodeId === nodeId);
  return (
    <>
      <h1>Proxies</h1>
      {proxies.error && <div className="error-box" role="alert">{proxies.error}</div>}
      <section className="panel">
        <table>
          <thead>
            <tr>
              <th>Node</th><th>Cluster</th><th>Protocol</th><th>Connected</th>
              {typeUrls.map((t) => <th key={t} title={t}>{shortType(t)}</th>)}
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.streamId} className={p === selected ? 'selected' : undefined}>
                <td><a href={href('proxies', p.nodeId)}>{p.nodeId}</a></td>
                <td>{p.nodeCluster}</td>
                <td>{p.protocol}</td>
                <td title={p.connectedAt}>{since(p.connectedAt)}</td>
                {typeUrls.map((t) => <td key={t}>{p.types[t] ? <TypeCell status={p.types[t]!} /> : <span className="muted">—</span>}</td>)}
              </tr>
            ))}
            {items.length === 0 && <tr><td colSpan={4 + typeUrls.length} className="muted">{proxies.data ? 'No proxy is connected.' : 'Loading…'}</td></tr>}
          </tbody>
        </table>
      </section>
      {nacks.length > 0 && (
        <section className="panel error-box" aria-label="Rejected configuration">
          <h2 style={{ marginTop: 0 }}>Rejected configuration (NACK)</h2>
          <ul>
            {nacks.map(({ proxy, type, error }) => (
              <li key={`${proxy.streamId}/${type}`}><strong>{proxy.nodeId}</strong> rejected {shortType(type)} version {error.rejectedVersion} at {new Date(error.at).toLocaleTimeString()}: <code>{error.message}</code></li>
            ))}
          </ul>
        </section>
      )}
      {selected && <ProxyDetail proxy={selected} />}
      {nodeId && !selected && proxies.data && <p className="muted">Proxy {nodeId} is not connected.</p>}
    </>
  );
}

function order(short: string): number {
  const i = ['LDS', 'RDS', 'CDS', 'EDS', 'SDS'].indexOf(short);
  return i === -1 ? 99 : i;
}

function since(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m ago`;
  return `${Math.round(seconds / 3600)}h ago`;
}

function Expiry({ at }: { at: string }): ReactNode {
  const hours = (Date.parse(at) - Date.now()) / 3_600_000;
  const cls = hours < 0 ? 'bad' : hours < 24 ? 'warn' : 'ok';
  return <span className={`pill ${cls}`} title={at}>{hours < 0 ? 'expired' : hours < 48 ? `in ${Math.round(hours)} h` : `in ${Math.round(hours / 24)} d`}</span>;
}

function ProxyDetail({ proxy }: { proxy: ProxyStatus }): ReactNode {
  const dump = usePoll((signal) => getConfigDump(proxy.nodeId, signal), 0, proxy.nodeId);
  const detail = usePoll((signal) => getProxyDetail(proxy.nodeId, signal), 10_000, proxy.nodeId);
  return (
    <section className="panel" style={{ marginTop: 14 }} aria-label={`Proxy ${proxy.nodeId}`}>
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 style={{ margin: 0 }}>{proxy.nodeId}</h2>
        <button type="button" className="secondary" onClick={dump.refresh}>Reload config dump</button>
      </div>
      <dl className="kv">
        <dt>Peer</dt><dd>{proxy.peer}</dd>
        <dt>Stream</dt><dd>{proxy.streamId} ({proxy.protocol})</dd>
        <dt>Connected at</dt><dd>{proxy.connectedAt}</dd>
        <dt>Admin</dt><dd>{detail.data?.adminAddress ?? '—'}</dd>
        <dt>Certificate expiry</dt><dd>{detail.data?.certExpiry ? <Expiry at={detail.data.certExpiry} /> : <span className="muted">{detail.data ? 'no certificate' : '—'}</span>}</dd>
        {detail.data?.metrics?.lastError && <><dt>Metrics scrape</dt><dd className="error-line">{detail.data.metrics.lastError}</dd></>}
        {Object.entries(proxy.types).sort(([a], [b]) => order(shortType(a)) - order(shortType(b))).map(([t, s]) => s && (
          <FragmentRow key={t} label={shortType(t)} value={`sent ${s.sentVersion || '—'} · acked ${s.ackedVersion || '—'} · ${s.subscribed.length === 1 && s.subscribed[0] === '*' ? 'wildcard' : `${s.subscribed.length} name${s.subscribed.length === 1 ? '' : 's'}`}${s.nackError ? ` · NACK: ${s.nackError.message}` : ''}`} />
        ))}
      </dl>
      <h2>Config dump</h2>
      {dump.error ? <div className="error-box">{dump.status === 404 ? 'This control plane does not serve config dumps.' : dump.error}</div>
        : <pre className="dump" tabIndex={0} aria-label="Config dump">{dump.data === undefined ? 'Loading…' : JSON.stringify(dump.data, null, 2)}</pre>}
    </section>
  );
}

function FragmentRow({ label, value }: { label: string; value: string }): ReactNode {
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  );
}
