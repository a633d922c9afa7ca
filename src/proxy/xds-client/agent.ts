/**
 * The xDS agent's logic: subscriptions, the state of the world per resource
 * type, validation, and ACK/NACK.
 *
 * A response is decoded and composed with everything else the agent holds
 * (config/xds-resources.ts); a bad one is NACKed at once and changes nothing.
 * A good one becomes the type's candidate and is pushed to the proxy as one
 * complete Bootstrap; only once the proxy has applied it is the response ACKed
 * (a failed apply is a NACK, and the candidate falls back to what is applied).
 * Responses are handled one at a time, so a push never races another response.
 *
 * Warming: a push waits until LDS and CDS have answered once and every RDS/EDS
 * name the config refers to has arrived, or until initial_fetch_timeout; a
 * response identical to what is applied is ACKed without a push (reconnects).
 * Never re-sends anything by itself: a NACKed version stays rejected until the
 * server sends another.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../lib/json-log.js';
import { ConfigError } from '../../lib/errors.js';
import { decodeAny, type EncodedAny, type EnvoyJson } from '../../xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, SECRET_TYPE_URL,
  SERVED_TYPE_SHORT_NAMES as TYPE_SHORT_NAMES, SERVED_TYPE_URLS_IN_PUSH_ORDER as TYPE_URLS_IN_PUSH_ORDER, isServedTypeUrl as isTypeUrl,
  type ServedTypeUrl as TypeUrl,
} from '../../xds/type-urls.js';
import type { Bootstrap, DynamicResourcesConfig } from '../config/types.js';
import { composeBootstrap, referencedNames, type XdsResourceSet } from '../config/xds-resources.js';
import type { AdsStream, AdsStreamCallbacks, DiscoveryResponse } from './ads-stream.js';
import type { DynamicResourceState, DynamicResourcesDump, XdsNack, XdsStatus } from './protocol.js';

type Kind = keyof XdsResourceSet;

const KIND_OF: Record<TypeUrl, Kind> = {
  [LISTENER_TYPE_URL]: 'listeners',
  [CLUSTER_TYPE_URL]: 'clusters',
  [ROUTE_CONFIGURATION_TYPE_URL]: 'routeConfigs',
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: 'loadAssignments',
  [SECRET_TYPE_URL]: 'secrets',
};

/** LDS and CDS are subscribed by wildcard (a response is the whole set); RDS, EDS and SDS by name. */
function isWildcard(typeUrl: TypeUrl): boolean {
  return typeUrl === LISTENER_TYPE_URL || typeUrl === CLUSTER_TYPE_URL;
}

type Resources = ReadonlyMap<string, DynamicResourceState>;

interface TypeState {
  readonly typeUrl: TypeUrl;
  /** undefined: wildcard (LDS, CDS); otherwise the names asked for. */
  names: string[] | undefined;
  subscribed: boolean;
  /** Answered at least once (warming). */
  received: boolean;
  ackedVersion: string;
  lastNonce: string;
  /** What the proxy runs. */
  accepted: Resources;
  /** Validated; equals `accepted` unless `pending` is set. */
  candidate: Resources;
  /** The response whose ACK waits for the proxy. */
  pending?: { versionInfo: string; nonce: string };
}

export interface XdsAgentOptions {
  /** The static bootstrap, with dynamicResources set. */
  base: Bootstrap;
  log: Logger;
  /** Opens the ADS stream (ads-stream.ts) with the agent's callbacks. */
  openStream(callbacks: AdsStreamCallbacks): AdsStream;
  /** Applies a complete config in the proxy; resolves with undefined when applied, the error otherwise. */
  apply(bootstrap: Bootstrap, dump: DynamicResourcesDump): Promise<string | undefined>;
  status(status: XdsStatus): void;
  now?: () => number;
}

export class XdsAgent {
  private readonly dynamic: DynamicResourcesConfig;
  private readonly types = new Map<TypeUrl, TypeState>();
  private readonly stream: AdsStream;
  private queue: Promise<void> = Promise.resolve();
  private warmTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private lastNack: XdsNack | undefined;
  private closed = false;

