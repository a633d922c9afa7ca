/**
 * `weft ca show [--bundle]` (root subject, fingerprint, expiry, trust domain,
 * pending and retired roots; or the trust bundle's PEM) and `weft ca rotate [--overlap 24h]` (a new root joins the
 * trust bundle, signs after a short delay, and the old root leaves after the
 * overlap). `weft identity WORKLOAD [-n NS] [--token]`: the workload's SPIFFE ID,
 * its current certificate chain and expiry, and (admin) its registration token.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CaStatus, IdentityStatus } from '../controlplane/ca/mesh-ca.js';
import { ApiClient, withServerOptions, type ServerOptions } from './api-client.js';

type Output = 'text' | 'json';

const outputOption = (): Option => new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text');

export function registerCaCommands(program: Command): void {
  const ca = program.command('ca').description('the mesh certificate authority');
  withServerOptions(
    ca.command('show')
      .description('show the CA: root, trust domain, roots in the trust bundle, counters')
      .option('--bundle', "print only the trust bundle (PEM), e.g. for weft proxy --ca-file", false)
      .addOption(outputOption()),
  ).action(async (opts: ServerOptions & { output: Output; bundle: boolean }) => {
    const status = (await new ApiClient(opts.server, opts.token).caStatus()) as CaStatus;
    if (opts.bundle) process.stdout.write(status.trustBundlePem);
    else print(status, opts.output, caText);
  });
  withServerOptions(
    ca.command('rotate')
      .description('rotate the root: the new root joins the trust bundle, signs shortly after, and the old one leaves after the overlap')
      .option('--overlap <duration>', 'how long the old root stays trusted after the new one signs', '24h')
      .addOption(outputOption()),
  ).action(async (opts: ServerOptions & { overlap: string; output: Output }) => {
    print((await new ApiClient(opts.server, opts.token).rotateCa(opts.overlap)) as CaStatus, opts.output, caText);
  });

  withServerOptions(
    program.command('identity <workload>')
      .description("a workload's SPIFFE ID, certificate chain and expiry")
      .option('--registration-token', "also print the workload's registration token (its proxy's credential for its first certificate)", false)
      .addOption(outputOption()),
  ).action(async (workload: string, opts: ServerOptions & { registrationToken: boolean; output: Output }) => {
    const identity = (await new ApiClient(opts.server, opts.token).identity(opts.namespace, workload, opts.registrationToken)) as IdentityStatus;
    print(identity, opts.output, identityText);
  });
}

function print<T>(value: T, output: Output, text: (value: T) => string): void {
  process.stdout.write(output === 'json' ? `${JSON.stringify(value, null, 2)}\n` : text(value));
}

function caText(status: CaStatus): string {
  const lines = [
    `trust domain:   ${status.trustDomain}`,
    `source:         ${status.source}`,
    `root:           ${status.root.subject}`,
    `  fingerprint:  SHA256 ${status.root.fingerprintSha256}`,
    `  valid:        ${status.root.notBefore} .. ${status.root.notAfter}`,
    `leaf lifetime:  ${status.certificateLifetime}`,
  ];
  if (status.pending !== undefined) lines.push(`pending root:   ${status.pending.subject}`, `  fingerprint:  SHA256 ${status.pending.fingerprintSha256}`, `  signs from:   ${status.pending.activateAt}`);
  for (const retired of status.retired) lines.push(`retired root:   ${retired.subject}`, `  fingerprint:  SHA256 ${retired.fingerprintSha256}`, `  trusted until: ${retired.retireAt}`);
  lines.push(`counters:       ${Object.entries(status.stats).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function identityText(identity: IdentityStatus): string {
  const lines = [`workload:    ${identity.namespace}/${identity.workload}`, `spiffe id:   ${identity.spiffeId}`];
  if (identity.certificate === undefined) lines.push('certificate: none issued yet (its proxy has not asked)');
  else lines.push(`expires:     ${identity.certificate.notAfter}`, `fingerprint: SHA256 ${identity.certificate.fingerprintSha256}`);
  if (identity.token !== undefined) lines.push(`token:       ${identity.token}`);
  if (identity.certificate !== undefined) lines.push('', identity.certificate.chainPem.trimEnd());
  return `${lines.join('\n')}\n`;
}
