/**
 * Every mesh resource, kept current: each kind is listed once, then the
 * all-kinds watch stream (/api/watch) applies every change after the lists'
 * revision. A broken stream reconnects with its last event id, so nothing is
 * missed and the page never reloads. Pages read it with useResources().
 */
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { errorText } from './client';
import { listAll, loadKinds, resourceKey, type KindInfo, type Resource } from './resources';
import { readEvents } from './sse';

export interface LiveResources {
  kinds: KindInfo[];
  /** By resourceKey(). */
  byKey: ReadonlyMap<string, Resource>;
  /** True once the first lists arrived. */
  loaded: boolean;
  /** Set while the API is unreachable or refuses us (e.g. a missing token). */
  error: string;
  /** Whether the watch stream is open. */
  live: boolean;
}

const LiveContext = createContext<LiveResources>({ kinds: [], byKey: new Map(), loaded: false, error: '', live: false });

const RETRY_MS = 2000;

export function LiveResourcesProvider({ token, children }: { token: string; children: ReactNode }): ReactNode {
  const [state, setState] = useState<LiveResources>({ kinds: [], byKey: new Map(), loaded: false, error: '', live: false });

  useEffect(() => {
    const abort = new AbortController();
    const byKey = new Map<string, Resource>();
    let kinds: KindInfo[] = [];
    let pending = false;
    // Coalesce bursts of watch events into one render.
    const publish = (patch: Partial<LiveResources> = {}): void => {
      setState((prev) => ({ ...prev, ...patch, kinds, byKey: new Map(byKey) }));
    };
    const schedule = (): void => {
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        if (!abort.signal.aborted) publish();
      }, 50);
    };

    const run = async (): Promise<void> => {
      let lastId = '';
      while (!abort.signal.aborted) {
        try {
          if (lastId === '') {
            kinds = await loadKinds(abort.signal);
            const lists = await Promise.all(kinds.map((kind) => listAll(kind, abort.signal)));
            byKey.clear();
            for (const list of lists) for (const item of list.items) byKey.set(resourceKey(item), item);
            // The oldest list revision: watching from it may repeat a change, never miss one.
            lastId = lists.map((l) => l.metadata.resourceVersion).reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b), lists[0]?.metadata.resourceVersion ?? '0');
            publish({ loaded: true, error: '' });
          }
          publish({ live: true, error: '' });
          await readEvents('/api/watch', (event) => {
            if (event.id !== '') lastId = event.id;
            const resource = JSON.parse(event.data) as Resource;
            if (event.event === 'DELETED') byKey.delete(resourceKey(resource));
            else byKey.set(resourceKey(resource), resource);
            schedule();
          }, abort.signal, lastId);
          publish({ live: false }); // the server ended the stream: resume after a pause
          await new Promise((r) => setTimeout(r, RETRY_MS));
        } catch (err) {
          if (abort.signal.aborted) return;
          // 410: our revision was compacted; list again.
          if ((err as { status?: number }).status === 410) lastId = '';
          const status = (err as { status?: number }).status;
          publish({ live: false, error: status === 401 || status === 403 ? `${errorText(err)} — the control plane wants an API token: paste one into "API token"` : errorText(err) });
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    };
    void run();
    return () => abort.abort();
  }, [token]);

  return <LiveContext.Provider value={state}>{children}</LiveContext.Provider>;
}

export function useLive(): LiveResources {
  return useContext(LiveContext);
}

/** The resources of one kind (by kind name), sorted by namespace and name. */
export function useResources(kind: string): Resource[] {
  const { byKey } = useLive();
  return useMemo(
    () => [...byKey.values()].filter((r) => r.kind === kind).sort((a, b) => resourceKey(a).localeCompare(resourceKey(b))),
    [byKey, kind],
  );
}
