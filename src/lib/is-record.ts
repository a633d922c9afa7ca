/** A plain JSON/YAML object (not null, not an array): the shape a document or a field map must have. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
