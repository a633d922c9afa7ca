/**
 * The control loop: store -> translate -> snapshot cache.
 *
 * Keeps an in-memory copy of every resource (list, then watch from that
 * revision, so no change falls between the two). Changes are coalesced for
 * `debounceMs` so a `weft apply` of many documents costs one recomputation,
 * and only the nodes whose snapshot depends on a changed resource are
 * recomputed (translate/dependencies.ts). Resource versions in a snapshot are
 * content hashes (xds/snapshot.ts), so a recomputed node is only sent the
 * resources whose content changed for it.
 */
import type { Logger } from 'pino';
import type { EnvoyJson } from '../xds/codec.js';
import { DEFAULT_TRUST_DOMAIN, spiffeId } from './ca/identity.js';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, SECRET_TYPE_URL } from '../xds/type-urls.js';
import type { Resource } from './model/resource.js';
import type { Store } from './store/store.js';
import { ALL, changeDependencies, DependencyIndex, proxyDependencies, type Dependencies } from './translate/dependencies.js';
import type { MeshView } from './translate/mesh-view.js';
import { DEFAULT_INBOUND_PORT, DEFAULT_OUTBOUND_PORT } from './translate/names.js';
import type { CapturePorts } from './translate/sidecar.js';
import { createTranslator, type ProxyIdentity, type Translator, type XdsConfig } from './translate/translate.js';
import type { SnapshotCache } from './xds/snapshot-cache.js';
import { newSnapshot, type Snapshot } from './xds/snapshot.js';

export interface ControllerOptions {
  store: Store;
  cache: SnapshotCache;
  log: Logger;
  debounceMs?: number;
}

/** What a connected node told us about itself. */
interface NodeInfo {
  identity: ProxyIdentity;
  /** Streams open for this node (a node may reconnect before its old stream ends). */
  streams: number;
}

/** A stored resource as it was before the pending changes and as it is now (undefined: absent). */
interface PendingChange {
  before: Resource | undefined;
  after: Resource | undefined;
}

export class MeshController {
  private readonly resources = new Map<string, Resource>();
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly dependencies = new DependencyIndex();
  /** Changes since the last recomputation, by resource id. */
  private readonly pending = new Map<string, PendingChange>();
  private watch: { close(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  /** The current model version's translator; rebuilt lazily after each change. */
  private translator: Translator | undefined;
  /** The snapshot made of each translation (translations are shared between nodes with equal config). */
  private readonly snapshots = new WeakMap<XdsConfig, Snapshot>();

  constructor(private readonly options: ControllerOptions) {}

  async start(): Promise<void> {
    const { store } = this.options;
    const revision = await store.revision();
    for (const resource of await store.list()) this.resources.set(resourceId(resource), resource);
    this.watch = store.watch((event) => {
      const id = resourceId(event.resource);
      const before = this.resources.get(id);
      if (event.type === 'DELETED') this.resources.delete(id);
      else this.resources.set(id, event.resource);
      const change = this.pending.get(id);
      if (change === undefined) this.pending.set(id, { before, after: this.resources.get(id) });
      else change.after = this.resources.get(id);
      this.scheduleRecompute();
    }, revision);
    this.options.log.info({ resources: this.resources.size, revision }, 'controller started');
  }

  onProxyConnected(nodeId: string, metadata: EnvoyJson): void {
    const existing = this.nodes.get(nodeId);
    if (existing !== undefined) {
      existing.streams++;
      return;
    }
    this.nodes.set(nodeId, { identity: identifyProxy(nodeId, metadata), streams: 1 });
    this.recomputeNode(nodeId, this.currentTranslator());
  }

  /**
   * The SPIFFE ID a node must present on the mTLS port: its Workload's or its Gateway's service
   * account. Null for a proxyless client (any mesh identity may read its namespace's config);
   * undefined when the node names a workload or gateway that is not registered.
   */
  expectedIdentity(nodeId: string, metadata: EnvoyJson): string | null | undefined {
    const proxy = identifyProxy(nodeId, metadata);
    if (proxy.kind === 'proxyless' || proxy.workload === undefined) return null;
    const { view } = this.currentTranslator();
    const holder = proxy.kind === 'gateway'
      ? view.gateways.find((g) => g.namespace === proxy.namespace && g.name === proxy.workload)
      : view.workload(proxy.namespace, proxy.workload);
    if (holder === undefined) return undefined;
    return spiffeId({ trustDomain: view.mtls?.trustDomain ?? DEFAULT_TRUST_DOMAIN, namespace: proxy.namespace, serviceAccount: holder.spec.serviceAccount ?? 'default' });
  }

  onProxyDisconnected(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (node === undefined || --node.streams > 0) return;
    this.nodes.delete(nodeId);
    this.dependencies.delete(nodeId);
    this.options.cache.clearSnapshot(nodeId);
  }

  close(): void {
    this.watch?.close();
    clearTimeout(this.timer);
  }

  /** The translator of the current model version; pending changes are folded in first. */
  private currentTranslator(): Translator {
    if (this.pending.size > 0) this.recompute();
    return (this.translator ??= createTranslator([...this.resources.values()]));
  }

  private scheduleRecompute(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pending.size > 0) this.recompute();
    }, this.options.debounceMs ?? 50);
  }

  /** Applies the pending changes: a new translator, and new snapshots for the nodes that depend on what changed. */
  private recompute(): void {
    if (this.nodes.size === 0) {
      // Nobody to recompute for: the next node gets a translator of the model as it is then.
      this.pending.clear();
      this.translator = undefined;
      return;
    }
    const before = this.translator ?? createTranslator(this.resourcesBefore());
    const changes = [...this.pending.values()];
    this.pending.clear();
    const after = (this.translator = createTranslator([...this.resources.values()]));
    this.generation++;
    const affected = this.dependencies.affected(changedKeys(changes, before.view, after.view));
    this.options.log.debug({ generation: this.generation, changes: changes.length, affected: affected.size, nodes: this.nodes.size }, 'recomputing snapshots');
    for (const nodeId of affected) this.recomputeNode(nodeId, after);
  }

  /** The resources as they were before the pending changes (only needed when no translator was built since the start). */
  private resourcesBefore(): Resource[] {
    const before = new Map(this.resources);
    for (const [id, change] of this.pending) {
      if (change.before === undefined) before.delete(id);
      else before.set(id, change.before);
    }
    return [...before.values()];
  }

  /**
   * Nodes with equal config share one snapshot value, which the cache checks and
   * encodes once. A node's own secrets ride on a shallow copy of it: the per-type
   * maps of the shared part are reused, not rebuilt.
   */
  private snapshotFor(xds: XdsConfig, secrets: object[]): Snapshot {
    let shared = this.snapshots.get(xds);
    if (shared === undefined) {
      shared = newSnapshot(`${this.generation}`, {
        [LISTENER_TYPE_URL]: xds.listeners as EnvoyJson[],
        [ROUTE_CONFIGURATION_TYPE_URL]: xds.routes as EnvoyJson[],
        [CLUSTER_TYPE_URL]: xds.clusters as EnvoyJson[],
        [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: xds.endpoints as EnvoyJson[],
        [SECRET_TYPE_URL]: [],
      });
      this.snapshots.set(xds, shared);
    }
    if (secrets.length === 0) return shared;
    const own = newSnapshot(shared.version, { [SECRET_TYPE_URL]: secrets as EnvoyJson[] });
    return { version: shared.version, resources: new Map([...shared.resources, ...own.resources]) };
  }

  private recomputeNode(nodeId: string, translator: Translator): void {
    const node = this.nodes.get(nodeId);
    if (node === undefined) return;
    const { log, cache } = this.options;
    this.dependencies.set(nodeId, proxyDependencies(translator.view, node.identity));
    try {
      const snapshot = this.snapshotFor(translator.forProxy(node.identity), translator.secretsFor(node.identity));
      cache.setSnapshot(nodeId, snapshot);
    } catch (err) {
      // The previous snapshot keeps serving; the error names the resource at fault.
      log.error({ err, nodeId }, 'cannot build a snapshot for this proxy; it keeps its last config');
    }
  }
}

