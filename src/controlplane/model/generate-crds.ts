/**
 * Writes one CRD YAML per kind into a directory:
 *   node dist/src/controlplane/model/generate-crds.js deploy/crds
 * test/controlplane/model/crd.test.ts fails when the committed files differ from this output.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from './crd.js';

const outDir = process.argv[2];
if (outDir === undefined || process.argv.length > 3) {
  process.stderr.write('usage: node dist/src/controlplane/model/generate-crds.js OUTPUT_DIR\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
for (const { fileName, content } of renderCrdFiles()) {
  writeFileSync(join(outDir, fileName), content);
  process.stdout.write(`wrote ${join(outDir, fileName)}\n`);
}
