/**
 * A problem with one field of a mesh resource, and the dotted paths that name
 * fields in error messages: `spec.backends[1].weight`, `metadata.labels["app.kubernetes.io/name"]`.
 */
export interface FieldError {
  /** Where the problem is; `(root)` for the document itself. */
  path: string;
  message: string;
}

export { displayPath, fieldPath, indexPath, pointerToPath, ROOT_PATH } from '../../lib/field-path.js';