/** What the changes touch: both versions of each resource, read in the views before and after. */
function changedKeys(changes: readonly PendingChange[], before: MeshView, after: MeshView): Dependencies {
  const keys = new Set<string>();
  for (const change of changes) {
    for (const resource of [change.before, change.after]) {
      if (resource === undefined) continue;
      const touched = changeDependencies(resource, before, after);
      if (touched === ALL) return ALL;
      for (const key of touched) keys.add(key);
    }
  }
  return keys;
}

/**
 * Who a node is, from what it sends: Weft sidecars and gateways set metadata
 * WORKLOAD / GATEWAY and NAMESPACE (and node ids `sidecar~<name>.<ns>`,
 * `gateway~<name>.<ns>`, Istio's convention; a sidecar may add its capture
 * ports as OUTBOUND_PORT / INBOUND_PORT); any other client (grpc-js-xds, a gRPC
 * service dialing `xds:///`) is proxyless.
 */
export function identifyProxy(nodeId: string, metadata: EnvoyJson): ProxyIdentity {
  const text = (key: string): string | undefined => (typeof metadata[key] === 'string' && metadata[key] !== '' ? (metadata[key] as string) : undefined);
  const [kindPart, rest] = nodeId.includes('~') ? (nodeId.split('~', 2) as [string, string]) : ['', ''];
  const dot = rest.lastIndexOf('.');
  const fromId = dot > 0 ? { name: rest.slice(0, dot), namespace: rest.slice(dot + 1) } : undefined;
  const namespace = text('NAMESPACE') ?? fromId?.namespace ?? 'default';
  const gateway = text('GATEWAY') ?? (kindPart === 'gateway' ? fromId?.name : undefined);
  if (gateway !== undefined) return { nodeId, kind: 'gateway', workload: gateway, namespace };
  const workload = text('WORKLOAD') ?? (kindPart === 'sidecar' ? fromId?.name : undefined);
  if (workload !== undefined) {
    const capturePorts = sidecarCapturePorts(metadata);
    return { nodeId, kind: 'sidecar', workload, namespace, ...(capturePorts === undefined ? {} : { capturePorts }) };
  }
  return { nodeId, kind: 'proxyless', namespace };
}

/**
 * A sidecar's capture ports from metadata OUTBOUND_PORT / INBOUND_PORT (a port
 * number or its decimal string; either may be left out for its default), so
 * sidecars sharing one host (the demo, no iptables) do not all bind 15001/15006.
 */
function sidecarCapturePorts(metadata: EnvoyJson): CapturePorts | undefined {
  const portIn = (key: string): number | undefined => {
    const value = metadata[key];
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
    return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
  };
  const outbound = portIn('OUTBOUND_PORT');
  const inbound = portIn('INBOUND_PORT');
  if (outbound === undefined && inbound === undefined) return undefined;
  return { outbound: outbound ?? DEFAULT_OUTBOUND_PORT, inbound: inbound ?? DEFAULT_INBOUND_PORT };
}

function resourceId(resource: Resource): string {
  return `${resource.kind}/${resource.metadata.namespace}/${resource.metadata.name}`;
}
