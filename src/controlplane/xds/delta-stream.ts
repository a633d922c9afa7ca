/**
 * Delta (incremental) ADS (DeltaAggregatedResources). Per type the stream
 * keeps the subscription and, per resource, the version the client has (from
 * initial_resource_versions on a reconnect, then from what was sent), or
 * null once told the resource does not exist.
 *
 * - Subscribe/unsubscribe lists are applied on every request, whatever its
 *   nonce (they are deltas; dropping one would lose it). A subscribe is
 *   answered even for a resource the client should already have (it may have
 *   dropped it), unless initial_resource_versions gives its version.
 * - response_nonce pairs the request with one of the responses still
 *   awaiting an answer: without error_detail it is an ACK, with it a NACK.
 *   A NACK is recorded and nothing is re-sent: the rejected versions count as
 *   the client's, so only a newer version of a resource goes out again.
 * - A response carries only resources whose version differs from the
 *   client's, and removed_resources for ones it has that the snapshot lost
 *   (or that it subscribed to and do not exist).
 */
import type { EncodedAny } from '../../xds/codec.js';
import { allowsWildcard, type ServedTypeUrl as TypeUrl } from '../../xds/type-urls.js';
import type { PublishedSnapshot } from './snapshot-cache.js';
import { StreamBase, type RequestCommon, type TypeStateBase, freshTypeState } from './stream.js';

export interface DeltaDiscoveryRequest extends RequestCommon {
  resource_names_subscribe: string[];
  resource_names_unsubscribe: string[];
  initial_resource_versions: Record<string, string>;
}

export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: { name: string; version: string; resource: EncodedAny }[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

interface DeltaTypeState extends TypeStateBase {
  /** name -> version the client has; null: told it does not exist. */
  clientVersions: Map<string, string | null>;
  /** nonce -> system version of responses not yet ACKed or NACKed. */
  awaiting: Map<string, string>;
}

/** Responses a client may leave unanswered before the oldest is forgotten. */
const MAX_AWAITING = 16;

export class DeltaStream extends StreamBase<DeltaDiscoveryRequest, DeltaDiscoveryResponse, DeltaTypeState> {
  protected newTypeState(typeUrl: TypeUrl, request: DeltaDiscoveryRequest): DeltaTypeState {
    return {
      // Legacy wildcard: the first request for listeners or clusters neither subscribes nor unsubscribes.
      ...freshTypeState(allowsWildcard(typeUrl) && request.resource_names_subscribe.length === 0 && request.resource_names_unsubscribe.length === 0),
      clientVersions: new Map(Object.entries(request.initial_resource_versions)),
      awaiting: new Map(),
    };
  }

  protected handleRequest(typeUrl: TypeUrl, state: DeltaTypeState, request: DeltaDiscoveryRequest): void {
    const nonce = request.response_nonce;
    const answered = nonce === '' ? undefined : state.awaiting.get(nonce);
    if (answered !== undefined) {
      state.awaiting.delete(nonce);
      if (request.error_detail !== null && request.error_detail !== undefined) {
        this.recordNack(typeUrl, state, answered, nonce, request.error_detail);
      } else {
        this.recordAck(typeUrl, state, answered, nonce);
      }
    } else if (nonce !== '') {
      this.log.debug({ typeUrl, nonce }, 'delta xds request answers an unknown nonce; only its subscription changes apply');
    }
    for (const name of request.resource_names_subscribe) {
      if (name === '*') {
        state.wildcard = allowsWildcard(typeUrl);
        continue;
      }
      state.subscribed.add(name);
      // The client may have dropped a resource it still subscribes to, so a subscribe is answered
      // even when we think it is current; only initial_resource_versions (a reconnect) vouch for a copy.
      if (!Object.hasOwn(request.initial_resource_versions, name)) state.clientVersions.delete(name);
    }
    for (const name of request.resource_names_unsubscribe) {
      if (name === '*') state.wildcard = false;
      state.subscribed.delete(name);
      state.clientVersions.delete(name);
    }
  }

  protected push(typeUrl: TypeUrl, state: DeltaTypeState, published: PublishedSnapshot, keepRemoved: boolean): boolean {
    const all = published.resources(typeUrl);
    const resources: DeltaDiscoveryResponse['resources'] = [];
    const removed: string[] = [];
    const candidates = new Set([...state.subscribed, ...state.clientVersions.keys(), ...(state.wildcard ? all.keys() : [])]);
    for (const name of candidates) {
      if (!state.wildcard && !state.subscribed.has(name)) continue;
      const cached = all.get(name);
      const clientVersion = state.clientVersions.get(name);
      if (cached !== undefined) {
        if (clientVersion !== cached.version) resources.push({ name, version: cached.version, resource: cached.any });
      } else if (clientVersion === undefined || (clientVersion !== null && !keepRemoved)) {
        // Gone from the snapshot (after the routes moved on, with keepRemoved), or never existed: say so once.
        removed.push(name);
      }
    }
    // A wildcard subscriber hears back once even when there is nothing, so it can finish initializing.
    const firstWildcardAnswer = state.wildcard && !state.sentOnce;
    if (resources.length === 0 && removed.length === 0 && !firstWildcardAnswer) return false;
    const nonce = this.nextNonce();
    const version = published.snapshot.version;
    const response: DeltaDiscoveryResponse = { system_version_info: version, resources, type_url: typeUrl, removed_resources: removed, nonce };
    this.write(typeUrl, state, response, version, nonce, { resources: resources.length, removed: removed.length });
    for (const { name, version: resourceVersion } of resources) state.clientVersions.set(name, resourceVersion);
    for (const name of removed) state.clientVersions.set(name, null);
    state.awaiting.set(nonce, version);
    if (state.awaiting.size > MAX_AWAITING) state.awaiting.delete(state.awaiting.keys().next().value!);
    return true;
  }
}
