/**
 * `weft apply -f FILE|-`: creates or replaces every document of a YAML (or
 * JSON) file, and every item of a list (what `weft get KIND -o yaml` prints). Idempotent: a document equal to what is stored is left alone and
 * reported `unchanged`. Every document is validated before any is sent, so a
 * bad file changes nothing and fails with the field path.
 */
import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import type { KindInfo } from '../controlplane/model/kinds.js';
import type { Resource } from '../controlplane/model/resource.js';
import { ApiClient, withServerOptions, type ServerOptions } from './api-client.js';
import { isRecord } from '../lib/is-record.js';

/** The model parts apply needs, loaded on use (see api-client.ts for why). */
interface Model {
  validateResource: (typeof import('../controlplane/model/validate.js'))['validateResource'];
  findKind: (typeof import('../controlplane/model/kinds.js'))['findKind'];
}

async function loadModel(): Promise<Model> {
  const [{ validateResource }, { findKind }] = await Promise.all([import('../controlplane/model/validate.js'), import('../controlplane/model/kinds.js')]);
  return { validateResource, findKind };
}

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

export function registerApplyCommand(program: Command): void {
  withServerOptions(
    program
      .command('apply')
      .description('create or update the resources in a YAML or JSON file (multiple documents allowed)')
      .requiredOption('-f, --filename <file>', 'the file, or - for standard input'),
  ).action(async (opts: ServerOptions & { filename: string }) => {
    const source = opts.filename === '-' ? 'stdin' : opts.filename;
    const text = opts.filename === '-' ? await readStdin() : await readFile(opts.filename, 'utf8').catch((err: unknown) => {
      throw new Error(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    });
    const model = await loadModel();
    const resources = withListItems(await parseManifests(text, source), source).map(({ doc, where }) => admit(model, doc, opts.namespace, where));
    if (resources.length === 0) throw new Error(`${source}: no documents to apply`);
    const client = new ApiClient(opts.server, opts.token);
    for (const resource of resources) {
      const outcome = await applyOne(client, model.findKind(resource.kind)!, resource);
      process.stdout.write(`${resource.kind.toLowerCase()}/${resource.metadata.name} ${outcome}\n`);
    }
  });
}

/** Every non-empty document of a multi-document YAML (or JSON) text. */
export async function parseManifests(text: string, source: string): Promise<unknown[]> {
  // Loaded on use: the yaml package costs ~8 MB of RSS, and `weft proxy` shares this entry point.
  const { parseAllDocuments } = await import('yaml');
  return parseAllDocuments(text, { uniqueKeys: true })
    .map((doc, i) => {
      const error = doc.errors[0];
      // The parser's first line already ends with `at line L, column C`.
      if (error !== undefined) throw new Error(`${source}: document ${i + 1}: invalid YAML: ${error.message.split('\n')[0]!.replace(/:$/, '')}`);
      try {
        return doc.toJS({ maxAliasCount: 100 }) as unknown;
      } catch (err) {
        // An alias bomb ("Excessive alias count ...") is refused here, not by the parser.
        throw new Error(`${source}: document ${i + 1}: invalid YAML: ${(err as Error).message}`, { cause: err });
      }
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

/**
 * Each document with where it came from; a list (`weft get KIND -o yaml|json`
 * prints a `<Kind>List`, kubectl a `List`) stands for its items, as in kubectl.
 */
function withListItems(docs: readonly unknown[], source: string): Array<{ doc: unknown; where: string }> {
  return docs.flatMap((doc, i) => {
    const where = `${source}: document ${i + 1}`;
    if (!isRecord(doc) || typeof doc['kind'] !== 'string' || !doc['kind'].endsWith('List') || !Array.isArray(doc['items'])) return [{ doc, where }];
    return doc['items'].map((item: unknown, j) => ({ doc: item, where: `${where}: items[${j}]` }));
  });
}

/** The document as the server will store it (defaults applied), or an error naming the field. */
function admit(model: Model, doc: unknown, namespace: string, where: string): Resource {
  const result = model.validateResource(withNamespace(model, doc, namespace));
  if (!result.ok) {
    const first = result.errors[0]!;
    const more = result.errors.length > 1 ? ` (and ${result.errors.length - 1} more)` : '';
    throw new Error(`${where}: ${first.path}: ${first.message}${more}`);
  }
  return result.resource;
}

/** Namespaced documents without metadata.namespace go to `--namespace`; a document's own namespace wins. */
function withNamespace(model: Model, doc: unknown, namespace: string): unknown {
  if (!isRecord(doc) || !isRecord(doc['metadata']) || doc['metadata']['namespace'] !== undefined) return doc;
  const kind = typeof doc['kind'] === 'string' ? model.findKind(doc['kind']) : undefined;
  if (kind === undefined || !kind.namespaced) return doc;
  return { ...doc, metadata: { ...doc['metadata'], namespace } };
}

export async function applyOne(client: ApiClient, kind: KindInfo, desired: Resource): Promise<ApplyOutcome> {
  const current = await client.get(kind, desired.metadata.namespace, desired.metadata.name);
  const { status: _serverOwned, ...body } = desired;
  if (current === undefined) {
    await client.create(kind, { ...body, metadata: withoutVersion(desired.metadata) });
    return 'created';
  }
  if (sameDesiredState(current, desired)) return 'unchanged';
  // Conditional on what we compared against: a concurrent writer makes this fail with 409, not vanish.
  await client.replace(kind, { ...body, metadata: { ...withoutVersion(desired.metadata), resourceVersion: current.metadata.resourceVersion! } });
  return 'configured';
}

/** What `apply` owns: labels, annotations and spec (status and server-set metadata are not compared). */
function sameDesiredState(current: Resource, desired: Resource): boolean {
  return (
    current.apiVersion === desired.apiVersion &&
    isDeepStrictEqual(current.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
    isDeepStrictEqual(current.metadata.annotations ?? {}, desired.metadata.annotations ?? {}) &&
    isDeepStrictEqual(current.spec, desired.spec)
  );
}

function withoutVersion(metadata: Resource['metadata']): Resource['metadata'] {
  const { resourceVersion: _fromTheFile, ...rest } = metadata;
  return rest;
}


async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
