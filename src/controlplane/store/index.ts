/**
 * Opens the configured store backend; the rest of the control plane only sees
 * the Store interface (store.ts).
 */
import { openEtcdStore } from './etcd-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export type StoreOptions = { kind: 'sqlite'; dataDir: string } | { kind: 'etcd'; endpoints: string[]; prefix?: string };

export function openStore(options: StoreOptions): Store {
  switch (options.kind) {
    case 'sqlite':
      return openSqliteStore(options.dataDir);
    case 'etcd':
      return openEtcdStore({ endpoints: options.endpoints, prefix: options.prefix });
  }
}

export { ConflictError, type Store, type WatchEvent, type WatchEventType, type ListOptions } from './store.js';
export { RevisionCompactedError, InvalidResourceKeyError } from './errors.js';
export { campaignForLeadership, type LeaderElectionOptions } from './leader.js';
