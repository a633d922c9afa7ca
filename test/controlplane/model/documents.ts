/** Builders and assertions shared by the model tests. */
import assert from 'node:assert/strict';
import { findKind } from '../../../src/controlplane/model/kinds.js';
import type { Resource } from '../../../src/controlplane/model/resource.js';
import { validateResource } from '../../../src/controlplane/model/validate.js';

/** A document of `kind` (its own apiVersion) named `name` with `spec`. */
export function documentOf(kind: string, spec: unknown, metadata: Record<string, unknown> = { name: 'example' }): Record<string, unknown> {
  const info = findKind(kind);
  assert.ok(info, `test bug: unknown kind ${kind}`);
  return { apiVersion: info.apiVersion, kind, metadata, spec };
}

export function assertValid(doc: unknown): Resource {
  const result = validateResource(doc);
  if (!result.ok) assert.fail(`expected valid, got ${JSON.stringify(result.errors, null, 2)}`);
  return result.resource;
}

/**
 * Asserts the document is rejected with exactly these error paths (in any
 * order), each message containing its expected fragment.
 */
export function assertErrors(doc: unknown, expected: Array<[path: string, messageFragment: string]>): void {
  const result = validateResource(doc);
  if (result.ok) assert.fail(`expected errors at ${expected.map(([p]) => p).join(', ')}, but the document is valid`);
  const actual = [...result.errors].sort((a, b) => a.path.localeCompare(b.path));
  const wanted = [...expected].sort(([a], [b]) => a.localeCompare(b));
  assert.deepEqual(
    actual.map((e) => e.path),
    wanted.map(([path]) => path),
    `error paths differ; got ${JSON.stringify(result.errors, null, 2)}`,
  );
  actual.forEach((error, i) => {
    const fragment = (wanted[i] as [string, string])[1];
    assert.ok(error.message.includes(fragment), `${error.path}: expected a message containing ${JSON.stringify(fragment)}, got ${JSON.stringify(error.message)}`);
  });
}
