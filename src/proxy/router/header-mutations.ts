/**
 * Envoy's `*_headers_to_add` / `*_headers_to_remove`, compiled into flat step
 * lists. Each configuration level contributes its removes, then its adds
 * (Envoy's HeaderParser: remove-before-add), and the route table concatenates
 * levels in Envoy's order. Values are literal: `%...%` substitution formatters
 * are not supported.
 */
import { ConfigError } from '../../lib/errors.js';
import type { HeaderMap } from '../http1/headers.js';
import type { HeaderValueOption } from '../config/types.js';

export type MutationOp = 'remove' | HeaderValueOption['appendAction'];

export interface MutationStep {
  readonly op: MutationOp;
  /** As configured (sent with this casing when added). */
  readonly name: string;
  readonly lowerName: string;
  readonly value: string;
}

/** Envoy's HeaderUtility::isModifiableHeader: pseudo-headers and Host are off limits. */
function checkModifiable(name: string, path: string): void {
  if (name.startsWith(':') || name.toLowerCase() === 'host') {
    throw new ConfigError(path, `header ${JSON.stringify(name)} may not be modified (pseudo-headers and host are reserved)`);
  }
}

/**
 * One level's steps for one direction. `configPath` is the level's location,
 * `field` is 'request' or 'response' (for `request_headers_to_add` etc.).
 */
export function compileMutationLevel(
  toAdd: readonly HeaderValueOption[],
  toRemove: readonly string[],
  configPath: string,
  field: 'request' | 'response',
): MutationStep[] {
  const steps: MutationStep[] = [];
  toRemove.forEach((name, i) => {
    checkModifiable(name, `${configPath}.${field}_headers_to_remove[${i}]`);
    steps.push({ op: 'remove', name, lowerName: name.toLowerCase(), value: '' });
  });
  toAdd.forEach((option, i) => {
    checkModifiable(option.key, `${configPath}.${field}_headers_to_add[${i}].header.key`);
    // Envoy drops options whose value is empty (keep_empty_value defaults to false).
    if (option.value === '') return;
    steps.push({ op: option.appendAction, name: option.key, lowerName: option.key.toLowerCase(), value: option.value });
  });
  return steps;
}

export function applyMutations(headers: HeaderMap, steps: readonly MutationStep[]): void {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    switch (step.op) {
      case 'remove':
        headers.remove(step.lowerName);
        break;
      case 'APPEND_IF_EXISTS_OR_ADD':
        headers.add(step.name, step.value);
        break;
      case 'ADD_IF_ABSENT':
        if (!headers.has(step.lowerName)) headers.add(step.name, step.value);
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        headers.set(step.name, step.value);
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (headers.has(step.lowerName)) headers.set(step.name, step.value);
        break;
    }
  }
}