  constructor(private readonly options: XdsAgentOptions) {
    if (options.base.dynamicResources === undefined) throw new Error('XdsAgent needs a bootstrap with dynamic_resources');
    this.dynamic = options.base.dynamicResources;
    for (const typeUrl of TYPE_URLS_IN_PUSH_ORDER) {
      const wildcard = typeUrl === LISTENER_TYPE_URL || typeUrl === CLUSTER_TYPE_URL;
      const subscribed = (typeUrl === LISTENER_TYPE_URL && this.dynamic.lds) || (typeUrl === CLUSTER_TYPE_URL && this.dynamic.cds);
      const empty = new Map<string, DynamicResourceState>();
      this.types.set(typeUrl, {
        typeUrl, names: wildcard ? undefined : [], subscribed, received: false, ackedVersion: '', lastNonce: '', accepted: empty, candidate: empty,
      });
    }
    // Static listeners and clusters may already use RDS/EDS.
    this.updateSubscriptions(options.base, false);
    this.stream = options.openStream({
      onOpen: () => this.resubscribeAll(),
      onResponse: (response) => this.enqueue(() => this.handleResponse(response)),
      onClose: () => this.setConnected(false),
    });
    this.stream.start();
    this.armWarmingTimer();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.warmTimer);
    this.stream.close();
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => this.options.log.error({ err }, 'xDS agent task failed'));
  }

  /** A fresh stream knows nothing: every subscription again, with the versions already applied. */
  private resubscribeAll(): void {
    for (const state of this.types.values()) {
      state.lastNonce = '';
      if (state.subscribed) this.sendRequest(state);
    }
  }

  private sendRequest(state: TypeState, errorDetail?: string, nonce = state.lastNonce): void {
    this.stream.send({
      typeUrl: state.typeUrl,
      versionInfo: state.ackedVersion,
      responseNonce: nonce,
      resourceNames: state.names ?? [],
      ...(errorDetail === undefined ? {} : { errorDetail }),
    });
  }

  private async handleResponse(response: DiscoveryResponse): Promise<void> {
    if (this.closed) return;
    this.setConnected(true);
    if (!isTypeUrl(response.typeUrl)) {
      this.options.log.warn({ typeUrl: response.typeUrl }, 'ignoring a response of a type the agent did not ask for');
      return;
    }
    const state = this.types.get(response.typeUrl)!;
    state.lastNonce = response.nonce;
    let resources: Map<string, DynamicResourceState>;
    let composed: Bootstrap;
    try {
      resources = this.decodeResources(response, state.candidate);
      composed = composeBootstrap(this.options.base, this.resourceSet(state.typeUrl, resources));
    } catch (err) {
      this.nack(state, response.versionInfo, response.nonce, err);
      return;
    }
    state.received = true;
    if (state.pending === undefined && sameResources(resources, state.accepted)) {
      // Nothing changed for the proxy (typically a resend after a reconnect).
      state.ackedVersion = response.versionInfo;
      this.sendRequest(state);
      this.publishStatus();
    } else {
      state.candidate = resources;
      state.pending = { versionInfo: response.versionInfo, nonce: response.nonce };
      this.updateSubscriptions(composed, true);
    }
    await this.pushIfWarm(false);
  }

  /**
   * Decodes each Any; an unchanged resource keeps the version and time it arrived with.
   * A state-of-the-world LDS/CDS response is the whole set (absent = deleted); an RDS/EDS
   * response may carry only what changed, so the others are kept.
   */
  private decodeResources(response: DiscoveryResponse, previous: Resources): Map<string, DynamicResourceState> {
    const kind = KIND_OF[response.typeUrl as TypeUrl];
    const type = TYPE_SHORT_NAMES[response.typeUrl as TypeUrl];
    const out = isWildcard(response.typeUrl as TypeUrl) ? new Map<string, DynamicResourceState>() : new Map(previous);
    const seen = new Set<string>();
    response.resources.forEach((any: EncodedAny, i) => {
      const where = `${type} resources[${i}]`;
      if (any.type_url !== response.typeUrl) throw new ConfigError(where, `has type ${any.type_url} in a ${response.typeUrl} response`);
      let resource: EnvoyJson;
      try {
        resource = decodeAny(any);
      } catch (err) {
        throw err instanceof ConfigError ? new ConfigError(`${where}.${err.path}`, err.reason) : err;
      }
      const name = resource[kind === 'loadAssignments' ? 'cluster_name' : 'name'];
      if (typeof name !== 'string' || name === '') throw new ConfigError(where, 'has no name');
      if (seen.has(name)) throw new ConfigError(where, `duplicate resource name ${JSON.stringify(name)}`);
      seen.add(name);
      const before = previous.get(name);
      out.set(name, before !== undefined && isDeepStrictEqual(before.resource, resource)
        ? before
        : { name, versionInfo: response.versionInfo, resource, lastUpdated: new Date(this.now()).toISOString() });
    });
    return out;
  }

  /** The candidates of every type, with `typeUrl` replaced by `resources`, as plain documents. */
  private resourceSet(typeUrl: TypeUrl | undefined, resources?: Resources): XdsResourceSet {
    const set = { listeners: new Map(), clusters: new Map(), routeConfigs: new Map(), loadAssignments: new Map(), secrets: new Map() } satisfies Record<Kind, Map<string, unknown>>;
    for (const state of this.types.values()) {
      const source = state.typeUrl === typeUrl && resources !== undefined ? resources : state.candidate;
      const target = set[KIND_OF[state.typeUrl]];
      for (const [name, { resource }] of source) {
        const { '@type': _typeUrl, ...doc } = resource as EnvoyJson;
        target.set(name, doc);
      }
    }
    return set;
  }

  /** RDS and EDS follow the names the config refers to; a change is a new request for that type. */
  private updateSubscriptions(composed: Bootstrap, send: boolean): void {
    const wanted = referencedNames(composed);
    const named = [[ROUTE_CONFIGURATION_TYPE_URL, wanted.routeConfigs], [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, wanted.loadAssignments], [SECRET_TYPE_URL, wanted.secrets]] as const;
    for (const [typeUrl, names] of named) {
      const state = this.types.get(typeUrl)!;
      if (isDeepStrictEqual(state.names, names)) continue;
      // An empty list unsubscribes a type that was subscribed; it never subscribes one.
      const wasSubscribed = state.subscribed;
      state.names = names;
      state.subscribed = names.length > 0;
      if (send && (state.subscribed || wasSubscribed)) this.sendRequest(state);
    }
  }

  /** Ready to push: every subscribed type answered and every referenced RDS/EDS/SDS name arrived (listeners and clusters waiting for a secret are warming). */
  private isWarm(): boolean {
    for (const state of this.types.values()) {
      if (!state.subscribed) continue;
      if (!state.received) return false;
      if (state.names !== undefined && state.names.some((name) => !state.candidate.has(name))) return false;
    }
    return true;
  }

  private armWarmingTimer(): void {
    if (this.warmTimer !== undefined) return;
    this.warmTimer = setTimeout(() => {
      this.warmTimer = undefined;
      this.enqueue(() => this.pushIfWarm(true));
    }, this.dynamic.initialFetchTimeoutMs);
    this.warmTimer.unref();
  }

  private async pushIfWarm(timedOut: boolean): Promise<void> {
    const pending = [...this.types.values()].filter((state) => state.pending !== undefined);
    if (pending.length === 0 || this.closed) return;
    if (!timedOut && !this.isWarm()) {
      this.armWarmingTimer();
      return;
    }
    clearTimeout(this.warmTimer);
    this.warmTimer = undefined;
    const bootstrap = composeBootstrap(this.options.base, this.resourceSet(undefined));
    const error = await this.options.apply(bootstrap, this.dump());
    for (const state of pending) {
      const { versionInfo, nonce } = state.pending!;
      state.pending = undefined;
      if (error === undefined) {
        state.accepted = state.candidate;
        state.ackedVersion = versionInfo;
        this.sendRequest(state, undefined, nonce);
      } else {
        state.candidate = state.accepted;
        this.nack(state, versionInfo, nonce, new Error(`the proxy could not apply the config: ${error}`));
      }
    }
    if (error !== undefined) this.updateSubscriptions(composeBootstrap(this.options.base, this.resourceSet(undefined)), true);
    this.publishStatus();
  }

  private nack(state: TypeState, versionInfo: string, nonce: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.lastNack = { typeUrl: state.typeUrl, versionInfo, error: message, at: new Date(this.now()).toISOString() };
    this.options.log.error({ type: TYPE_SHORT_NAMES[state.typeUrl], version: versionInfo, err: message }, 'xDS response rejected (NACK); the previous config keeps serving');
    this.sendRequest(state, message, nonce);
    this.publishStatus();
  }

  private setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.publishStatus();
  }

  private publishStatus(): void {
    const versions: Record<string, string> = {};
    for (const state of this.types.values()) if (state.ackedVersion !== '') versions[state.typeUrl] = state.ackedVersion;
    const status: XdsStatus = { server: this.stream.target, connected: this.connected, versions };
    if (this.lastNack !== undefined) status.lastNack = this.lastNack;
    this.options.status(status);
  }

  private dump(): DynamicResourcesDump {
    const of = (typeUrl: TypeUrl): DynamicResourceState[] => [...this.types.get(typeUrl)!.candidate.values()];
    return {
      listeners: of(LISTENER_TYPE_URL),
      clusters: of(CLUSTER_TYPE_URL),
      routeConfigs: of(ROUTE_CONFIGURATION_TYPE_URL),
      loadAssignments: of(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL),
      secrets: of(SECRET_TYPE_URL),
    };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function sameResources(a: Resources, b: Resources): boolean {
  if (a.size !== b.size) return false;
  for (const [name, state] of a) if (b.get(name) !== state) return false;
  return true;
}
