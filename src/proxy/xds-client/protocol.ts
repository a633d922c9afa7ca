/**
 * The messages between the proxy and its xDS agent process (IPC with V8
 * serialization, so Buffers inside a Bootstrap stay Buffers). Types only: the
 * proxy imports this without loading gRPC or the schema validator.
 */
import type { Bootstrap } from '../config/types.js';

/** One dynamic resource as /config_dump shows it. */
export interface DynamicResourceState {
  name: string;
  /** The version_info of the response that last changed it. */
  versionInfo: string;
  /** The resource as decoded (proto3 JSON with `@type`). */
  resource: unknown;
  lastUpdated: string;
}

export interface DynamicResourcesDump {
  listeners: DynamicResourceState[];
  clusters: DynamicResourceState[];
  routeConfigs: DynamicResourceState[];
  loadAssignments: DynamicResourceState[];
  /** SDS secrets (certificate chains and trust bundles; a private key never comes from the control plane). */
  secrets: DynamicResourceState[];
}

export interface XdsNack {
  typeUrl: string;
  /** The rejected version_info. */
  versionInfo: string;
  error: string;
  at: string;
}

export interface XdsStatus {
  /** `host:port` of the ADS server in use. */
  server: string;
  connected: boolean;
  /** Last ACKed version_info per type URL. */
  versions: Record<string, string>;
  lastNack?: XdsNack;
}

export type AgentMessage =
  /** A complete config (static + dynamic) to apply; answer with `applied` or `failed` and the same id. */
  | { type: 'weft:xds:config'; id: number; bootstrap: Bootstrap; dump: DynamicResourcesDump }
  | { type: 'weft:xds:status'; status: XdsStatus }
  /** The answer to `weft:ca:sign`: the chain, or why the CA refused. */
  | { type: 'weft:ca:signed'; id: number; certificateChainPem?: string; error?: string };

export type ProxyReply =
  | { type: 'weft:xds:applied'; id: number }
  | { type: 'weft:xds:failed'; id: number; error: string }
  /** The proxy's CSR (never its key) for the control plane's CA, which the agent reaches over the ADS cluster. */
  | { type: 'weft:ca:sign'; id: number; csrPem: string }
  /**
   * The proxy's current certificate and key, for an ADS cluster whose TLS presents them (the control
   * plane's mTLS port): the agent is part of the proxy, and nothing else gets the key.
   */
  | { type: 'weft:identity'; certificateChainPem: string; privateKeyPem: string };
