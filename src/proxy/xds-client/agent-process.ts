/**
 * The xDS agent process, forked by the proxy (supervisor.ts) with the bootstrap
 * path. It owns everything the proxy process should not carry: gRPC, Envoy's
 * protos and the schema validator. It opens the ADS stream to the bootstrap's
 * ADS cluster, and sends each complete config to the proxy over IPC; the proxy
 * answers applied or failed. It exits when the proxy goes away.
 */
import type * as grpc from '@grpc/grpc-js';
import { formatHostPort } from '../../lib/address.js';
import { childLogger } from '../../lib/log.js';
import type { EnvoyJson } from '../../xds/codec.js';
import { loadBootstrapFile } from '../config/bootstrap.js';
import type { NodeInfo } from '../config/types.js';
import { XdsAgent } from './agent.js';
import { openAdsStream } from './ads-stream.js';
import { controlPlaneTls } from './control-plane-tls.js';
import type { AgentMessage, ProxyReply } from './protocol.js';

const log = childLogger('xds-agent');

function send(message: AgentMessage): void {
  if (process.connected) process.send!(message);
}


/**
 * The node as sent to the server. `adminAddress` (the proxy's bound admin listener, our second
 * argument) becomes metadata ADMIN_ADDRESS unless the bootstrap sets it: the control plane scrapes
 * `/stats/prometheus` and `/config_dump` there.
 */
function nodeJson(node: NodeInfo, adminAddress: string | undefined): EnvoyJson {
  const metadata = adminAddress === undefined || node.metadata['ADMIN_ADDRESS'] !== undefined ? node.metadata : { ...node.metadata, ADMIN_ADDRESS: adminAddress };
  return {
    id: node.id,
    cluster: node.cluster,
    metadata: metadata as EnvoyJson,
    user_agent_name: 'weft',
    user_agent_version: process.env['npm_package_version'] ?? 'dev',
  };
}

async function main(): Promise<void> {
  const base = await loadBootstrapFile(process.argv[2] ?? '');
  const dynamic = base.dynamicResources;
  if (dynamic === undefined) {
    log.info('the bootstrap has no dynamic_resources; nothing to do');
    process.disconnect();
    return;
  }
  // normalizeBootstrap guarantees the ADS cluster exists and has endpoints.
  const adsCluster = base.clusters.find((c) => c.name === dynamic.adsCluster)!;
  const targets = adsCluster.endpoints.map((e) => formatHostPort(e.address, e.port));
  const tls = adsCluster.tls === undefined ? undefined : controlPlaneTls(adsCluster.tls, base.secrets, log);
  const node = nodeJson(base.node, process.argv[3]);
  const waiting = new Map<number, (error: string | undefined) => void>();
  let nextId = 1;
  const agent = new XdsAgent({
    base,
    log,
    openStream: (callbacks) =>
      openAdsStream({ ...callbacks, targets, node, setNodeOnFirstMessageOnly: dynamic.setNodeOnFirstMessageOnly, log, ...(tls === undefined ? {} : { credentials: () => tls.mutual() }) }),
    apply: (bootstrap, dump) =>
      new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        send({ type: 'weft:xds:config', id, bootstrap, dump });
      }),
    status: (status) => send({ type: 'weft:xds:status', status }),
  });
  process.on('message', (reply: ProxyReply) => {
    if (reply.type === 'weft:ca:sign') {
      void signCsr(reply.id, reply.csrPem, targets[0]!, base.node, tls?.serverAuthenticated());
      return;
    }
    if (reply.type === 'weft:identity') {
      tls?.setIdentity(reply.certificateChainPem, reply.privateKeyPem);
      return;
    }
    const resolve = waiting.get(reply.id);
    waiting.delete(reply.id);
    resolve?.(reply.type === 'weft:xds:applied' ? undefined : reply.error);
  });
  process.on('disconnect', () => {
    agent.close();
    process.exit(0);
  });
}

/**
 * The proxy's CSR to the control plane's CA (its certificate service shares the xDS port), with the
 * workload's registration token from WEFT_WORKLOAD_TOKEN; the workload and namespace come from the node metadata.
 */
async function signCsr(id: number, csrPem: string, address: string, node: NodeInfo, credentials: grpc.ChannelCredentials | undefined): Promise<void> {
  try {
    const { requestCertificate } = await import('../../controlplane/ca/client.js');
    const token = process.env['WEFT_WORKLOAD_TOKEN'];
    const issued = await requestCertificate({
      address,
      csrPem,
      ...(credentials === undefined ? {} : { credentials }),
      ...(token !== undefined && token !== '' ? { token } : {}),
      namespace: String(node.metadata['NAMESPACE'] ?? ''),
      // A gateway proxy's identity is its Gateway's (the CA looks up a Workload or a Gateway by this name).
      workload: String(node.metadata['WORKLOAD'] ?? node.metadata['GATEWAY'] ?? ''),
    });
    log.info({ spiffeId: issued.spiffeId, expiresAt: issued.expiresAt }, 'certificate issued for the proxy key');
    send({ type: 'weft:ca:signed', id, certificateChainPem: issued.certificateChainPem });
  } catch (err) {
    send({ type: 'weft:ca:signed', id, error: err instanceof Error ? err.message : String(err) });
  }
}

main().catch((err: unknown) => {
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'xDS agent cannot start');
  process.exit(1);
});
