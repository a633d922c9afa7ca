/** Checks shared by several kinds' `validateSemantics`: duplicate names, Kubernetes label syntax. */
import { fieldPath, type FieldError } from './field-error.js';
import { dns1123SubdomainProblem } from './formats.js';

/**
 * One error per item whose key repeats an earlier item's key, at that item's
 * `keyPath`; e.g. two ports named "http".
 */
export function duplicateErrors<T>(
  items: readonly T[],
  keyOf: (item: T) => string | number,
  keyPath: (index: number) => string,
  what: string,
): FieldError[] {
  const firstIndex = new Map<string | number, number>();
  const errors: FieldError[] = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, index);
    else errors.push({ path: keyPath(index), message: `duplicate ${what} ${JSON.stringify(key)} (first used at ${keyPath(first)})` });
  });
  return errors;
}

// Kubernetes label syntax: `[prefix/]name`; name and value are at most 63 characters
// of alphanumerics, '-', '_' and '.', starting and ending alphanumeric (a value may be empty).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && dns1123SubdomainProblem(prefix) !== undefined) {
    return `invalid label key ${JSON.stringify(key)}: the prefix before "/" must be a DNS-1123 subdomain`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return `invalid label key ${JSON.stringify(key)}: the name must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && LABEL_NAME.test(value))) return undefined;
  return `invalid label value ${JSON.stringify(value)}: at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
}

/** Errors for every key and value of a label map (metadata.labels, selectors) that Kubernetes would reject. */
export function labelMapErrors(labels: Readonly<Record<string, string>> | undefined, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem !== undefined) errors.push({ path: fieldPath(path, key), message: problem });
  }
  return errors;
}
