/**
 * `weft controlplane`: the store, the control loop, the xDS server and the REST
 * API in one process. Start order guarantees no proxy is ever answered from an
 * empty model: store -> controller (list + watch) -> xDS -> API. Stop order is
 * the reverse, after which the store is closed.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { MeshController } from './controller.js';
import { startApiServer, type ApiServer } from './api/server.js';
import { ADMIN_TOKEN_FILE } from './api/paths.js';
import { createTokenAuthority } from './api/tokens.js';
import { campaignForLeadership, openStore, type StoreOptions } from './store/index.js';
import { certificateServiceDefinition, certificateServiceHandlers } from './ca/certificate-service.js';
import type { SigningMaterial } from './ca/authority.js';
import type * as grpc from '@grpc/grpc-js';
import { startControlPlaneIdentity, type ControlPlaneIdentity } from './ca/control-plane-identity.js';
import { createMeshCa, type MeshCa } from './ca/mesh-ca.js';
import { createSnapshotCache } from './xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from './xds/server.js';
import { SeriesStore } from './metrics/series-store.js';
import { startScraper, type Scraper } from './metrics/scraper.js';

const LOOPBACK = '127.0.0.1';

export interface ControlPlaneOptions {
  store: StoreOptions;
  xdsPort: number;
  apiPort: number;
  /** Address the REST API binds; loopback by default. */
  host: string;
  /** Address plaintext xDS binds; default 127.0.0.1 (plaintext xDS must not leave the host unless the operator says so). */
  xdsHost?: string;
  /** xDS over mTLS (istiod's 15012): where it binds; none when absent. */
  xdsTls?: { port: number; host: string };
  /** Where the first start writes the bootstrap admin token (`<dataDir>/admin-token`, mode 0600). */
  dataDir: string;
  /** The base logger; each part adds its own `component` (a child of a child would repeat the key in every line). */
  log: Logger;
  /** The mesh CA: an operator's CA (else a generated root kept in the store) and the default certificate lifetime. */
  ca?: { files?: SigningMaterial; certificateLifetimeMs?: number; sweepIntervalMs?: number; activationDelayMs?: number };
}

