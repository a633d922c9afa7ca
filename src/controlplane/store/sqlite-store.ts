/**
 * The embedded store: one SQLite file (WAL) under the data directory.
 * `resources` holds the current document of each resource; `changes` is the
 * append-only log that lets a watch replay from a past revision; `meta` holds
 * the store-wide revision and how far the log was compacted. Every write is
 * one transaction that bumps the revision, so revisions are unique and
 * increasing across restarts. Watch is in-process only: one control plane
 * owns a data directory.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { childLogger } from '../../lib/log.js';
import { keyOf, type Resource, type ResourceKey } from '../model/resource.js';
import { ChangeFeed } from './change-feed.js';
import { assertStorableKey, checkExpectedVersion, documentForPut, documentForStatus, resourceFromDocument } from './documents.js';
import { InvalidRevisionError, RevisionCompactedError } from './errors.js';
import type { ListOptions, Store, WatchEvent, WatchEventType } from './store.js';

export const DATABASE_FILE = 'weft.db';
/** Changes kept for watch replay; older ones are compacted away. */
export const DEFAULT_CHANGE_LOG_RETENTION = 10_000;
const SCHEMA_VERSION = 1;

export interface SqliteStoreOptions {
  changeLogRetention?: number;
}

interface ResourceRow {
  revision: number;
  document: string;
}

interface ChangeRow {
  revision: number;
  type: WatchEventType;
  document: string;
}

export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Store {
  mkdirSync(dataDir, { recursive: true });
  return new SqliteStore(join(dataDir, DATABASE_FILE), options.changeLogRetention ?? DEFAULT_CHANGE_LOG_RETENTION);
}

class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly feed: ChangeFeed;
  private readonly statements: Statements;

  constructor(
    private readonly file: string,
    private readonly retention: number,
  ) {
    if (!Number.isInteger(retention) || retention < 1) throw new RangeError(`changeLogRetention must be a positive integer, got ${retention}`);
    const log = childLogger('store').child({ backend: 'sqlite', file });
    this.feed = new ChangeFeed(log);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: an acknowledged write survives a power cut, not only a process crash.
    this.db.pragma('synchronous = FULL');
    this.migrate();
    this.statements = prepareStatements(this.db);
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version === SCHEMA_VERSION) return;
    if (version !== 0) throw new Error(`${this.file}: schema version ${version} is not supported (this build reads version ${SCHEMA_VERSION})`);
    this.db.exec(`
      BEGIN;
      CREATE TABLE resources (
        kind TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
        revision INTEGER NOT NULL, document TEXT NOT NULL,
        PRIMARY KEY (kind, namespace, name)
      ) WITHOUT ROWID;
      CREATE INDEX resources_by_namespace ON resources (namespace, kind, name);
      CREATE TABLE changes (revision INTEGER PRIMARY KEY, type TEXT NOT NULL, document TEXT NOT NULL);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta (key, value) VALUES ('revision', 0), ('compacted', 0);
      PRAGMA user_version = ${SCHEMA_VERSION};
      COMMIT;
    `);
  }

  async get(key: ResourceKey): Promise<Resource | undefined> {
    return this.read(key);
  }

  async list(options: ListOptions = {}): Promise<Resource[]> {
    const { kind, namespace } = options;
    const rows =
      kind !== undefined && namespace !== undefined ? this.statements.listKindNamespace.all(kind, namespace)
      : kind !== undefined ? this.statements.listKind.all(kind)
      : namespace !== undefined ? this.statements.listNamespace.all(namespace)
      : this.statements.listAll.all();
    return rows.map((row) => resourceFromDocument(row.document, String(row.revision)));
  }

  async put(resource: Resource, expectedResourceVersion?: string): Promise<Resource> {
    const key = keyOf(resource);
    assertStorableKey(key);
    return this.write(() => {
      const previous = this.read(key);
      checkExpectedVersion(key, expectedResourceVersion, previous?.metadata.resourceVersion);
      const change: PlannedChange = { key, type: previous === undefined ? 'ADDED' : 'MODIFIED', document: documentForPut(resource, previous) };
      return change;
    });
  }

  async putStatus(key: ResourceKey, status: Resource['status']): Promise<Resource | undefined> {
    return this.write(() => {
      const current = this.read(key);
      return current === undefined ? undefined : { key, type: 'MODIFIED', document: documentForStatus(current, status) };
    });
  }

  async delete(key: ResourceKey, expectedResourceVersion?: string): Promise<Resource | undefined> {
    return this.write(() => {
      const current = this.read(key);
      checkExpectedVersion(key, expectedResourceVersion, current?.metadata.resourceVersion);
      return current === undefined ? undefined : { key, type: 'DELETED', document: JSON.stringify(current) };
    });
  }

  async revision(): Promise<string> {
    return String(this.meta('revision'));
  }

  watch(onEvent: (event: WatchEvent) => void, fromRevision?: string): { close(): void } {
    // Backlog and subscription happen in one synchronous step: no write can fall between them.
    const backlog = fromRevision === undefined ? [] : this.changesAfter(fromRevision);
    return this.feed.subscribe(onEvent, backlog);
  }

  async close(): Promise<void> {
    this.feed.closeAll();
    this.db.close();
  }

  private read(key: ResourceKey): Resource | undefined {
    const row = this.statements.get.get(key.kind, key.namespace, key.name);
    return row === undefined ? undefined : resourceFromDocument(row.document, String(row.revision));
  }

  private meta(key: 'revision' | 'compacted'): number {
    const row = this.statements.readMeta.get(key);
    if (row === undefined) throw new Error(`${this.file}: meta row '${key}' is missing`);
    return row.value;
  }

  private changesAfter(fromRevision: string): WatchEvent[] {
    const from = Number(fromRevision);
    if (!Number.isSafeInteger(from) || from < 0) throw new InvalidRevisionError(fromRevision);
    const compacted = this.meta('compacted');
    if (from < compacted) throw new RevisionCompactedError(fromRevision, String(compacted));
    return this.statements.changesAfter.all(from).map((row) => ({
      type: row.type,
      revision: String(row.revision),
      resource: JSON.parse(row.document) as Resource,
    }));
  }

  /**
   * Runs `plan` and applies the change it returns in one transaction at the
   * next revision, logs it, compacts the log, then tells watchers.
   * `plan` returning undefined means "nothing to write".
   */
  private write(plan: () => PlannedChange): Resource;
  private write(plan: () => PlannedChange | undefined): Resource | undefined;
  private write(plan: () => PlannedChange | undefined): Resource | undefined {
    const commit = this.db.transaction((): WatchEvent | undefined => {
      const change = plan();
      if (change === undefined) return undefined;
      const revision = this.meta('revision') + 1;
      const { kind, namespace, name } = change.key;
      if (change.type === 'DELETED') this.statements.remove.run(kind, namespace, name);
      else this.statements.upsert.run(kind, namespace, name, revision, change.document);
      // The log keeps, for a delete, the last stored state (with its own resourceVersion).
      const resource = change.type === 'DELETED' ? JSON.parse(change.document) as Resource : resourceFromDocument(change.document, String(revision));
      this.statements.appendChange.run(revision, change.type, JSON.stringify(resource));
      this.statements.writeMeta.run('revision', revision);
      const compactThrough = revision - this.retention;
      if (compactThrough > this.meta('compacted')) {
        this.statements.compact.run(compactThrough);
        this.statements.writeMeta.run('compacted', compactThrough);
      }
      return { type: change.type, resource, revision: String(revision) };
    });
    const event = commit();
    if (event === undefined) return undefined;
    this.feed.publish(event);
    return structuredClone(event.resource);
  }
}

