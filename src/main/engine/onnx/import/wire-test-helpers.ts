/**
 * Protocol-buffer wire writers for tests that build ONNX files by hand (proto.test.ts,
 * metadata-props.test.ts): a varint, a varint field, a length-delimited field.
 */

export function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** Field `field` as a varint (wire type 0). */
export const int = (field: number, value: number): number[] => [...varint(field * 8), ...varint(value)];

/** Field `field` as length-delimited bytes (wire type 2); a string is written as UTF-8. */
export const bytes = (field: number, value: ArrayLike<number> | string): number[] => {
  const b = typeof value === 'string' ? [...new TextEncoder().encode(value)] : Array.from(value);
  return [...varint(field * 8 + 2), ...varint(b.length), ...b];
};
