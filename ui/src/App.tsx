/**
 * The shell: navigation, colour scheme toggle, API token field, connection
 * state, and the page the hash route names. Every page reads live resources
 * from LiveResourcesProvider and polls the mesh views it needs.
 */
import { useState, type ReactNode } from 'react';
import { getToken, setToken } from './api/client';
import { LiveResourcesProvider, useLive } from './api/live-resources';
import { href, useRoute, useTheme } from './hooks';
import { ConfigurationPage } from './pages/Configuration';
import { PerformancePage } from './pages/Performance';
import { ProxiesPage } from './pages/Proxies';
import { ServicePage } from './pages/Service';
import { TopologyPage } from './pages/Topology';

const PAGES = [
  { path: 'topology', title: 'Topology' },
  { path: 'services', title: 'Services' },
  { path: 'config', title: 'Configuration' },
  { path: 'proxies', title: 'Proxies' },
  { path: 'performance', title: 'Performance' },
] as const;

export function App(): ReactNode {
  const [token, setTokenState] = useState(getToken);
  return (
    <LiveResourcesProvider token={token}>
      <Shell
        token={token}
        onToken={(next) => {
          setToken(next);
          setTokenState(next);
        }}
      />
    </LiveResourcesProvider>
  );
}

function Shell({ token, onToken }: { token: string; onToken: (token: string) => void }): ReactNode {
  const route = useRoute();
  const [theme, setTheme] = useTheme();
  const live = useLive();
  const page = route[0] ?? 'topology';
  return (
    <div className="shell">
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header className="topbar">
        <span className="brand">Weft</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.path} href={href(p.path)} aria-current={page === p.path ? 'page' : undefined}>{p.title}</a>
          ))}
        </nav>
        <span className="spacer" />
        <span className={`conn ${live.live ? 'ok' : 'bad'}`} role="status" title={live.error || 'watching every resource'}>
          {live.live ? '● live' : live.error ? '● offline' : '● connecting'}
        </span>
        <TokenField token={token} onToken={onToken} />
        <button type="button" className="ghost" aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} colours`} onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}>
          {theme === 'dark' ? '☀ Light' : '☾ Dark'}
        </button>
      </header>
      {live.error !== '' && <div className="banner error" role="alert">Control plane: {live.error}</div>}
      <main id="main" tabIndex={-1}>
        <Page route={route} page={page} />
      </main>
    </div>
  );
}

function Page({ route, page }: { route: string[]; page: string }): ReactNode {
  switch (page) {
    case 'topology':
      return <TopologyPage />;
    case 'services':
      return <ServicePage namespace={route[1]} name={route[2]} />;
    case 'config':
      return <ConfigurationPage kind={route[1]} namespace={route[2]} name={route[3]} />;
    case 'proxies':
      return <ProxiesPage nodeId={route[1]} />;
    case 'performance':
      return <PerformancePage />;
    default:
      return <p>No page “{page}”. <a href={href('topology')}>Go to the topology</a>.</p>;
  }
}

function TokenField({ token, onToken }: { token: string; onToken: (token: string) => void }): ReactNode {
  const [draft, setDraft] = useState(token);
  return (
    <form className="token" onSubmit={(e) => { e.preventDefault(); onToken(draft.trim()); }}>
      <label htmlFor="api-token">API token</label>
      <input id="api-token" type="password" autoComplete="off" value={draft} placeholder="none" onChange={(e) => setDraft(e.target.value)} />
      <button type="submit" disabled={draft.trim() === token}>Save</button>
    </form>
  );
}
