/**
 * Reads a few top-level fields of an encoded protobuf message without decoding
 * the rest. The simulated ADS clients see every cluster of the mesh in each CDS
 * response (thousands per client per push); a full decode of each would cost
 * the worker processes more CPU than the control plane they measure.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export type FieldValue = number | Uint8Array;

function readVarint(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  for (let i = at; i < bytes.length; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    multiplier *= 128;
  }
  throw new RangeError(`protobuf: varint runs past the end of the message at byte ${at}`);
}

/**
 * The last value of each wanted field number (proto3 semantics for scalars):
 * varints as numbers, length-delimited fields as subarrays (strings, bytes,
 * nested messages). Other fields are skipped; groups are not supported.
 */
export function topLevelFields(bytes: Uint8Array, wanted: ReadonlySet<number>): Map<number, FieldValue> {
  const found = new Map<number, FieldValue>();
  let at = 0;
  while (at < bytes.length) {
    const tag = readVarint(bytes, at);
    const field = Math.floor(tag.value / 8);
    const wire = tag.value & 7;
    at = tag.next;
    switch (wire) {
      case WIRE_VARINT: {
        const varint = readVarint(bytes, at);
        if (wanted.has(field)) found.set(field, varint.value);
        at = varint.next;
        break;
      }
      case WIRE_FIXED64:
        at += 8;
        break;
      case WIRE_FIXED32:
        at += 4;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const length = readVarint(bytes, at);
        const end = length.next + length.value;
        if (end > bytes.length) throw new RangeError(`protobuf: field ${field} runs past the end of the message`);
        if (wanted.has(field)) found.set(field, bytes.subarray(length.next, end));
        at = end;
        break;
      }
      default:
        throw new RangeError(`protobuf: unsupported wire type ${wire} for field ${field}`);
    }
  }
  return found;
}

export function fieldString(value: FieldValue | undefined): string | undefined {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8') : undefined;
}
