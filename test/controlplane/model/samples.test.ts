import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { KINDS } from '../../../src/controlplane/model/kinds.js';
import { findMissingReferences } from '../../../src/controlplane/model/references.js';
import { keyOf, type Resource, type ResourceKey } from '../../../src/controlplane/model/resource.js';
import { validateResource } from '../../../src/controlplane/model/validate.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SAMPLES = join(REPO_ROOT, 'samples/resources');
const sampleFiles = readdirSync(SAMPLES).filter((f) => f.endsWith('.yaml')).sort();

function loadSamples(): Array<{ file: string; resource: Resource }> {
  return sampleFiles.flatMap((file) =>
    parseAllDocuments(readFileSync(join(SAMPLES, file), 'utf8')).map((doc, i) => {
      assert.deepEqual(doc.errors, [], `${file} document ${i} parses`);
      const result = validateResource(doc.toJS());
      if (!result.ok) assert.fail(`${file} document ${i}: ${JSON.stringify(result.errors)}`);
      return { file, resource: result.resource };
    }),
  );
}

describe('samples/resources', () => {
  it('every document validates, and every kind has a sample', () => {
    const samples = loadSamples();
    assert.deepEqual(new Set(samples.map((s) => s.resource.kind)), new Set(KINDS.map((k) => k.kind)));
  });

  it('the samples reference only each other', () => {
    const samples = loadSamples();
    const present = new Set(samples.map(({ resource }) => JSON.stringify(keyOf(resource))));
    const exists = (key: ResourceKey) => present.has(JSON.stringify({ kind: key.kind, namespace: key.namespace, name: key.name }));
    for (const { file, resource } of samples) assert.deepEqual(findMissingReferences(resource, exists), [], file);
  });

  it('docs/resources.md shows every sample verbatim', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/resources.md'), 'utf8');
    for (const file of sampleFiles) {
      const text = readFileSync(join(SAMPLES, file), 'utf8').trimEnd();
      assert.ok(docs.includes(text), `docs/resources.md does not contain samples/resources/${file}`);
    }
  });
});
