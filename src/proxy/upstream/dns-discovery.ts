/**
 * STRICT_DNS (and LOGICAL_DNS) endpoint discovery: resolves every endpoint's
 * hostname every dns_refresh_rate, one host per returned address (LOGICAL_DNS:
 * only the first). A failed lookup keeps that endpoint's last good addresses.
 * Each round reports the full host list, even when nothing changed; the
 * cluster reconciles.
 */
import type * as dns from 'node:dns';
import type { ClusterConfig, EndpointConfig } from '../config/types.js';
import type { ClusterStats } from './cluster-stats.js';
import type { HostSpec } from './host.js';
import type { LookupFn } from './types.js';

export interface DnsDiscovery {
  /** Resolves after the first round, whatever its outcome. */
  readonly initialized: Promise<void>;
  close(): void;
}

export interface DnsDiscoveryOptions {
  lookup: LookupFn;
  stats: ClusterStats;
  onUpdate(hosts: HostSpec[]): void;
}

type Family = ClusterConfig['dnsLookupFamily'];

const LOOKUP_FAMILY: Record<Family, 0 | 4 | 6> = { AUTO: 0, V4_ONLY: 4, V6_ONLY: 6, V4_PREFERRED: 0, ALL: 0 };

/** Envoy's family policy: AUTO prefers IPv6, V4_PREFERRED IPv4, each falling back to the other. */
function selectAddresses(family: Family, addresses: dns.LookupAddress[]): dns.LookupAddress[] {
  if (family !== 'AUTO' && family !== 'V4_PREFERRED') return addresses;
  const preferred = addresses.filter((a) => a.family === (family === 'AUTO' ? 6 : 4));
  return preferred.length > 0 ? preferred : addresses;
}

export function startDnsDiscovery(config: ClusterConfig, opts: DnsDiscoveryOptions): DnsDiscovery {
  const lastGood: HostSpec[][] = config.endpoints.map(() => []);
  const lookupOptions: dns.LookupAllOptions = { all: true, family: LOOKUP_FAMILY[config.dnsLookupFamily] };
  const { stats } = opts;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let markInitialized: () => void = () => {};
  const initialized = new Promise<void>((resolve) => (markInitialized = resolve));

  const resolveEndpoint = (endpoint: EndpointConfig, index: number): Promise<void> =>
    new Promise((done) => {
      stats.update_attempt.inc();
      const onResult = (err: Error | null, addresses: dns.LookupAddress[]): void => {
        if (err !== null || addresses.length === 0) {
          stats.update_failure.inc();
        } else {
          stats.update_success.inc();
          let selected = selectAddresses(config.dnsLookupFamily, addresses);
          if (config.type === 'LOGICAL_DNS') selected = selected.slice(0, 1);
          lastGood[index] = selected.map((a) => ({
            address: a.address,
            port: endpoint.port,
            hostname: endpoint.hostname,
            weight: endpoint.weight,
            healthCheckPort: endpoint.healthCheckPort,
          }));
        }
        done();
      };
      // A resolver that throws (a malformed name) fails this round like any other error.
      try {
        opts.lookup(endpoint.address, lookupOptions, onResult);
      } catch (err) {
        onResult(err as Error, []);
      }
    });

  const round = async (): Promise<void> => {
    await Promise.all(config.endpoints.map(resolveEndpoint));
    if (closed) return;
    opts.onUpdate(lastGood.flat());
    markInitialized();
    timer = setTimeout(() => void round(), config.dnsRefreshRateMs);
    timer.unref();
  };
  void round();

  return {
    initialized,
    close() {
      closed = true;
      clearTimeout(timer);
      markInitialized();
    },
  };
}
