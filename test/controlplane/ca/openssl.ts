/** The openssl CLI as an independent party: it makes keys and CSRs and verifies chains. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A new P-256 key and a CSR for it (empty subject, `uri` as URI SAN when given), made by openssl. */
export function opensslCsr(dir: string, name: string, uri?: string): { keyPath: string; csrPem: string } {
  const keyPath = join(dir, `${name}.key`);
  const csrPath = join(dir, `${name}.csr`);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath]);
  execFileSync('openssl', ['req', '-new', '-key', keyPath, '-subj', '/O=weft-test', ...(uri === undefined ? [] : ['-addext', `subjectAltName=URI:${uri}`]), '-out', csrPath]);
  return { keyPath, csrPem: readFileSync(csrPath, 'utf8') };
}

/** `openssl verify -CAfile bundle [-untrusted intermediates] leaf`: the exit status and output. */
export function opensslVerify(dir: string, name: string, trustBundlePem: string, chainPem: string): { ok: boolean; output: string } {
  const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const bundle = join(dir, `${name}-bundle.pem`);
  const leaf = join(dir, `${name}-leaf.pem`);
  writeFileSync(bundle, trustBundlePem);
  writeFileSync(leaf, `${blocks[0]}\n`);
  const args = ['verify', '-CAfile', bundle];
  if (blocks.length > 1) {
    const untrusted = join(dir, `${name}-untrusted.pem`);
    writeFileSync(untrusted, `${blocks.slice(1).join('\n')}\n`);
    args.push('-untrusted', untrusted);
  }
  args.push(leaf);
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** The certificate as openssl prints it (`-text`). */
export function opensslText(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
}
