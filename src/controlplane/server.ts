/**
 * `weft controlplane`: the store, the control loop, the xDS server and the REST
 * API in one process. Start order guarantees no proxy is ever answered from an
 * empty model: store -> controller (list + watch) -> xDS -> API. Stop order is
 * the reverse, after which the store is closed.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { MeshController } from './controller.js';
import { startApiServer, type ApiServer } from './api/server.js';
import { campaignForLeadership, openStore, type StoreOptions } from './store/index.js';
import { createSnapshotCache } from './xds/snapshot-cache.js';
import { startXdsServer, type RunningXdsServer } from './xds/server.js';
import { SeriesStore } from './metrics/series-store.js';
import { startScraper, type Scraper } from './metrics/scraper.js';

export interface ControlPlaneOptions {
  store: StoreOptions;
  xdsPort: number;
  apiPort: number;
  /** Address both servers bind; loopback by default (plaintext xDS must not leave the host). */
  host: string;
  /** The base logger; each part adds its own `component` (a child of a child would repeat the key in every line). */
  log: Logger;
}

export interface RunningControlPlane {
  readonly xdsPort: number;
  readonly apiPort: number;
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
  // With etcd, replicas share the store; one leader does the store-writing background work. SQLite is single-replica.
  let leader = options.store.kind === 'sqlite';
  const election =
    options.store.kind === 'etcd'
      ? campaignForLeadership({ endpoints: options.store.endpoints, id: `${hostname()}-${process.pid}` }, (isLeader) => {
          leader = isLeader;
          log.info({ leader: isLeader }, 'leadership changed');
        })
      : undefined;
  try {
    await controller.start();
    xds = await startXdsServer({
      cache,
      port: options.xdsPort,
      host: options.host,
      log: part('xds'),
      onStreamEvent: (event) => {
        if (event.kind === 'connected') controller.onProxyConnected(event.nodeId, event.nodeMetadata);
        else if (event.kind === 'disconnected') controller.onProxyDisconnected(event.nodeId);
        else if (event.kind === 'nack') log.warn({ nodeId: event.nodeId, typeUrl: event.typeUrl, error: event.error }, 'proxy rejected config');
      },
    });
    const proxies = xds.proxies;
    api = await startApiServer({ store, port: options.apiPort, host: options.host, log: part('api'), proxies, proxyStatuses: proxies, metrics: series, isLeader: () => leader });
    scraper = startScraper({ store: series, proxies, log: part('metrics') });
  } catch (err) {
    scraper?.close();
    await api?.close();
    await xds?.close();
    controller.close();
    await election?.resign();
    await store.close();
    throw err;
  }
  log.info({ xdsPort: xds.port, apiPort: api.port, store: options.store.kind }, 'control plane ready');
  const running = { xds, api, scraper };
  return {
    xdsPort: xds.port,
    apiPort: api.port,
    isLeader: () => leader,
    async close() {
      running.scraper?.close();
      await running.api.close();
      await running.xds.close();
      controller.close();
      await election?.resign();
      await store.close();
      log.info('control plane stopped');
    },
  };
}
