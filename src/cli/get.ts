/**
 * `weft get KIND [NAME] [-o json|yaml] [-A]`: one resource or a list, as a
 * table (NAME, NAMESPACE, STATUS, AGE) or the documents themselves.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Resource } from '../controlplane/model/resource.js';
import { ACCEPTED, INVALID } from '../controlplane/api/condition-types.js';
import { ApiClient, resolveKind, withServerOptions, type ServerOptions } from './api-client.js';
import { formatAge, formatTable } from './table.js';

type OutputFormat = 'table' | 'json' | 'yaml';

export function registerGetCommand(program: Command): void {
  withServerOptions(
    program
      .command('get')
      .description('show one resource, or list a kind')
      .argument('<kind>', 'kind, plural or short name (service, services, ts)')
      .argument('[name]', 'resource name; omit to list')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table'))
      .option('-A, --all-namespaces', 'list across every namespace'),
  ).action(async (kindName: string, name: string | undefined, opts: ServerOptions & { output: OutputFormat; allNamespaces?: boolean }) => {
    const kind = await resolveKind(kindName);
    const client = new ApiClient(opts.server, opts.token);
    if (name !== undefined) {
      const found = await client.get(kind, opts.namespace, name);
      if (found === undefined) throw new Error(`${kind.kind} ${kind.namespaced ? `${opts.namespace}/` : ''}${name} not found`);
      process.stdout.write(await render(opts.output, found, [found]));
      return;
    }
    const list = await client.list(kind, opts.allNamespaces === true ? undefined : opts.namespace);
    if (opts.output === 'table' && list.items.length === 0) {
      process.stderr.write(`no ${kind.plural} found${opts.allNamespaces === true || !kind.namespaced ? '' : ` in namespace ${opts.namespace}`}\n`);
      return;
    }
    process.stdout.write(await render(opts.output, list, list.items));
  });
}

async function render(format: OutputFormat, document: unknown, rows: readonly Resource[]): Promise<string> {
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  // Loaded on use (~8 MB of RSS): `weft proxy` shares this entry point.
  if (format === 'yaml') return (await import('yaml')).stringify(document);
  const now = Date.now();
  return formatTable(
    ['NAME', 'NAMESPACE', 'STATUS', 'AGE'],
    rows.map((r) => [r.metadata.name, r.metadata.namespace || '-', conditionSummary(r), formatAge(r.metadata.creationTimestamp, now)]),
  );
}

/** Accepted / Invalid from the server's condition; Unknown until it has set one. */
export function conditionSummary(resource: Resource): string {
  const conditions = resource.status?.conditions ?? [];
  if (conditions.some((c) => c.type === INVALID && c.status === 'True')) return INVALID;
  if (conditions.some((c) => c.type === ACCEPTED && c.status === 'True')) return ACCEPTED;
  return 'Unknown';
}
