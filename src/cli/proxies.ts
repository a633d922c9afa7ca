/**
 * `weft proxies [-o json|yaml]`: the proxies connected to the control plane
 * and their xDS state, as the server reports them (`GET /api/proxies`). The
 * table has one row per stream and one column per xDS type, holding the
 * version the proxy ACKed, plus what is in flight or rejected (istioctl
 * proxy-status style); -o json|yaml shows everything, NACK messages included.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ProxyStatus, TypeStatus } from '../controlplane/xds/proxy-status.js';
import {
  CLUSTER_LOAD_ASSIGNMENT_TYPE_URL,
  CLUSTER_TYPE_URL,
  LISTENER_TYPE_URL,
  ROUTE_CONFIGURATION_TYPE_URL,
  TYPE_SHORT_NAMES,
  type TypeUrl,
} from '../xds/type-urls.js';
import { ApiClient, withServerOptions, type ServerOptions } from './api-client.js';
import { formatAge, formatTable } from './table.js';

/** Columns in the order people read xDS: listeners, routes, clusters, endpoints. */
const TYPE_COLUMNS: readonly TypeUrl[] = [LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL];

export function registerProxiesCommand(program: Command): void {
  withServerOptions(
    program
      .command('proxies')
      .description('list the proxies connected to the control plane, their config versions and ACK/NACK state')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table')),
  ).action(async (opts: ServerOptions & { output: 'table' | 'json' | 'yaml' }) => {
    const proxies = (await new ApiClient(opts.server, opts.token).proxies()) as ProxyStatus[];
    if (opts.output === 'json') process.stdout.write(`${JSON.stringify(proxies, null, 2)}\n`);
    else if (opts.output === 'yaml') process.stdout.write((await import('yaml')).stringify(proxies));
    else if (proxies.length === 0) process.stderr.write('no proxies connected\n');
    else process.stdout.write(proxyTable(proxies));
  });
}

export function proxyTable(proxies: readonly ProxyStatus[], now = Date.now()): string {
  return formatTable(
    ['NODE', 'PROTOCOL', 'PEER', 'AGE', ...TYPE_COLUMNS.map((t) => TYPE_SHORT_NAMES[t])],
    proxies.map((p) => [p.nodeId, p.protocol, p.peer, formatAge(p.connectedAt, now), ...TYPE_COLUMNS.map((t) => typeCell(p.types[t]))]),
  );
}

/** `7` in sync; `7 (sent 8)` awaiting an answer; `7 (NACK 8)` rejected; `-` not subscribed or nothing ACKed yet. */
function typeCell(status: TypeStatus | undefined): string {
  if (status === undefined) return '-';
  const acked = status.ackedVersion === '' ? '-' : status.ackedVersion;
  if (status.nackError !== undefined) return `${acked} (NACK ${status.nackError.rejectedVersion})`;
  if (status.sentVersion !== status.ackedVersion) return `${acked} (sent ${status.sentVersion})`;
  return acked;
}
