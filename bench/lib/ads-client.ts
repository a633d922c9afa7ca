/**
 * One simulated sidecar on a state-of-the-world ADS stream, behaving as Envoy
 * does: CDS and LDS by wildcard; EDS for every EDS cluster it received and RDS
 * for every route configuration its listeners name (updated whenever CDS or LDS
 * change); every response ACKed with its version and nonce. It keeps the last
 * response of each type (to compare a watched resource before and after a
 * change) and nothing else: it never decodes what it does not need.
 */
import type * as grpc from '@grpc/grpc-js';
import { decodeAny, type EncodedAny, type EnvoyJson } from '../../src/xds/codec.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, TYPE_URLS_IN_PUSH_ORDER,
  isTypeUrl, type TypeUrl,
} from '../../src/xds/type-urls.js';
import type { ReceivedTotals } from './ads-fleet-protocol.js';
import { fieldString, topLevelFields } from './protobuf-fields.js';

export interface DiscoveryResponse {
  version_info: string;
  resources: EncodedAny[];
  type_url: string;
  nonce: string;
}

export interface DiscoveryRequest {
  node?: { id: string; cluster: string; metadata: { fields: Record<string, { string_value: string }> } };
  version_info: string;
  resource_names: string[];
  type_url: string;
  response_nonce: string;
}

export interface AdsClientNode {
  id: string;
  /** Node metadata; string values only (WORKLOAD, NAMESPACE). */
  metadata: Record<string, string>;
}

export interface AdsClientEvents {
  /** The client has ACKed a response of each of the four types. */
  onFullConfig(): void;
  /** Sent after the ACK went out. */
  onAck(typeUrl: TypeUrl, version: string, resources: readonly EncodedAny[]): void;
  onFailure(error: Error): void;
}

interface TypeState {
  /** Last version ACKed ('' before the first response). */
  version: string;
  nonce: string;
  /** Named subscription (EDS, RDS); undefined for wildcard types. */
  names: string[] | undefined;
  resources: readonly EncodedAny[];
}

/** Cluster fields (envoy/config/cluster/v3/cluster.proto): name, type, eds_cluster_config.service_name. */
const CLUSTER_NAME = 1;
const CLUSTER_TYPE = 2;
const CLUSTER_EDS_CONFIG = 3;
const EDS_SERVICE_NAME = 2;
const DISCOVERY_TYPE_EDS = 3;
const CLUSTER_FIELDS = new Set([CLUSTER_NAME, CLUSTER_TYPE, CLUSTER_EDS_CONFIG]);
const EDS_CONFIG_FIELDS = new Set([EDS_SERVICE_NAME]);
/** Field 1 is the name of Listener, RouteConfiguration and Cluster, and ClusterLoadAssignment's cluster_name. */
const NAME_FIELDS = new Set([1]);

export type BidiCall = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

export class AdsClient {
  private readonly types = new Map<TypeUrl, TypeState>();
  private sentNode = false;
  private fullConfig = false;
  readonly received: ReceivedTotals = { responses: 0, resources: 0, bytes: 0 };

  constructor(
    private readonly call: BidiCall,
    private readonly node: AdsClientNode,
    private readonly events: AdsClientEvents,
  ) {
    for (const typeUrl of TYPE_URLS_IN_PUSH_ORDER) {
      const wildcard = typeUrl === CLUSTER_TYPE_URL || typeUrl === LISTENER_TYPE_URL;
      this.types.set(typeUrl, { version: '', nonce: '', names: wildcard ? undefined : [], resources: [] });
    }
    call.on('data', (response: DiscoveryResponse) => {
      try {
        this.onResponse(response);
      } catch (error) {
        this.fail(error as Error);
      }
    });
    call.on('error', (error: Error) => this.fail(error));
    call.on('end', () => this.fail(new Error('the server ended the ADS stream')));
    this.request(CLUSTER_TYPE_URL);
    this.request(LISTENER_TYPE_URL);
  }

  /** The resources of the last response of a type. */
  lastResources(typeUrl: TypeUrl): readonly EncodedAny[] {
    return this.types.get(typeUrl)!.resources;
  }

