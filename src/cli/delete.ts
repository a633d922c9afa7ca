/** `weft delete KIND NAME`: removes one resource; exits non-zero when it does not exist. */
import type { Command } from 'commander';
import { ApiClient, resolveKind, withServerOptions, type ServerOptions } from './api-client.js';

export function registerDeleteCommand(program: Command): void {
  withServerOptions(
    program
      .command('delete')
      .description('delete a resource')
      .argument('<kind>', 'kind, plural or short name')
      .argument('<name>', 'resource name'),
  ).action(async (kindName: string, name: string, opts: ServerOptions) => {
    const kind = await resolveKind(kindName);
    const deleted = await new ApiClient(opts.server, opts.token).delete(kind, opts.namespace, name);
    process.stdout.write(`${deleted.kind.toLowerCase()}/${deleted.metadata.name} deleted\n`);
  });
}