function prepareStatements(db: Database.Database) {
return {
    get: db.prepare<[string, string, string], ResourceRow>('SELECT revision, document FROM resources WHERE kind = ? AND namespace = ? AND name = ?'),
    listAll: db.prepare<[], ResourceRow>('SELECT revision, document FROM resources ORDER BY kind, namespace, name'),
    listKind: db.prepare<[string], ResourceRow>('SELECT revision, document FROM resources WHERE kind = ? ORDER BY namespace, name'),
    listNamespace: db.prepare<[string], ResourceRow>('SELECT revision, document FROM resources WHERE namespace = ? ORDER BY kind, name'),
    listKindNamespace: db.prepare<[string, string], ResourceRow>('SELECT revision, document FROM resources WHERE kind = ? AND namespace = ? ORDER BY name'),
    upsert: db.prepare<[string, string, string, number, string]>(
      'INSERT INTO resources (kind, namespace, name, revision, document) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, namespace, name) DO UPDATE SET revision = excluded.revision, document = excluded.document',
    ),
    remove: db.prepare<[string, string, string]>('DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?'),
    appendChange: db.prepare<[number, WatchEventType, string]>('INSERT INTO changes (revision, type, document) VALUES (?, ?, ?)'),
    changesAfter: db.prepare<[number], ChangeRow>('SELECT revision, type, document FROM changes WHERE revision > ? ORDER BY revision'),
    compact: db.prepare<[number]>('DELETE FROM changes WHERE revision <= ?'),
    readMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
    writeMeta: db.prepare<[string, number]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

interface PlannedChange {
  key: ResourceKey;
  type: WatchEventType;
  /** For DELETED: the last stored state, with its resourceVersion. */
  document: string;
}

SqliteStore satisfies new (file: string, retention: number) => Store;
