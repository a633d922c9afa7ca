/**
 * Proxy detail for the UI: each connected proxy's xDS state per type (the
 * version sent and ACKed, NACK with its reason), where its admin listener is,
 * the metrics scraper's view of it, its certificate expiry when the proxy
 * reports one, and its config dump fetched from the admin listener with
 * secrets redacted.
 */
import type { FastifyInstance } from 'fastify';
import { adminBaseUrl, proxyIdentity } from '../metrics/proxy-identity.js';
import type { SeriesStore } from '../metrics/series-store.js';
import type { ProxyStatus, TypeStatus } from '../xds/proxy-status.js';
import { TYPE_SHORT_NAMES, TYPE_URLS_IN_PUSH_ORDER, type TypeUrl } from '../../xds/type-urls.js';
import { redactSecrets } from './redact.js';
import { ApiError, notFound } from './status.js';
import { NodeIdParams, PROXIES_V1_PATH } from './ui-schemas.js';

const ADMIN_TIMEOUT_MS = 5000;

export interface ProxyRouteDeps {
  proxies: () => ProxyStatus[];
  series: SeriesStore;
}

export function registerProxyRoutes(app: FastifyInstance, deps: ProxyRouteDeps): void {
  /** The newest stream of a node (a reconnecting proxy may briefly have two). */
  const find = (nodeId: string): ProxyStatus => {
    const streams = deps.proxies().filter((p) => p.nodeId === nodeId);
    const proxy = streams[streams.length - 1];
    if (proxy === undefined) throw notFound(`no connected proxy has node id ${JSON.stringify(nodeId)}`);
    return proxy;
  };

  app.get(PROXIES_V1_PATH, async () => ({ items: await Promise.all(deps.proxies().map((p) => proxyDetail(p, deps.series, false))) }));

  app.get<{ Params: NodeIdParams }>(`${PROXIES_V1_PATH}/:nodeId`, { schema: { params: NodeIdParams } }, (request) => proxyDetail(find(request.params.nodeId), deps.series, true));

  app.get<{ Params: NodeIdParams }>(`${PROXIES_V1_PATH}/:nodeId/config_dump`, { schema: { params: NodeIdParams } }, async (request) => {
    const proxy = find(request.params.nodeId);
    const base = adminBaseUrl(proxy);
    if (base === undefined) throw new ApiError(404, 'NotFound', `proxy ${proxy.nodeId} did not report its admin address (node metadata ADMIN_ADDRESS)`);
    const url = `${base}/config_dump`;
    let body: unknown;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      body = await response.json();
    } catch (err) {
      throw new ApiError(502, 'BadGateway', `fetching ${url} from proxy ${proxy.nodeId}: ${(err as Error).message}`);
    }
    return redactSecrets(body);
  });
}

type XdsState = 'SYNCED' | 'SENT' | 'NACKED' | 'NOT_SENT';

function xdsState(status: TypeStatus): XdsState {
  if (status.nackError !== undefined) return 'NACKED';
  if (status.sentVersion === '') return 'NOT_SENT';
  return status.sentVersion === status.ackedVersion ? 'SYNCED' : 'SENT';
}

async function proxyDetail(proxy: ProxyStatus, series: SeriesStore, withCertificate: boolean): Promise<Record<string, unknown>> {
  const identity = proxyIdentity(proxy);
  const target = series.targets.get(proxy.nodeId);
  const base = adminBaseUrl(proxy);
  return {
    streamId: proxy.streamId,
    nodeId: proxy.nodeId,
    nodeCluster: proxy.nodeCluster,
    workload: identity.workload,
    namespace: identity.namespace,
    nodeMetadata: proxy.nodeMetadata,
    protocol: proxy.protocol,
    peer: proxy.peer,
    connectedAt: proxy.connectedAt,
    types: proxy.types,
    adminAddress: base ?? null,
    xds: TYPE_URLS_IN_PUSH_ORDER.flatMap((typeUrl: TypeUrl) => {
      const status = proxy.types[typeUrl];
      if (status === undefined) return [];
      return [{ type: TYPE_SHORT_NAMES[typeUrl], typeUrl, sentVersion: status.sentVersion, ackedVersion: status.ackedVersion, state: xdsState(status), ...(status.nackError === undefined ? {} : { nackError: status.nackError }), subscribed: status.subscribed }];
    }),
    metrics: { lastScrapeAt: target?.lastScrapeAt ?? null, lastError: target?.lastError ?? null },
    certExpiry: withCertificate && base !== undefined ? await certificateExpiry(base) : null,
  };
}

/**
 * The hook for certificate expiry: Envoy's admin `/certs` (`certificates[].cert_chain[]
 * .expiration_time`). The earliest expiry wins; a proxy without the endpoint or
 * without certificates gives null. When Weft's proxy serves `/certs` (SDS), this lights up.
 */
export async function certificateExpiry(adminBase: string): Promise<string | null> {
  try {
    const response = await fetch(`${adminBase}/certs`, { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) });
    if (!response.ok) return null;
    const body = (await response.json()) as { certificates?: Array<{ cert_chain?: Array<{ expiration_time?: string }> }> };
    let earliest = Infinity;
    for (const cert of body.certificates ?? []) {
      for (const entry of cert.cert_chain ?? []) {
        const at = entry.expiration_time === undefined ? NaN : Date.parse(entry.expiration_time);
        if (at < earliest) earliest = at;
      }
    }
    return Number.isFinite(earliest) ? new Date(earliest).toISOString() : null;
  } catch {
    return null;
  }
}
