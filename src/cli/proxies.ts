/**
 * `weft proxies [-o json|yaml]`: the proxies connected to the control plane
 * and their xDS state, as the server reports them (`GET /api/proxies`). The
 * table shows each entry's top-level fields, so new fields appear without a
 * CLI change.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ApiClient, withServerOptions, type ServerOptions } from './api-client.js';
import { formatTable } from './table.js';

export function registerProxiesCommand(program: Command): void {
  withServerOptions(
    program
      .command('proxies')
      .description('list the proxies connected to the control plane, their config versions and ACK/NACK state')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table')),
  ).action(async (opts: ServerOptions & { output: 'table' | 'json' | 'yaml' }) => {
    const proxies = await new ApiClient(opts.server).proxies();
    if (opts.output === 'json') process.stdout.write(`${JSON.stringify(proxies, null, 2)}\n`);
    else if (opts.output === 'yaml') process.stdout.write((await import('yaml')).stringify(proxies));
    else if (proxies.length === 0) process.stderr.write('no proxies connected\n');
    else process.stdout.write(proxyTable(proxies));
  });
}

export function proxyTable(proxies: readonly unknown[]): string {
  const records = proxies.map((p) => (p !== null && typeof p === 'object' ? (p as Record<string, unknown>) : { value: p }));
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return formatTable(
    columns.map(headerOf),
    records.map((r) => columns.map((c) => cellOf(r[c]))),
  );
}

/** `ackState` -> `ACK_STATE`. */
const headerOf = (field: string): string => field.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function cellOf(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
