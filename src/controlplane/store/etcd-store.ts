/**
 * The HA store: resources in etcd, one key per resource
 * (`${prefix}resources/${kind}/${namespace}/${name}`, value = JSON document).
 * The resourceVersion is the key's mod_revision and the store revision is
 * etcd's cluster revision, so revisions are unique and increasing across all
 * control-plane replicas. Every write is a read followed by an etcd
 * transaction that compares mod_revision (or create_revision = 0 for a key
 * that must not exist yet), retried while only the comparison failed.
 */
import { Etcd3, Range, type IKeyValue, type Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { childLogger } from '../../lib/log.js';
import { describeKey, keyOf, type Resource, type ResourceKey } from '../model/resource.js';
import { assertStorableKey, checkExpectedVersion, documentForPut, documentForStatus, resourceFromDocument } from './documents.js';
import type { ListOptions, Store, WatchEvent } from './store.js';
import { InvalidRevisionError } from './errors.js';

export const DEFAULT_ETCD_PREFIX = '/weft/';
/** Per-call deadline for unary etcd calls, so a hung member cannot hang a write forever. */
const CALL_DEADLINE_MS = 5_000;
/** Compare-and-swap attempts before a write on a constantly changing key gives up. */
const MAX_WRITE_ATTEMPTS = 64;
/** Keys per range request when listing (keeps each response far below gRPC's message limit). */
const LIST_PAGE_SIZE = 500;

export interface EtcdStoreOptions {
  endpoints: string[];
  /** Key prefix for everything this store writes; default '/weft/'. */
  prefix?: string;
}

export function openEtcdStore(options: EtcdStoreOptions): Store {
  if (options.endpoints.length === 0) throw new RangeError('etcd store: at least one endpoint is required');
  return new EtcdStore(options.endpoints, options.prefix ?? DEFAULT_ETCD_PREFIX);
}

export function etcdClient(endpoints: string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
  });
}

/** What an update decides from the current state: a document to put, null to delete, undefined to leave it. */
type Decision = string | null | undefined;

class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly resourcesPrefix: string;
  private readonly log: Logger;
  private readonly watchers = new Set<{ close(): void }>();

  constructor(endpoints: string[], prefix: string) {
    this.client = etcdClient(endpoints);
    this.resourcesPrefix = `${prefix}resources/`;
    this.log = childLogger('store').child({ backend: 'etcd', prefix });
  }

  async get(key: ResourceKey): Promise<Resource | undefined> {
    const kv = (await this.client.get(this.etcdKey(key)).exec()).kvs[0];
    return kv === undefined ? undefined : resourceFromKeyValue(kv);
  }

  async list(options: ListOptions = {}): Promise<Resource[]> {
    const { kind, namespace } = options;
    const scope = kind === undefined ? this.resourcesPrefix : `${this.resourcesPrefix}${kind}/${namespace === undefined ? '' : `${namespace}/`}`;
    const resources: Resource[] = [];
    const end = Range.prefix(scope).end;
    let start: Buffer = Buffer.from(scope);
    let revision: string | undefined;
    for (;;) {
      // Later pages read at the first page's revision: one consistent snapshot.
      const query = this.client.getAll().inRange(new Range(start, end)).limit(LIST_PAGE_SIZE);
      if (revision !== undefined) query.revision(revision);
      const page = await query.exec();
      revision ??= page.header.revision;
      for (const kv of page.kvs) resources.push(resourceFromKeyValue(kv));
      const last = page.kvs.at(-1);
      if (!page.more || last === undefined) break;
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
    const selected = kind === undefined && namespace !== undefined ? resources.filter((r) => r.metadata.namespace === namespace) : resources;
    return selected.sort(compareByKey);
  }

  async put(resource: Resource, expectedResourceVersion?: string): Promise<Resource> {
    const key = keyOf(resource);
    assertStorableKey(key);
    const stored = await this.update(key, (current) => {
      checkExpectedVersion(key, expectedResourceVersion, current?.metadata.resourceVersion);
      return documentForPut(resource, current);
    });
    if (stored === undefined) throw new Error(`${describeKey(key)}: etcd put returned no resource`);
    return stored;
  }

  async putStatus(key: ResourceKey, status: Resource['status']): Promise<Resource | undefined> {
    return this.update(key, (current) => (current === undefined ? undefined : documentForStatus(current, status)));
  }

  async delete(key: ResourceKey, expectedResourceVersion?: string): Promise<Resource | undefined> {
    return this.update(key, (current) => {
      checkExpectedVersion(key, expectedResourceVersion, current?.metadata.resourceVersion);
      return current === undefined ? undefined : null;
    });
  }

  async revision(): Promise<string> {
    return (await this.client.get(this.resourcesPrefix).exec()).header.revision;
  }

  watch(onEvent: (event: WatchEvent) => void, fromRevision?: string): { close(): void } {
    const handle = watchResources(this.client, this.resourcesPrefix, onEvent, fromRevision, this.log);
    const tracked = {
      close: () => {
        this.watchers.delete(tracked);
        handle.close();
      },
    };
    this.watchers.add(tracked);
    return tracked;
  }

  async close(): Promise<void> {
    for (const watcher of [...this.watchers]) watcher.close();
    this.client.close();
  }

  private etcdKey(key: ResourceKey): string {
    return `${this.resourcesPrefix}${key.kind}/${key.namespace}/${key.name}`;
  }

  /**
   * Read, decide, and commit only if the key is unchanged since the read;
   * otherwise read again. Returns the stored resource (the deleted one for a
   * delete), or undefined when `decide` left the key alone.
   */
  private async update(key: ResourceKey, decide: (current: Resource | undefined) => Decision): Promise<Resource | undefined> {
    const etcdKey = this.etcdKey(key);
    let attempted: { decision: string | null; comparedRevision: bigint; current: Resource | undefined } | undefined;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const kv = (await this.client.get(etcdKey).exec()).kvs[0];
      const current = kv === undefined ? undefined : resourceFromKeyValue(kv);
      // The client retries a call whose connection broke, so a "failed" commit
      // may be our own earlier commit: recognise it instead of reporting a conflict.
      if (attempted !== undefined) {
        if (attempted.decision === null && kv === undefined) return attempted.current;
        if (attempted.decision !== null && kv !== undefined && BigInt(kv.mod_revision) > attempted.comparedRevision && kv.value.toString() === attempted.decision) return current;
      }
      const decision = decide(current);
      if (decision === undefined) return undefined;
      const comparedRevision = kv === undefined ? 0n : BigInt(kv.mod_revision);
      const txn = kv === undefined ? this.client.if(etcdKey, 'Create', '==', 0) : this.client.if(etcdKey, 'Mod', '==', kv.mod_revision);
      const result = await txn.then(decision === null ? this.client.delete().key(etcdKey) : this.client.put(etcdKey).value(decision)).commit();
      if (result.succeeded) return decision === null ? current : resourceFromDocument(decision, result.header.revision);
      attempted = { decision, comparedRevision, current };
    }
    throw new Error(`${describeKey(key)}: write abandoned after ${MAX_WRITE_ATTEMPTS} attempts; the key kept changing between read and commit`);
  }
}

