/**
 * State-of-the-world ADS (StreamAggregatedResources). Per type the stream
 * keeps the client's subscription and the name->version set it last sent.
 *
 * - A request whose response_nonce is not the last nonce sent for its type is
 *   stale and ignored (once something was sent; the first request has none).
 * - A request answering the last nonce is an ACK (no error_detail: the client
 *   now runs version_info) or a NACK (error_detail: recorded, the client keeps
 *   its last good version). Neither triggers a resend: a response goes out
 *   only when the set of resources to send differs from the set last sent,
 *   so a rejected snapshot is never pushed again until it changes.
 * - Listeners and clusters are wildcard while no request has named a resource
 *   (legacy) or while the list holds '*'; once one has, an empty list means
 *   unsubscribed from all. Every response for them carries all subscribed
 *   resources, because a client treats one missing from a response as deleted.
 */
import type { EncodedAny } from '../../xds/codec.js';
import { allowsWildcard, type ServedTypeUrl as TypeUrl } from '../../xds/type-urls.js';
import type { CachedResource, PublishedSnapshot } from './snapshot-cache.js';
import { StreamBase, type RequestCommon, type TypeStateBase, freshTypeState } from './stream.js';

export interface DiscoveryRequest extends RequestCommon {
  version_info: string;
  resource_names: string[];
}

export interface DiscoveryResponse {
  version_info: string;
  resources: EncodedAny[];
  type_url: string;
  nonce: string;
}

interface SotwTypeState extends TypeStateBase {
  /** A request named a resource ('*' included): from then on an empty list unsubscribes rather than meaning wildcard. */
  named: boolean;
  /** The resources (name -> version) the last response was made from; often the snapshot's own map, shared, never copied. */
  sent: ReadonlyMap<string, CachedResource>;
}

export class SotwStream extends StreamBase<DiscoveryRequest, DiscoveryResponse, SotwTypeState> {
  protected newTypeState(typeUrl: TypeUrl, request: DiscoveryRequest): SotwTypeState {
    return {
      // Legacy wildcard: the first request for listeners or clusters names nothing.
      ...freshTypeState(allowsWildcard(typeUrl) && request.resource_names.length === 0),
      named: false,
      sent: new Map(),
    };
  }

  protected handleRequest(typeUrl: TypeUrl, state: SotwTypeState, request: DiscoveryRequest): void {
    if (state.sentOnce && request.response_nonce !== state.lastNonce) {
      this.log.debug({ typeUrl, nonce: request.response_nonce, lastNonce: state.lastNonce }, 'stale xds request ignored');
      return;
    }
    this.subscribe(typeUrl, state, request.resource_names);
    if (!state.sentOnce) return;
    if (request.error_detail !== null && request.error_detail !== undefined) {
      // version_info names the version the client still runs.
      state.ackedVersion = request.version_info;
      this.recordNack(typeUrl, state, state.sentVersion, request.response_nonce, request.error_detail);
    } else if (request.version_info === state.sentVersion) {
      this.recordAck(typeUrl, state, request.version_info, request.response_nonce);
    }
  }

  protected push(typeUrl: TypeUrl, state: SotwTypeState, published: PublishedSnapshot, keepRemoved: boolean): boolean {
    const selected = this.selected(typeUrl, state, published);
    const toSend = keepRemoved ? withDropped(selected, state.sent, published.resources(typeUrl)) : selected;
    // Named subscriptions to resources that do not exist yet: wait rather than answer empty.
    if (state.sent.size === 0 && toSend.size === 0 && !state.wildcard) return false;
    if (state.sentOnce && sameVersions(state.sent, toSend)) return false;
    const nonce = this.nextNonce();
    const version = published.typeVersion(typeUrl);
    const resources = this.changedOnly(typeUrl, state, toSend).map((cached) => cached.any);
    this.write(typeUrl, state, { version_info: version, resources, type_url: typeUrl, nonce }, version, nonce, { resources: resources.length, removed: 0 });
    state.sent = toSend;
    return true;
  }

  /**
   * What a response carries. LDS and CDS responses must hold every resource (a
   * client treats a missing Listener or Cluster as deleted). For RDS and EDS the
   * xDS protocol lets a state-of-the-world response carry only the resources
   * that changed, and clients keep the others: a one-service change then sends
   * one ClusterLoadAssignment, not the mesh's every one, to each proxy.
   */
  private changedOnly(typeUrl: TypeUrl, state: SotwTypeState, toSend: ReadonlyMap<string, CachedResource>): CachedResource[] {
    // A first response, or a changed subscription, is answered with the whole subscribed set.
    if (allowsWildcard(typeUrl) || !state.sentOnce || !sameNames(state.sent, toSend)) return [...toSend.values()];
    const changed: CachedResource[] = [];
    for (const [name, cached] of toSend) if (state.sent.get(name)?.version !== cached.version) changed.push(cached);
    return changed;
  }

  private subscribe(typeUrl: TypeUrl, state: SotwTypeState, names: string[]): void {
    // Until a request names something an empty list keeps the legacy wildcard (or nothing, for
    // RDS/EDS); after that the list is the whole subscription, so an empty one unsubscribes from all.
    if (names.length === 0 && !state.named) return;
    state.named = true;
    state.wildcard = names.includes('*') && allowsWildcard(typeUrl);
    state.subscribed = new Set(names.filter((name) => name !== '*'));
  }

  /** The subscribed resources; the snapshot's own (shared) map when that is all of them, so 2000 streams hold no copies. */
  private selected(typeUrl: TypeUrl, state: SotwTypeState, published: PublishedSnapshot): ReadonlyMap<string, CachedResource> {
    const all = published.resources(typeUrl);
    if (state.wildcard || (state.subscribed.size === all.size && everyKeyIn(state.subscribed, all))) return all;
    const chosen = new Map<string, CachedResource>();
    for (const name of state.subscribed) {
      const cached = all.get(name);
      if (cached !== undefined) chosen.set(name, cached);
    }
    return chosen;
  }
}

/** `selected` plus what was sent that the snapshot no longer has (a client drops a listener or cluster missing from a response). */
function withDropped(
  selected: ReadonlyMap<string, CachedResource>,
  sent: ReadonlyMap<string, CachedResource>,
  snapshot: ReadonlyMap<string, CachedResource>,
): ReadonlyMap<string, CachedResource> {
  let merged: Map<string, CachedResource> | undefined;
  for (const [name, cached] of sent) {
    if (snapshot.has(name)) continue;
    merged ??= new Map(selected);
    merged.set(name, cached);
  }
  return merged ?? selected;
}

function everyKeyIn(names: ReadonlySet<string>, resources: ReadonlyMap<string, CachedResource>): boolean {
  for (const name of names) if (!resources.has(name)) return false;
  return true;
}

function sameNames(sent: ReadonlyMap<string, CachedResource>, next: ReadonlyMap<string, CachedResource>): boolean {
  if (sent === next) return true;
  if (sent.size !== next.size) return false;
  for (const name of next.keys()) if (!sent.has(name)) return false;
  return true;
}

function sameVersions(sent: ReadonlyMap<string, CachedResource>, next: ReadonlyMap<string, CachedResource>): boolean {
  if (sent === next) return true;
  if (sent.size !== next.size) return false;
  for (const [name, cached] of next) if (sent.get(name)?.version !== cached.version) return false;
  return true;
}
