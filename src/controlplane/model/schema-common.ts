/**
 * Building blocks for the kinds' TypeBox schemas. Every object is closed
 * (`additionalProperties: false`: an unknown field is an error, never ignored),
 * and only keywords a Kubernetes structural schema also understands are used,
 * so the same schema validates the API and generates the CRDs (see crd.ts).
 */
import { Type, type ObjectOptions, type SchemaOptions, type TProperties, type TUnsafe } from '@sinclair/typebox';
import type { StringFormatName } from './formats.js';

export function StrictObject<P extends TProperties>(properties: P, options: ObjectOptions = {}) {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/** A string enum as one `enum` keyword (TypeBox's union of literals would become anyOf, which CRDs cannot default or describe well). */
export function StringEnum<const V extends readonly string[]>(values: V, options: SchemaOptions = {}): TUnsafe<V[number]> {
  return Type.Unsafe<V[number]>({ ...options, type: 'string', enum: [...values] });
}

export function FormattedString(format: StringFormatName, options: SchemaOptions = {}) {
  return Type.String({ ...options, format });
}

/** Map of string to string (labels, selectors, header filters); `valueFormat` constrains the values. */
export function StringMap(options: SchemaOptions & { valueFormat?: StringFormatName } = {}): TUnsafe<Record<string, string>> {
  const { valueFormat, ...rest } = options;
  const values: Record<string, unknown> = valueFormat === undefined ? { type: 'string' } : { type: 'string', format: valueFormat };
  return Type.Unsafe<Record<string, string>>({ ...rest, type: 'object', additionalProperties: values });
}

export function Duration(description: string) {
  return FormattedString('duration', { description });
}

export function Port(description = 'TCP port, 1-65535.') {
  return Type.Integer({ minimum: 1, maximum: 65535, description });
}

export function Percent(description: string, options: SchemaOptions = {}) {
  return Type.Number({ ...options, minimum: 0, maximum: 100, description });
}

/** The name of a Service in the resource's namespace. */
export function ServiceName(description: string) {
  return FormattedString('dns1123-label', { description });
}
