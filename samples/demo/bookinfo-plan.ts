/**
 * Where everything of the BookInfo demo runs, derived from one port base so a
 * second demo (or a test) can run beside the first. samples/bookinfo/mesh.yaml
 * is the source of the instances: each Workload is one application process with
 * its sidecar. Its ports assume the default base; another base moves them by
 * the difference, and the YAML applied is rewritten accordingly.
 *
 *   base+10 xDS, base+12 xDS over mTLS, base+80 API   (15010, 15012, 15080: DESIGN.md's defaults)
 *   base+90 admin of the ingress gateway proxy
 *   base+100+10i admin, +1 outbound, +6 inbound of sidecar i   (15100, 15101, 15106, 15110, ...)
 *   the Workload and Gateway ports of mesh.yaml, moved by base-15000   (15200..., 15280)
 */
import { parseAllDocuments, stringify } from 'yaml';

export const DEFAULT_PORT_BASE = 15000;
const GATEWAY_ADMIN_OFFSET = 90;
const SIDECAR_PORTS_OFFSET = 100;
const SIDECAR_PORTS_STRIDE = 10;
/** The highest port a plan may use, relative to its base (the Workloads' ports at the default base are below it). */
export const PORT_SPAN = 300;

export interface Instance {
  /** The Workload's name (`reviews-v2`): the sidecar's --workload and the app's instance name. */
  workload: string;
  /** Which BookInfo application it runs: productpage, details, reviews, ratings. */
  app: string;
  version: string;
  appPort: number;
  adminPort: number;
  outboundPort: number;
  inboundPort: number;
}

/** The edge proxy of mesh.yaml's Gateway: the way into the STRICT mTLS mesh. */
export interface GatewayInstance {
  name: string;
  adminPort: number;
  /** Its HTTP listener, where productpage is reached from outside. */
  port: number;
}

export interface BookinfoPlan {
  xdsPort: number;
  xdsTlsPort: number;
  apiPort: number;
  instances: Instance[];
  gateway: GatewayInstance;
  /** mesh.yaml with the ports moved to this plan and each Workload's inboundPort set to its sidecar's, for `weft apply -f -`. */
  manifest: string;
}

interface WorkloadDoc {
  kind: 'Workload';
  metadata: { name: string };
  spec: { service: string; version?: string; labels?: Record<string, string>; ports?: Array<{ name: string; port: number }>; inboundPort?: number };
}

interface GatewayDoc {
  kind: 'Gateway';
  metadata: { name: string };
  spec: { listeners?: Array<{ name: string; port: number; protocol?: string }> };
}

export function planBookinfo(meshYaml: string, base: number): BookinfoPlan {
  if (!Number.isInteger(base) || base < 1024 || base + PORT_SPAN > 65535) throw new Error(`port base ${base}: must be an integer from 1024 to ${65535 - PORT_SPAN}`);
  const shift = base - DEFAULT_PORT_BASE;
  const docs = parseAllDocuments(meshYaml).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`mesh.yaml: ${doc.errors[0]!.message}`);
    return doc.toJS() as { kind?: string };
  });
  const workloads = docs.filter((doc): doc is WorkloadDoc => doc.kind === 'Workload');
  /** Moves a port of mesh.yaml to this plan's base, in place (the manifest is written from the moved docs). */
  const move = (port: { port: number }, owner: string): number => {
    port.port += shift;
    if (port.port < base || port.port >= base + PORT_SPAN) throw new Error(`mesh.yaml: ${owner}: port ${port.port - shift} is outside the demo's range ${DEFAULT_PORT_BASE}-${DEFAULT_PORT_BASE + PORT_SPAN - 1}`);
    return port.port;
  };
  const instances = workloads.map((doc, i): Instance => {
    const port = doc.spec.ports?.find((p) => p.name === 'http');
    if (port === undefined) throw new Error(`mesh.yaml: Workload ${doc.metadata.name} has no port named http`);
    move(port, `Workload ${doc.metadata.name}`);
    const sidecar = base + SIDECAR_PORTS_OFFSET + SIDECAR_PORTS_STRIDE * i;
    // Other sidecars reach this workload through its sidecar's inbound port, over mTLS.
    doc.spec.inboundPort = sidecar + 6;
    return {
      workload: doc.metadata.name,
      app: doc.spec.service,
      version: doc.spec.version ?? doc.spec.labels?.['version'] ?? 'v1',
      appPort: port.port,
      adminPort: sidecar,
      outboundPort: sidecar + 1,
      inboundPort: sidecar + 6,
    };
  });
  if (SIDECAR_PORTS_OFFSET + SIDECAR_PORTS_STRIDE * instances.length > PORT_SPAN) throw new Error(`mesh.yaml: too many Workloads (${instances.length}) for the port plan`);
  const gatewayDoc = docs.find((doc): doc is GatewayDoc => doc.kind === 'Gateway');
  const listener = gatewayDoc?.spec.listeners?.find((l) => (l.protocol ?? 'HTTP') === 'HTTP');
  if (gatewayDoc === undefined || listener === undefined) throw new Error('mesh.yaml: no Gateway with an HTTP listener (the way into the mesh)');
  for (const other of gatewayDoc.spec.listeners ?? []) move(other, `Gateway ${gatewayDoc.metadata.name}`);
  const gateway = { name: gatewayDoc.metadata.name, adminPort: base + GATEWAY_ADMIN_OFFSET, port: listener.port };
  return { xdsPort: base + 10, xdsTlsPort: base + 12, apiPort: base + 80, instances, gateway, manifest: docs.map((doc) => stringify(doc)).join('---\n') };
}

/** Every port of the plan with what it is for, to check they are free before starting anything. */
export function plannedPorts(plan: BookinfoPlan): Array<{ port: number; use: string }> {
  return [
    { port: plan.xdsPort, use: 'control plane xDS' },
    { port: plan.xdsTlsPort, use: 'control plane xDS over mTLS' },
    { port: plan.apiPort, use: 'control plane API' },
    { port: plan.gateway.adminPort, use: `${plan.gateway.name} admin` },
    { port: plan.gateway.port, use: `${plan.gateway.name} listener` },
    ...plan.instances.flatMap((i) => [
      { port: i.appPort, use: `${i.workload} application` },
      { port: i.adminPort, use: `${i.workload} sidecar admin` },
      { port: i.outboundPort, use: `${i.workload} sidecar outbound` },
      { port: i.inboundPort, use: `${i.workload} sidecar inbound` },
    ]),
  ];
}
