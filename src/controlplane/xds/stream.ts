/**
 * What the state-of-the-world and the delta ADS streams share: learning the
 * node from the first request, per-type subscription and ACK/NACK
 * bookkeeping, nonces, status, events, and the push order. A type is pushed
 * only once the type it depends on has been sent on this stream (CDS before
 * EDS, LDS before RDS), and a snapshot change is pushed type by type in
 * CDS, EDS, LDS, RDS order, so a client never holds a reference to a
 * resource it has not been offered; clusters and endpoints the change
 * removes go last, once listeners and routes no longer name them.
 */
import type * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { structToJson, type EnvoyJson } from '../../xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  SERVED_TYPE_SHORT_NAMES as TYPE_SHORT_NAMES,
  SERVED_TYPE_URLS_IN_PUSH_ORDER as TYPE_URLS_IN_PUSH_ORDER,
  isServedTypeUrl as isTypeUrl,
  type ServedTypeUrl as TypeUrl,
} from '../../xds/type-urls.js';
import type { NackError, ProxyStatus, ProxyStreamEvent, TypeStatus, XdsProtocol } from './proxy-status.js';
import type { PublishedSnapshot, SnapshotCache } from './snapshot-cache.js';

/** The request fields both protocols share, as @grpc/proto-loader decodes them (defaults filled in). */
export interface RequestCommon {
  node: { id: string; cluster: string; metadata: unknown } | null;
  type_url: string;
  response_nonce: string;
  error_detail: { code: number; message: string } | null;
}

/** What a stream needs from the server that owns it. */
export interface StreamContext {
  cache: SnapshotCache;
  log: Logger;
  emit(event: ProxyStreamEvent): void;
  /** The stream learned its node: start pushing it that node's snapshots. */
  attach(stream: XdsStream): void;
  /** The stream ended (whether or not it named a node). */
  detach(stream: XdsStream): void;
  /**
   * May this caller get this node's config? Undefined: yes; else why not (the stream ends with
   * PERMISSION_DENIED). Asked once, when the first request names the node.
   */
  authorize?(call: Pick<grpc.ServerDuplexStream<unknown, unknown>, 'getAuthContext' | 'getPeer'>, nodeId: string, metadata: EnvoyJson): string | undefined;
}

export interface XdsStream {
  readonly streamId: number;
  /** Undefined until the first request named the node. */
  readonly nodeId: string | undefined;
  /** The node's snapshot changed: push what changed, in dependency order. */
  pushAll(): void;
  status(): ProxyStatus | undefined;
  /** Ends the stream (server shutdown). */
  close(): void;
}

export interface TypeStateBase {
  wildcard: boolean;
  subscribed: Set<string>;
  sentOnce: boolean;
  sentVersion: string;
  ackedVersion: string;
  nackError: NackError | undefined;
  lastNonce: string;
}

/** A type's state before anything was sent: what both stream variants start from. */
export function freshTypeState(wildcard: boolean): TypeStateBase {
  return { wildcard, subscribed: new Set(), sentOnce: false, sentVersion: '', ackedVersion: '', nackError: undefined, lastNonce: '' };
}

/** The type each type waits for on a stream. */
const DEPENDS_ON: Partial<Record<TypeUrl, TypeUrl>> = {
  [CLUSTER_LOAD_ASSIGNMENT_TYPE_URL]: CLUSTER_TYPE_URL,
  [ROUTE_CONFIGURATION_TYPE_URL]: LISTENER_TYPE_URL,
};

const DEPENDENTS: Partial<Record<TypeUrl, TypeUrl>> = {
  [CLUSTER_TYPE_URL]: CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  [LISTENER_TYPE_URL]: ROUTE_CONFIGURATION_TYPE_URL,
};

/** Types whose removals wait for the rest of a change: a route or listener the client still runs may name them. */
const REMOVED_LAST: readonly TypeUrl[] = [CLUSTER_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL];

