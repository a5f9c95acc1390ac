/**
 * Weight quantization exactly as `tensorflowjs_converter --quantize_uint8 / _uint16 / _float16`
 * writes it, so that stock TensorFlow.js dequantizes what Pollard stores:
 *
 * - uint8 / uint16: per-tensor affine. min and max of the tensor (in float64); scale =
 *   (max − min) / qmax; when 0 lies in [min, max] the range is nudged so that 0 is exactly
 *   representable: zeroPoint = round(−min / scale), min' = −zeroPoint · scale,
 *   max' = qmax · scale + min'. Then q = round((clip(w, min', max') − min') / scale), rounding
 *   half to even as NumPy does. A constant tensor is stored as zeros with scale 1 and min = the
 *   constant. Arithmetic is float64 (NumPy ≥ 2 promotes the float32 weights against float64
 *   bounds the same way).
 * - Readers (tfjs-core `io.decodeWeights`) compute w = q · scale + min in float64 and store it
 *   in a Float32Array; `dequantizeAffine` does the same, bit for bit.
 * - float16: IEEE 754 half precision, round to nearest even (NumPy's `astype(np.float16)`),
 *   overflow to ±Infinity.
 *
 * Fake-quantization for quantization-aware training should call `fakeQuantize`, which returns
 * exactly what a reader of the exported model will see.
 */

import type { QuantDtype } from '../../../shared/methods';

/** The stored weight types (the spec's QUANT_DTYPES). */
export type WeightQuantization = QuantDtype;

export interface AffineQuantized {
  dtype: 'uint8' | 'uint16';
  data: Uint8Array | Uint16Array;
  min: number;
  scale: number;
}

/** The tfjs manifest entry for a quantized weight (`quantization` field). */
export type ManifestQuantization =
  | { dtype: 'uint8' | 'uint16'; min: number; scale: number; original_dtype: 'float32' }
  | { dtype: 'float16'; original_dtype: 'float32' };

const QUANT_MAX = { uint8: 255, uint16: 65535 } as const;

/** NumPy's `np.round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Affine per-tensor quantization, as the tfjs converter does it. */
export function quantizeAffine(values: Float32Array, dtype: 'uint8' | 'uint16'): AffineQuantized {
  const data = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  if (values.length === 0) return { dtype, data, min: 0, scale: 1 };
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError('quantizeAffine: weights hold NaN or Infinity');
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return { dtype, data, min, scale: 1 };
  const qmax = QUANT_MAX[dtype];
  const scale = (max - min) / qmax;
  let low = min;
  let high = max;
  if (min <= 0 && 0 <= max) {
    const zeroPoint = roundHalfEven((0 - min) / scale);
    low = -zeroPoint * scale;
    high = qmax * scale + low;
  }
  for (let i = 0; i < values.length; i++) {
    const clipped = Math.min(Math.max(values[i]!, low), high);
    data[i] = roundHalfEven((clipped - low) / scale);
  }
  return { dtype, data, min: low, scale };
}

/** What tfjs-core's `decodeWeights` gives back for an affine-quantized float32 weight. */
export function dequantizeAffine(quantized: Pick<AffineQuantized, 'data' | 'min' | 'scale'>): Float32Array {
  const out = new Float32Array(quantized.data.length);
  for (let i = 0; i < out.length; i++) out[i] = quantized.data[i]! * quantized.scale + quantized.min;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 to IEEE half bits, rounding to nearest even. */
function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 | (mantissa >>> 13) : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (up to Infinity).
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i]!);
  return out;
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[i] = mantissa === 0 ? sign * Infinity : NaN;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** Quantize one float32 weight for the manifest: stored bytes plus the manifest's quantization entry. */
export function quantizeWeight(
  values: Float32Array,
  dtype: WeightQuantization,
): { bytes: Uint8Array; quantization: ManifestQuantization } {
  if (dtype === 'float16') {
    const bits = float32ToFloat16Bits(values);
    return {
      bytes: new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength),
      quantization: { dtype: 'float16', original_dtype: 'float32' },
    };
  }
  const q = quantizeAffine(values, dtype);
  return {
    bytes: new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength),
    quantization: { dtype, min: q.min, scale: q.scale, original_dtype: 'float32' },
  };
}

/** The values a reader of the quantized export will see: for QAT fake-quant and for reference checks. */
export function fakeQuantize(values: Float32Array, dtype: WeightQuantization): Float32Array {
  if (dtype === 'float16') return float16BitsToFloat32(float32ToFloat16Bits(values));
  return dequantizeAffine(quantizeAffine(values, dtype));
}
