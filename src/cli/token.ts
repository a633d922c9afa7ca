/**
 * `weft token create|rotate|list|revoke`: the control plane's API tokens, through
 * the API with an admin token. A new token is printed once on stdout (alone on
 * its line, for scripts); the control plane keeps only its hash.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { TOKENS_PATH } from '../controlplane/api/paths.js';
import { ApiClient, localAdminTokenFile, resolveToken, withServerOptions, type ServerOptions } from './api-client.js';

interface IssuedToken {
  id: string;
  role: string;
  createdAt: string;
  token: string;
}

/** `weft_<id>_<secret>` -> id. */
function tokenId(token: string | undefined): string | undefined {
  return token === undefined ? undefined : /^weft_([a-z0-9-]+)_/.exec(token)?.[1];
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API bearer tokens (admin or read-only)');

  withServerOptions(
    token
      .command('create')
      .description('create a token and print it (shown once)')
      .addOption(new Option('--role <role>', 'what the token may do').choices(['admin', 'read-only']).default('read-only')),
  ).action(async (opts: ServerOptions & { role: string }) => {
    const issued = (await new ApiClient(opts.server, opts.token).request('POST', TOKENS_PATH, { role: opts.role })) as IssuedToken;
    process.stderr.write(`created ${issued.role} token ${issued.id} (shown once; the control plane keeps only its hash):\n`);
    process.stdout.write(`${issued.token}\n`);
  });

  withServerOptions(
    token
      .command('rotate')
      .description('replace a token\'s secret (default: the token in use); the old one stops working at once')
      .argument('[id]', 'token id (weft token list)'),
  ).action(async (id: string | undefined, opts: ServerOptions) => {
    const current = resolveToken(opts.token);
    const target = id ?? tokenId(current);
    if (target === undefined) throw new Error('no token id given and no token in use to rotate (--token, WEFT_TOKEN or the data dir\'s admin-token)');
    const issued = (await new ApiClient(opts.server, opts.token).request('POST', `${TOKENS_PATH}/${encodeURIComponent(target)}/rotate`)) as IssuedToken;
    // The local admin-token file follows its token, so local commands keep working.
    const file = localAdminTokenFile();
    if (opts.token === undefined && process.env['WEFT_TOKEN'] === undefined && tokenId(current) === issued.id) {
      writeFileSync(file, `${issued.token}\n`, { mode: 0o600 });
      process.stderr.write(`rotated ${issued.role} token ${issued.id}; updated ${file}:\n`);
    } else {
      process.stderr.write(`rotated ${issued.role} token ${issued.id} (shown once):\n`);
    }
    process.stdout.write(`${issued.token}\n`);
  });

  withServerOptions(token.command('list').description('list tokens (ids and roles, never secrets)')).action(async (opts: ServerOptions) => {
    const { items } = (await new ApiClient(opts.server, opts.token).request('GET', TOKENS_PATH)) as { items: Array<{ id: string; role: string; createdAt: string }> };
    process.stdout.write(['ID\tROLE\tCREATED', ...items.map((t) => `${t.id}\t${t.role}\t${t.createdAt}`)].join('\n') + '\n');
  });

  withServerOptions(token.command('revoke').description('delete a token').argument('<id>', 'token id')).action(async (id: string, opts: ServerOptions) => {
    await new ApiClient(opts.server, opts.token).request('DELETE', `${TOKENS_PATH}/${encodeURIComponent(id)}`);
    process.stdout.write(`token ${id} revoked\n`);
  });
}