export abstract class StreamBase<Request extends RequestCommon, Response, TypeState extends TypeStateBase> implements XdsStream {
  nodeId: string | undefined;
  protected readonly types = new Map<TypeUrl, TypeState>();
  private node: { cluster: string; metadata: EnvoyJson } | undefined;
  private nonceCounter = 0;
  private closed = false;
  /** The call's write buffer is full: pushes wait for 'drain', then send whatever is current then. */
  private blocked = false;
  private readonly connectedAt = new Date().toISOString();
  protected readonly log: Logger;

  constructor(
    protected readonly call: grpc.ServerDuplexStream<Request, Response>,
    protected readonly context: StreamContext,
    readonly protocol: XdsProtocol,
    readonly streamId: number,
  ) {
    this.log = context.log.child({ streamId, protocol });
    call.on('data', (request: Request) => this.onRequest(request));
    call.on('end', () => this.close());
    call.on('error', (error: Error) => {
      this.log.debug({ err: error }, 'xds stream error');
      this.finish();
    });
    call.on('cancelled', () => this.finish());
    call.on('close', () => this.finish());
    call.on('drain', () => {
      this.blocked = false;
      this.pushAll();
    });
  }

  /** The first request on a type creates its state. */
  protected abstract newTypeState(typeUrl: TypeUrl, request: Request): TypeState;
  /** Applies a request (already known to name this stream's node and a served type); then the base pushes the type. */
  protected abstract handleRequest(typeUrl: TypeUrl, state: TypeState, request: Request): void;
  /**
   * Sends what changed for the type, if anything; returns whether a response went out. With
   * `keepRemoved`, resources the client holds that the snapshot dropped stay with the client for now.
   */
  protected abstract push(typeUrl: TypeUrl, state: TypeState, published: PublishedSnapshot, keepRemoved: boolean): boolean;

  pushAll(): void {
    // Make before break (xDS protocol, "Eventual consistency considerations"): first everything new,
    // keeping the clusters and endpoints the change drops, then, with routes repointed, the removals.
    for (const typeUrl of TYPE_URLS_IN_PUSH_ORDER) this.pushType(typeUrl, true);
    for (const typeUrl of REMOVED_LAST) this.pushType(typeUrl, false);
  }

  close(): void {
    if (this.closed) return;
    this.call.end();
    this.finish();
  }

  status(): ProxyStatus | undefined {
    if (this.nodeId === undefined || this.node === undefined) return undefined;
    const types: Partial<Record<TypeUrl, TypeStatus>> = {};
    for (const [typeUrl, state] of this.types) {
      types[typeUrl] = {
        sentVersion: state.sentVersion,
        ackedVersion: state.ackedVersion,
        ...(state.nackError === undefined ? {} : { nackError: state.nackError }),
        lastNonce: state.lastNonce,
        subscribed: state.wildcard ? ['*', ...state.subscribed] : [...state.subscribed],
      };
    }
    return {
      streamId: this.streamId,
      nodeId: this.nodeId,
      nodeCluster: this.node.cluster,
      nodeMetadata: this.node.metadata,
      protocol: this.protocol,
      peer: this.call.getPeer(),
      connectedAt: this.connectedAt,
      types,
    };
  }

  /** Unique across the server's streams, so a nonce in a log or event names one response. */
  protected nextNonce(): string {
    return `${this.streamId}.${++this.nonceCounter}`;
  }

  /** Writes a response and records it; `version` is what status and ACKs compare against. */
  protected write(typeUrl: TypeUrl, state: TypeState, response: Response, version: string, nonce: string, counts: { resources: number; removed: number }): void {
    // Backpressure: a client that does not read stops getting pushes until it catches up; it then
    // gets the latest state in one response per type (responses are computed from state, not queued).
    if (!this.call.write(response)) this.blocked = true;
    state.sentOnce = true;
    state.sentVersion = version;
    state.lastNonce = nonce;
    this.log.debug({ type: TYPE_SHORT_NAMES[typeUrl], version, nonce, ...counts }, 'xds response sent');
    this.context.emit({ kind: 'sent', streamId: this.streamId, nodeId: this.nodeId!, typeUrl, version, nonce, ...counts });
  }

  protected recordAck(typeUrl: TypeUrl, state: TypeState, version: string, nonce: string): void {
    state.ackedVersion = version;
    state.nackError = undefined;
    this.context.emit({ kind: 'ack', streamId: this.streamId, nodeId: this.nodeId!, typeUrl, version, nonce });
  }

