/**
 * The bootstrap `weft proxy --workload NAME --control-plane HOST:PORT` (or
 * `--gateway NAME`) runs with: an admin listener, the ADS cluster, and
 * everything else over ADS. The node names the workload or gateway the way the
 * control plane looks it up (Istio's `sidecar~` / `gateway~` node ids).
 */
import { isIP } from 'node:net';
import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT } from '../../controlplane/ca/identity.js';

export interface SidecarOptions {
  /** The Workload this sidecar fronts, or the Gateway this edge proxy serves. */
  workload: string;
  /** Default sidecar. */
  kind?: 'sidecar' | 'gateway';
  namespace: string;
  controlPlane: { host: string; port: number };
  adminPort: number;
  /**
   * The ports the control plane should give this sidecar's outbound and inbound
   * capture listeners (node metadata OUTBOUND_PORT / INBOUND_PORT); its defaults
   * are 15001 / 15006. Sidecars sharing one host need their own.
   */
  capturePorts?: { outbound: number; inbound: number };
  /**
   * The mesh's trust bundle (PEM file): the control plane is reached over mTLS (its 15012 port),
   * verified by this CA and its SPIFFE ID, with the proxy's own certificate as the client's.
   */
  controlPlaneCaFile?: string;
}

/** Any trust domain: the CA file pins the mesh; the path names the control plane. */
const CONTROL_PLANE_SPIFFE_ID = `^spiffe://[^/]+/ns/${CONTROL_PLANE_NAMESPACE}/sa/${CONTROL_PLANE_SERVICE_ACCOUNT}$`;

/** TLS to the control plane: verify it, present the proxy's own certificate (SDS `default`, completed by its CSR). */
function controlPlaneTransportSocket(caFile: string): Record<string, unknown> {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: ADS_SOURCE }],
        validation_context: {
          trusted_ca: { filename: caFile },
          match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { safe_regex: { regex: CONTROL_PLANE_SPIFFE_ID } } }],
        },
      },
    },
  };
}

export const ADS_CLUSTER_NAME = 'xds_cluster';
const ADS_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

export function sidecarNodeId(workload: string, namespace: string): string {
  return `sidecar~${workload}.${namespace}`;
}

export function buildSidecarBootstrap(options: SidecarOptions): Record<string, unknown> {
  const { host, port } = options.controlPlane;
  return {
    node: {
      id: options.kind === 'gateway' ? `gateway~${options.workload}.${options.namespace}` : sidecarNodeId(options.workload, options.namespace),
      cluster: options.workload,
      metadata: {
        [options.kind === 'gateway' ? 'GATEWAY' : 'WORKLOAD']: options.workload,
        NAMESPACE: options.namespace,
        // The sidecar makes its own key and asks the control plane's CA to sign it (identity/).
        WEFT_LOCAL_KEY: 'true',
        ...(options.capturePorts === undefined ? {} : { OUTBOUND_PORT: String(options.capturePorts.outbound), INBOUND_PORT: String(options.capturePorts.inbound) }),
      },
    },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: options.adminPort } } },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: ADS_CLUSTER_NAME } }],
        set_node_on_first_message_only: true,
      },
      lds_config: ADS_SOURCE,
      cds_config: ADS_SOURCE,
    },
    static_resources: {
      clusters: [
        {
          name: ADS_CLUSTER_NAME,
          type: isIP(host) === 0 ? 'STRICT_DNS' : 'STATIC',
          connect_timeout: '1s',
          ...(options.controlPlaneCaFile === undefined ? {} : { transport_socket: controlPlaneTransportSocket(options.controlPlaneCaFile) }),
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
              explicit_http_config: { http2_protocol_options: {} },
            },
          },
          load_assignment: {
            cluster_name: ADS_CLUSTER_NAME,
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }],
          },
        },
      ],
    },
  };
}
