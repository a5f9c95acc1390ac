/**
 * A protobuf wire-format reader for ONNX files (the decoding half of backend/onnx-model.ts).
 * Every length is checked against the bytes left before anything is sliced or allocated; errors
 * name the file and the problem.
 */
import { badInput } from '../../../../shared/errors';

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

export interface Field {
  field: number;
  wireType: number;
  /** The value of a varint field (int64 read as a JS number; exact below 2^53). */
  int: number;
  /** The bytes of a length-delimited or fixed field (a view into the file, not a copy). */
  bytes: Uint8Array;
}

export class WireReader {
  private pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly file: string,
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  private fail(problem: string): never {
    throw badInput(this.file, `truncated or corrupt ONNX file: ${this.what}: ${problem}`);
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('a varint runs past the end of the data');
      const byte = this.buf[this.pos++] ?? 0;
      if (i === 9) {
        // The tenth byte only carries the sign of a negative int64.
        return byte & 1 ? result - 2 ** 64 : result;
      }
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return result;
    }
    return this.fail('a varint is longer than 10 bytes');
  }

  private take(length: number): Uint8Array {
    const left = this.buf.length - this.pos;
    if (length < 0 || length > left) {
      this.fail(`a field declares ${length} bytes but only ${left} remain`);
    }
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  next(): Field {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) this.fail('field number 0');
    if (wireType === VARINT) return { field, wireType, int: this.varint(), bytes: EMPTY };
    if (wireType === FIXED64) return { field, wireType, int: 0, bytes: this.take(8) };
    if (wireType === FIXED32) return { field, wireType, int: 0, bytes: this.take(4) };
    if (wireType === LENGTH_DELIMITED) {
      return { field, wireType, int: 0, bytes: this.take(this.varint()) };
    }
    return this.fail(`unsupported wire type ${wireType} in field ${field}`);
  }
}

const EMPTY = new Uint8Array(0);

/** Visits each field of one message. */
export function eachField(bytes: Uint8Array, file: string, what: string, visit: (f: Field) => void): void {
  const reader = new WireReader(bytes, file, what);
  while (!reader.done) visit(reader.next());
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Repeated int64: one varint per field, or a packed run of varints. */
export function pushInts(f: Field, out: number[], file: string, what: string): void {
  if (f.wireType === VARINT) {
    out.push(f.int);
    return;
  }
  const reader = new WireReader(f.bytes, file, what);
  while (!reader.done) out.push(reader.varint());
}

/** Repeated float: one fixed32 per field, or a packed run. */
export function pushFloats(f: Field, out: number[], file: string, what: string): void {
  if (f.bytes.length % 4 !== 0) {
    throw badInput(file, `truncated or corrupt ONNX file: ${what}: packed floats of ${f.bytes.length} bytes`);
  }
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  for (let i = 0; i < f.bytes.length; i += 4) out.push(view.getFloat32(i, true));
}