  protected recordNack(typeUrl: TypeUrl, state: TypeState, rejectedVersion: string, nonce: string, detail: { code: number; message: string }): void {
    const error: NackError = { rejectedVersion, code: detail.code, message: detail.message, at: new Date().toISOString() };
    state.nackError = error;
    // The type stays on hold: nothing is re-sent until the node's snapshot for it changes.
    this.log.warn({ nodeId: this.nodeId, type: TYPE_SHORT_NAMES[typeUrl], rejectedVersion, error: detail.message }, 'proxy rejected xds config (NACK)');
    this.context.emit({ kind: 'nack', streamId: this.streamId, nodeId: this.nodeId!, typeUrl, version: rejectedVersion, nonce, error });
  }

  private onRequest(request: Request): void {
    if (this.closed) return;
    try {
      if (!this.identify(request)) return;
      const typeUrl = request.type_url;
      if (!isTypeUrl(typeUrl)) {
        this.log.warn({ typeUrl }, 'xds request for a type this server does not serve; ignored');
        return;
      }
      let state = this.types.get(typeUrl);
      if (state === undefined) {
        state = this.newTypeState(typeUrl, request);
        this.types.set(typeUrl, state);
      }
      this.handleRequest(typeUrl, state, request);
      this.pushType(typeUrl, false);
    } catch (error) {
      // Never throw out of a stream callback: end this stream with the error instead.
      this.log.error({ err: error }, 'xds request handling failed');
      this.fail(GrpcStatus.INTERNAL, `xds request handling failed: ${(error as Error).message}`);
    }
  }

  /** The first request must name the node; later ones may omit it but may not change it. */
  private identify(request: Request): boolean {
    const id = request.node?.id ?? '';
    if (this.nodeId !== undefined) {
      if (id === '' || id === this.nodeId) return true;
      this.fail(GrpcStatus.INVALID_ARGUMENT, `node.id changed on the stream from ${this.nodeId} to ${id}`);
      return false;
    }
    if (id === '') {
      this.fail(GrpcStatus.INVALID_ARGUMENT, 'the first request on an ADS stream must carry node.id');
      return false;
    }
    const metadata = structToJson(request.node?.metadata);
    const denied = this.context.authorize?.(this.call, id, metadata);
    if (denied !== undefined) {
      this.log.warn({ nodeId: id, peer: this.call.getPeer(), reason: denied }, 'xds stream refused');
      this.fail(GrpcStatus.PERMISSION_DENIED, denied);
      return false;
    }
    this.nodeId = id;
    this.node = { cluster: request.node?.cluster ?? '', metadata };
    this.log.info({ nodeId: id, peer: this.call.getPeer() }, 'proxy connected');
    this.context.attach(this);
    this.context.emit({ kind: 'connected', streamId: this.streamId, nodeId: id, protocol: this.protocol, nodeMetadata: this.node.metadata });
    return true;
  }

  private pushType(typeUrl: TypeUrl, makeBeforeBreak: boolean): void {
    if (this.closed || this.blocked || this.nodeId === undefined) return;
    const state = this.types.get(typeUrl);
    const published = this.context.cache.published(this.nodeId);
    if (state === undefined || published === undefined) return;
    const dependency = DEPENDS_ON[typeUrl];
    if (dependency !== undefined && this.types.get(dependency)?.sentOnce !== true) return;
    if (!this.push(typeUrl, state, published, makeBeforeBreak && REMOVED_LAST.includes(typeUrl))) return;
    const dependent = DEPENDENTS[typeUrl];
    if (dependent !== undefined) this.pushType(dependent, makeBeforeBreak);
  }

  private fail(code: GrpcStatus, details: string): void {
    if (this.closed) return;
    this.call.emit('error', { code, details });
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.context.detach(this);
    if (this.nodeId !== undefined) {
      this.log.info({ nodeId: this.nodeId }, 'proxy disconnected');
      this.context.emit({ kind: 'disconnected', streamId: this.streamId, nodeId: this.nodeId });
    }
  }
}