export interface RunningControlPlane {
  readonly xdsPort: number;
  /** The mTLS xDS port, when served. */
  readonly xdsTlsPort: number | undefined;
  readonly apiPort: number;
  /** Set only on the start that created the first admin token: shown once, never logged. */
  readonly bootstrapAdminToken: string | undefined;
  /** Where that token was written. */
  readonly adminTokenFile: string;
  isLeader(): boolean;
  close(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const part = (component: string): Logger => options.log.child({ component });
  const log = part('controlplane');
  const store = openStore(options.store);
  const cache = createSnapshotCache();
  const controller = new MeshController({ store, cache, log: part('controller') });
  let xds: RunningXdsServer | undefined;
  let api: ApiServer | undefined;
  let scraper: Scraper | undefined;
  // Golden metrics: every proxy's admin stats, scraped every 5 s, 15 min kept in memory.
  const series = new SeriesStore();
  let ca: MeshCa | undefined;
  let identity: ControlPlaneIdentity | undefined;
  // With etcd, replicas share the store; one leader does the store-writing background work. SQLite is single-replica.
  let leader = options.store.kind === 'sqlite';
  const election =
    options.store.kind === 'etcd'
      ? campaignForLeadership({ endpoints: options.store.endpoints, id: `${hostname()}-${process.pid}` }, (isLeader) => {
          leader = isLeader;
          log.info({ leader: isLeader }, 'leadership changed');
        })
      : undefined;
  const tokens = createTokenAuthority(store);
  const adminTokenFile = join(options.dataDir, ADMIN_TOKEN_FILE);
  let bootstrapAdminToken: string | undefined;
  try {
    const issued = await tokens.bootstrapAdmin();
    if (issued !== undefined) {
      writeSecretFile(adminTokenFile, `${issued.token}\n`);
      bootstrapAdminToken = issued.token;
      log.info({ tokenId: issued.id, file: adminTokenFile }, 'created the first admin API token');
    }
    ca = createMeshCa({
      store,
      log: part('ca'),
      isLeader: () => leader,
      ...(options.ca?.files === undefined ? {} : { files: options.ca.files }),
      ...(options.ca?.certificateLifetimeMs === undefined ? {} : { defaultLifetimeMs: options.ca.certificateLifetimeMs }),
      ...(options.ca?.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.ca.sweepIntervalMs }),
      ...(options.ca?.activationDelayMs === undefined ? {} : { activationDelayMs: options.ca.activationDelayMs }),
    });
    await ca.start();
    await controller.start();
    if (options.xdsTls !== undefined) identity = await startControlPlaneIdentity(ca, part('ca'));
    if (!isLoopback(options.xdsHost ?? LOOPBACK)) log.warn({ address: options.xdsHost }, 'plaintext xDS is open beyond this host: any client that reaches it gets config and certificates for its token; prefer the mTLS port');
    const tlsIdentity = identity;
    xds = await startXdsServer({
      services: [{ definition: certificateServiceDefinition(), handlers: certificateServiceHandlers(ca) }],
      cache,
      port: options.xdsPort,
      host: options.xdsHost ?? LOOPBACK,
      ...(options.xdsTls === undefined || tlsIdentity === undefined ? {} : {
        tls: {
          ...options.xdsTls,
          credentials: tlsIdentity.credentials,
          authorize: (call, nodeId, metadata) => authorizeNode(call.getAuthContext(), tlsIdentity, controller.expectedIdentity(nodeId, metadata), nodeId),
        },
      }),
      log: part('xds'),
      onStreamEvent: (event) => {
        if (event.kind === 'connected') controller.onProxyConnected(event.nodeId, event.nodeMetadata);
        else if (event.kind === 'disconnected') controller.onProxyDisconnected(event.nodeId);
        else if (event.kind === 'nack') log.warn({ nodeId: event.nodeId, typeUrl: event.typeUrl, error: event.error }, 'proxy rejected config');
      },
    });
    const proxies = xds.proxies;
    api = await startApiServer({ store, tokens, port: options.apiPort, host: options.host, log: part('api'), proxies, proxyStatuses: proxies, metrics: series, isLeader: () => leader, ca });
    scraper = startScraper({ store: series, proxies, log: part('metrics') });
  } catch (err) {
    scraper?.close();
    await api?.close();
    await xds?.close();
    identity?.close();
    ca?.close();
    controller.close();
    await election?.resign();
    await store.close();
    throw err;
  }
  log.info({ xdsPort: xds.port, xdsTlsPort: xds.tlsPort, apiPort: api.port, store: options.store.kind }, 'control plane ready');
  const running = { xds, api, ca, scraper, identity };
  return {
    xdsPort: xds.port,
    xdsTlsPort: xds.tlsPort,
    apiPort: api.port,
    bootstrapAdminToken,
    adminTokenFile,
    isLeader: () => leader,
    async close() {
      running.scraper?.close();
      await running.api.close();
      await running.xds.close();
      running.identity?.close();
      running.ca.close();
      controller.close();
      await election?.resign();
      await store.close();
      log.info('control plane stopped');
    },
  };
}

/**
 * Who may get a node's config on the mTLS port (the plaintext port, loopback unless the operator
 * opened it, trusts its callers): a caller with a certificate from the mesh CA naming the node's own
 * identity (a proxyless client: any mesh identity). gRPC shows a peer certificate only once the
 * handshake verified it against the trust bundle; the check here adds validity and the issuer.
 */
function authorizeNode(auth: ReturnType<grpc.ServerDuplexStream<unknown, unknown>['getAuthContext']>, identity: ControlPlaneIdentity, expected: string | null | undefined, nodeId: string): string | undefined {
  const der = auth.sslPeerCertificate?.raw;
  if (der === undefined) return 'xDS on the mTLS port needs a client certificate from the mesh CA: none was presented, or one the mesh does not trust (weft proxy gets one with its registration token)';
  const peer = identity.verifyPeer(der);
  if ('error' in peer) return peer.error;
  if (expected === undefined) return `node ${nodeId} names no registered Workload or Gateway`;
  if (expected !== null && !peer.uris.includes(expected)) return `node ${nodeId} is ${expected}, but the client certificate is ${peer.uris.join(', ') || 'no SPIFFE ID'}`;
  return undefined;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Owner read/write only, also when the file already existed with looser bits. */
function writeSecretFile(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}