/**
 * One etcd watch over every resource key, mapped to store events. etcd3
 * reconnects dropped watch streams by itself; we make it resume exactly after
 * the last event we delivered (its own resume point can skip events during a
 * catch-up) and drop anything at or below it, so each change is seen once.
 */
function watchResources(client: Etcd3, prefix: string, onEvent: (event: WatchEvent) => void, fromRevision: string | undefined, log: Logger): { close(): void } {
  let resumeFrom = fromRevision === undefined ? undefined : parseRevision(fromRevision) + 1n;
  let closed = false;
  const builder = client.watch().prefix(prefix).withPreviousKV();
  if (resumeFrom !== undefined) builder.startRevision(resumeFrom.toString());
  // watcher() rather than create(): listeners must be attached before the first response can arrive.
  const watcher: Watcher = builder.watcher();
  watcher.on('connecting', () => {
    if (resumeFrom !== undefined) watcher.request.start_revision = resumeFrom.toString();
  });
  watcher.on('connected', (response) => {
    resumeFrom ??= BigInt(response.header.revision) + 1n;
  });
  watcher.on('disconnected', (err) => log.warn({ err }, 'etcd watch disconnected; reconnecting'));
  watcher.on('error', (err) => log.error({ err, fromRevision }, 'etcd watch failed; no further events will be delivered'));
  watcher.on('data', (response) => {
    for (const event of response.events) {
      const revision = BigInt(event.kv.mod_revision);
      if (closed || (resumeFrom !== undefined && revision < resumeFrom)) continue;
      resumeFrom = revision + 1n;
      const mapped: WatchEvent =
        event.type === 'Put'
          ? { type: event.kv.version === '1' ? 'ADDED' : 'MODIFIED', resource: resourceFromKeyValue(event.kv), revision: event.kv.mod_revision }
          : { type: 'DELETED', resource: deletedResource(event.kv, event.prev_kv, prefix), revision: event.kv.mod_revision };
      try {
        onEvent(mapped);
      } catch (err) {
        log.error({ err, revision: mapped.revision, type: mapped.type }, 'watch handler threw; event skipped for this watcher');
      }
    }
  });
  return {
    close: () => {
      if (closed) return;
      closed = true;
      watcher.cancel().catch((err: unknown) => log.debug({ err }, 'etcd watch cancel failed (client closing)'));
    },
  };
}

function resourceFromKeyValue(kv: IKeyValue): Resource {
  return resourceFromDocument(kv.value.toString(), kv.mod_revision);
}

/** The last stored state; without prev_kv (compacted away) only the key is known. */
function deletedResource(kv: IKeyValue, previous: IKeyValue | undefined, prefix: string): Resource {
  if (previous !== undefined && previous.value.length > 0) return resourceFromKeyValue(previous);
  const [kind = '', namespace = '', name = ''] = kv.key.toString().slice(prefix.length).split('/');
  return { apiVersion: '', kind, metadata: { name, namespace }, spec: null };
}

function parseRevision(revision: string): bigint {
  if (!/^\d+$/.test(revision)) throw new InvalidRevisionError(revision);
  return BigInt(revision);
}

function compareByKey(a: Resource, b: Resource): number {
  return compareStrings(a.kind, b.kind) || compareStrings(a.metadata.namespace, b.metadata.namespace) || compareStrings(a.metadata.name, b.metadata.name);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

EtcdStore satisfies new (endpoints: string[], prefix: string) => Store;
