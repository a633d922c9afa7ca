/**
 * What the server reports about connected proxies (for `weft proxies`, the
 * REST API and the UI) and the events it emits as streams come and go.
 */
import type { EnvoyJson } from '../../xds/codec.js';
import type { ServedTypeUrl as TypeUrl } from '../../xds/type-urls.js';

export type XdsProtocol = 'sotw' | 'delta';

export interface NackError {
  /** The version the proxy rejected (it keeps running `ackedVersion`). */
  rejectedVersion: string;
  /** google.rpc.Status code and message from the proxy's error_detail. */
  code: number;
  message: string;
  at: string;
}

export interface TypeStatus {
  /** Last version sent ('' before the first response). Delta streams report the snapshot version. */
  sentVersion: string;
  /** Last version the proxy acknowledged ('' before the first ACK). */
  ackedVersion: string;
  /** The latest rejection; cleared by a later ACK. */
  nackError?: NackError;
  lastNonce: string;
  /** Names subscribed to; ['*'] for a wildcard subscription. */
  subscribed: string[];
}

export interface ProxyStatus {
  streamId: number;
  nodeId: string;
  nodeCluster: string;
  nodeMetadata: EnvoyJson;
  protocol: XdsProtocol;
  peer: string;
  connectedAt: string;
  types: Partial<Record<TypeUrl, TypeStatus>>;
}

interface StreamIdentity {
  streamId: number;
  nodeId: string;
}

export type ProxyStreamEvent =
  | (StreamIdentity & { kind: 'connected'; protocol: XdsProtocol; nodeMetadata: EnvoyJson })
  | (StreamIdentity & { kind: 'disconnected' })
  | (StreamIdentity & { kind: 'sent'; typeUrl: TypeUrl; version: string; nonce: string; resources: number; removed: number })
  | (StreamIdentity & { kind: 'ack'; typeUrl: TypeUrl; version: string; nonce: string })
  | (StreamIdentity & { kind: 'nack'; typeUrl: TypeUrl; version: string; nonce: string; error: NackError });