  /** Whether the named subscription for a type includes `name` (wildcard types: whether it was received). */
  isSubscribed(typeUrl: TypeUrl, name: string): boolean {
    const state = this.types.get(typeUrl)!;
    return state.names === undefined ? findResource(state.resources, name) !== undefined : state.names.includes(name);
  }

  close(): void {
    this.call.removeAllListeners('end');
    this.call.removeAllListeners('error');
    this.call.on('error', () => {}); // the cancellation itself surfaces as an error
    this.call.cancel();
  }

  private onResponse(response: DiscoveryResponse): void {
    const typeUrl = response.type_url;
    if (!isTypeUrl(typeUrl)) throw new Error(`response for a type never requested: ${typeUrl}`);
    this.received.responses++;
    this.received.resources += response.resources.length;
    for (const any of response.resources) this.received.bytes += any.value.length;

    // Subscribe to what the new clusters/listeners need before ACKing them, as Envoy does while warming.
    if (typeUrl === CLUSTER_TYPE_URL) this.resubscribe(CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, edsNames(response.resources));
    if (typeUrl === LISTENER_TYPE_URL) this.resubscribe(ROUTE_CONFIGURATION_TYPE_URL, routeConfigNames(response.resources));

    const state = this.types.get(typeUrl)!;
    state.version = response.version_info;
    state.nonce = response.nonce;
    state.resources = response.resources;
    this.request(typeUrl);
    this.events.onAck(typeUrl, state.version, state.resources);
    if (!this.fullConfig && [...this.types.values()].every((each) => each.nonce !== '')) {
      this.fullConfig = true;
      this.events.onFullConfig();
    }
  }

  private resubscribe(typeUrl: TypeUrl, names: string[]): void {
    const state = this.types.get(typeUrl)!;
    names.sort();
    if (state.names !== undefined && sameList(state.names, names)) return;
    state.names = names;
    this.request(typeUrl);
  }

  /** A request carrying the type's current subscription, ACKing its last response (if any). */
  private request(typeUrl: TypeUrl): void {
    const state = this.types.get(typeUrl)!;
    const request: DiscoveryRequest = {
      version_info: state.version,
      resource_names: state.names ?? [],
      type_url: typeUrl,
      response_nonce: state.nonce,
    };
    // Envoy sends its node on the first request of a stream only.
    if (!this.sentNode) {
      const fields = Object.fromEntries(Object.entries(this.node.metadata).map(([key, value]) => [key, { string_value: value }]));
      request.node = { id: this.node.id, cluster: 'bench', metadata: { fields } };
      this.sentNode = true;
    }
    this.call.write(request);
  }

  private fail(error: Error): void {
    this.call.removeAllListeners('data');
    this.events.onFailure(error);
  }
}

/** The resource named `name` among a response's resources (name read from field 1). */
export function findResource(resources: readonly EncodedAny[], name: string): EncodedAny | undefined {
  return resources.find((any) => fieldString(topLevelFields(any.value, NAME_FIELDS).get(1)) === name);
}

/** The EDS resource names of the EDS clusters: eds_cluster_config.service_name, else the cluster's name. */
function edsNames(clusters: readonly EncodedAny[]): string[] {
  const names: string[] = [];
  for (const any of clusters) {
    const fields = topLevelFields(any.value, CLUSTER_FIELDS);
    if (fields.get(CLUSTER_TYPE) !== DISCOVERY_TYPE_EDS) continue;
    const edsConfig = fields.get(CLUSTER_EDS_CONFIG);
    const serviceName = edsConfig instanceof Uint8Array ? fieldString(topLevelFields(edsConfig, EDS_CONFIG_FIELDS).get(EDS_SERVICE_NAME)) : undefined;
    const name = serviceName || fieldString(fields.get(CLUSTER_NAME));
    if (name) names.push(name);
  }
  return names;
}

/** Every `rds.route_config_name` in the listeners (filter chains and API listeners alike). Listeners are few: decode them. */
function routeConfigNames(listeners: readonly EncodedAny[]): string[] {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value !== null && typeof value === 'object') {
      const object = value as EnvoyJson;
      const rds = object['rds'] as EnvoyJson | undefined;
      if (typeof rds?.['route_config_name'] === 'string') names.add(rds['route_config_name']);
      for (const item of Object.values(object)) walk(item);
    }
  };
  for (const any of listeners) walk(decodeAny(any));
  return [...names];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
