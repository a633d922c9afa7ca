/**
 * One state-of-the-world ADS stream (`StreamAggregatedResources`) over
 * @grpc/grpc-js, reopened with back-off whenever it ends. Requests are encoded
 * and responses decoded with Envoy's protos (src/xds); the resources of a
 * response stay encoded (`Any`) so that one undecodable resource becomes a NACK
 * of its response rather than a broken stream.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../lib/json-log.js';
import { encodeMessage, type EncodedAny, type EnvoyJson } from '../../xds/codec.js';
import { xdsProtos } from '../../xds/protos.js';
import { Backoff } from './backoff.js';

const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const DISCOVERY_REQUEST = 'envoy.service.discovery.v3.DiscoveryRequest';
const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
/** gRPC's INVALID_ARGUMENT, the code Envoy puts in a NACK's error_detail. */
const INVALID_ARGUMENT = 3;

export interface DiscoveryRequest {
  typeUrl: string;
  versionInfo: string;
  responseNonce: string;
  resourceNames: readonly string[];
  /** Set for a NACK. */
  errorDetail?: string;
}

export interface DiscoveryResponse {
  typeUrl: string;
  versionInfo: string;
  nonce: string;
  resources: EncodedAny[];
}

type OutgoingRequest = DiscoveryRequest & { node?: EnvoyJson };

export interface AdsStreamOptions extends AdsStreamCallbacks {
  /** `host:port` of each ADS server endpoint; a reconnect moves on to the next. */
  targets: readonly string[];
  /** Envoy's Node message as JSON (id, cluster, metadata, user_agent_name...). */
  node: EnvoyJson;
  setNodeOnFirstMessageOnly: boolean;
  log: Logger;
  backoff?: Backoff;
  /** Channel credentials for each connection (the ADS cluster's TLS); undefined: not ready yet. Absent: plaintext. */
  credentials?: () => grpc.ChannelCredentials | undefined;
}

/** How often a connection waiting for the proxy's certificate looks again. */
const CREDENTIALS_RETRY_MS = 250;

export interface AdsStreamCallbacks {
  /** A new stream is open: (re)send every subscription. */
  onOpen(): void;
  onResponse(response: DiscoveryResponse): void;
  /** The stream ended; it is reopened after a back-off. */
  onClose(reason: string): void;
}

export interface AdsStream {
  /** The target of the current (or next) attempt. */
  readonly target: string;
  /** Opens the first stream (callbacks may run from here on). */
  start(): void;
  send(request: DiscoveryRequest): void;
  close(): void;
}

export function openAdsStream(options: AdsStreamOptions): AdsStream {
  return new GrpcAdsStream(options);
}

class GrpcAdsStream implements AdsStream {
  private readonly backoff: Backoff;
  private targetIndex = 0;
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<OutgoingRequest, DiscoveryResponse> | undefined;
  private sentNode = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: AdsStreamOptions) {
    this.backoff = options.backoff ?? new Backoff({ baseMs: 500, maxMs: 30_000 });
  }

  start(): void {
    this.connect();
  }

  get target(): string {
    return this.options.targets[this.targetIndex % this.options.targets.length]!;
  }

  send(request: DiscoveryRequest): void {
    if (this.call === undefined) return; // sent again by onOpen once a stream is up
    const withNode = !this.sentNode || !this.options.setNodeOnFirstMessageOnly;
    this.sentNode = true;
    this.call.write(withNode ? { ...request, node: this.options.node } : request);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.call?.cancel();
    this.client?.close();
  }

  private connect(): void {
    const target = this.target;
    const credentials = this.options.credentials === undefined ? grpc.credentials.createInsecure() : this.options.credentials();
    if (credentials === undefined) {
      // mTLS to the control plane needs the proxy's certificate first (its CSR is under way).
      this.options.log.info({ target }, 'ADS stream waits for the proxy certificate (mTLS to the control plane)');
      this.retryTimer = setTimeout(() => this.connect(), CREDENTIALS_RETRY_MS);
      return;
    }
    this.client = new grpc.Client(target, credentials, {
      // Notice a control plane that vanished without closing the connection.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    const call = this.client.makeBidiStreamRequest<OutgoingRequest, DiscoveryResponse>(ADS_METHOD, serializeRequest, deserializeResponse);
    this.call = call;
    this.sentNode = false;
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      this.call = undefined;
      this.client?.close();
      this.client = undefined;
      if (this.closed) return;
      this.targetIndex++;
      const delay = this.backoff.next();
      this.options.log.warn({ target, reason, retryInMs: delay }, 'ADS stream closed; reconnecting');
      this.options.onClose(reason);
      this.retryTimer = setTimeout(() => this.connect(), delay);
    };
    call.on('data', (response: DiscoveryResponse) => {
      this.backoff.reset();
      this.options.onResponse(response);
    });
    call.on('error', (err: grpc.ServiceError) => end(err.details || err.message));
    call.on('end', () => end('the server ended the stream'));
    this.options.log.info({ target }, 'ADS stream opening');
    this.options.onOpen();
  }
}

function serializeRequest(request: OutgoingRequest): Buffer {
  const json: EnvoyJson = {
    version_info: request.versionInfo,
    resource_names: [...request.resourceNames],
    type_url: request.typeUrl,
    response_nonce: request.responseNonce,
  };
  if (request.node !== undefined) json['node'] = request.node;
  if (request.errorDetail !== undefined) json['error_detail'] = { code: INVALID_ARGUMENT, message: request.errorDetail };
  return Buffer.from(encodeMessage(DISCOVERY_REQUEST, json));
}

/** Only the envelope is decoded here; each resource is decoded (and may be rejected) by the agent. */
function deserializeResponse(bytes: Buffer): DiscoveryResponse {
  const type = xdsProtos().root.lookupType(DISCOVERY_RESPONSE);
  const message = type.decode(bytes) as unknown as { version_info: string; type_url: string; nonce: string; resources: EncodedAny[] };
  return {
    typeUrl: message.type_url,
    versionInfo: message.version_info,
    nonce: message.nonce,
    resources: message.resources.map((any) => ({ type_url: any.type_url, value: any.value })),
  };
}
