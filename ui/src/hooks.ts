/** Small React hooks shared by the pages: hash routing, polling, theme. */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { errorText } from './api/client';

/** The route is the URL's hash without '#/' split on '/', e.g. ['services', 'default', 'reviews']. */
export function useRoute(): string[] {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener('hashchange', notify);
      return () => window.removeEventListener('hashchange', notify);
    },
    () => window.location.hash,
  );
  return hash.replace(/^#\/?/, '').split('/').filter((part) => part !== '').map(decodeURIComponent);
}

export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}

export function navigate(...parts: string[]): void {
  window.location.hash = href(...parts);
}

export interface Polled<T> {
  data: T | undefined;
  error: string;
  /** HTTP status of the last failure (404: the endpoint is not served). */
  status: number;
  refresh: () => void;
}

/** Calls `load` now and every `everyMs`, keeping the last good value; aborts on unmount or when `key` changes. */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number, key: string): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string; status: number }>({ data: undefined, error: '', status: 0 });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    setState({ data: undefined, error: '', status: 0 });
  }, [key]);
  useEffect(() => {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const once = async (): Promise<void> => {
      try {
        const data = await loadRef.current(abort.signal);
        if (!abort.signal.aborted) setState({ data, error: '', status: 0 });
      } catch (err) {
        if (abort.signal.aborted) return;
        setState((prev) => ({ data: prev.data, error: errorText(err), status: (err as { status?: number }).status ?? 0 }));
      }
      if (!abort.signal.aborted && everyMs > 0) timer = setTimeout(() => void once(), everyMs);
    };
    void once();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [key, everyMs, tick]);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, refresh };
}

export type Theme = 'light' | 'dark';
const THEME_KEY = 'weft.theme';

/** The user's choice if made, else the system's (prefers-color-scheme), following its changes. */
export function useTheme(): [Theme, (theme: Theme) => void] {
  const [media] = useState(() => window.matchMedia('(prefers-color-scheme: dark)'));
  const [system, setSystem] = useState<Theme>(media.matches ? 'dark' : 'light');
  const [chosen, setChosen] = useState<Theme | null>(() => {
    const saved = localStorage.getItem(THEME_KEY);
    return saved === 'light' || saved === 'dark' ? saved : null;
  });
  useEffect(() => {
    const onChange = (e: MediaQueryListEvent): void => setSystem(e.matches ? 'dark' : 'light');
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [media]);
  const theme = chosen ?? system;
  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
  }, [theme]);
  const choose = useCallback((next: Theme) => {
    localStorage.setItem(THEME_KEY, next);
    setChosen(next);
  }, []);
  return [theme, choose];
}

/** Colours the charts and the graph read from the CSS variables of the current theme. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The theme currently applied to the document, for components that draw with its colours. */
export function useAppliedTheme(): string {
  return useSyncExternalStore(
    (notify) => {
      const observer = new MutationObserver(notify);
      observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
      return () => observer.disconnect();
    },
    () => document.documentElement.dataset['theme'] ?? 'light',
  );
}
