import { describe, expect, it } from 'vitest';
import { tf } from '../tf';
import {
  dequantizeAffine,
  fakeQuantize,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  quantizeAffine,
  quantizeWeight,
  roundHalfEven,
} from './weight-quantization';

// Reference values computed with NumPy 2.4 following tensorflowjs_converter's quantize_weights
// (affine with zero nudging, np.round) and np.float16 casts.
const SAMPLE = new Float32Array([-0.7, -0.1, 0, 0.05, 0.3, 1.2, 0.123456]);

describe('quantizeAffine matches the tfjs converter', () => {
  it('uint8: codes, nudged min and scale', () => {
    const q = quantizeAffine(SAMPLE, 'uint8');
    expect(Array.from(q.data)).toEqual([0, 81, 94, 101, 134, 255, 111]);
    expect(q.min).toBe(-0.70039217004589);
    expect(q.scale).toBe(0.0074509805324030854);
    // Zero is exactly representable after nudging.
    expect(dequantizeAffine(q)[2]).toBe(0);
  });

  it('uint16: codes, nudged min and scale', () => {
    const q = quantizeAffine(SAMPLE, 'uint16');
    expect(Array.from(q.data)).toEqual([0, 20695, 24144, 25869, 34492, 65535, 28402]);
    expect(q.min).toBe(-0.6999862800557981);
    expect(q.scale).toBe(2.899214214942835e-5);
  });

  it('does not nudge a range that excludes zero, and stores a constant tensor as zeros', () => {
    const q = quantizeAffine(new Float32Array([0.5, 1.5, 2.0]), 'uint8');
    expect(Array.from(q.data)).toEqual([0, 170, 255]);
    expect(q.min).toBe(0.5);
    expect(q.scale).toBe(0.0058823529411764705);
    const constant = quantizeAffine(new Float32Array([0.25, 0.25]), 'uint8');
    expect(Array.from(constant.data)).toEqual([0, 0]);
    expect([constant.min, constant.scale]).toEqual([0.25, 1]);
    expect(Array.from(dequantizeAffine(constant))).toEqual([0.25, 0.25]);
  });

  it('refuses NaN weights instead of writing garbage', () => {
    expect(() => quantizeAffine(new Float32Array([1, NaN]), 'uint8')).toThrow(
      'quantizeAffine: weights hold NaN or Infinity',
    );
  });

  it('rounds halves to even like np.round', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, 2, 3]);
  });
});

describe('float16', () => {
  it('encodes like numpy astype(float16): rounding to even, subnormals, overflow', () => {
    const values = new Float32Array([
      1,
      1 / 3,
      65504,
      65520,
      1e-8,
      2 ** -25,
      3 * 2 ** -26,
      -2.5e-6,
      0.1,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
    ]);
    expect(Array.from(float32ToFloat16Bits(values))).toEqual([
      15360, 13653, 31743, 31744, 0, 0, 1, 32810, 11878, 15360, 15362,
    ]);
  });

  it('round-trips every half value exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = Array.from(all).filter((h) => (h & 0x7c00) !== 0x7c00);
    const bits = Uint16Array.from(finite);
    expect(Array.from(float32ToFloat16Bits(float16BitsToFloat32(bits)))).toEqual(finite);
  });
});

describe('the stored bytes decode in stock tfjs-core to exactly what fakeQuantize predicts', () => {
  const values = new Float32Array(1000);
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 12.9898) * 0.37 - 0.05;

  it.each(['uint8', 'uint16', 'float16'] as const)('%s', (dtype) => {
    const { bytes, quantization } = quantizeWeight(values, dtype);
    const decoded = tf.io.decodeWeights(bytes.slice().buffer, [
      { name: 'w', shape: [values.length], dtype: 'float32', quantization },
    ]);
    const tensor = decoded.w!;
    const fromTfjs = tensor.dataSync() as Float32Array;
    tensor.dispose();
    expect(Buffer.from(fromTfjs.buffer).equals(Buffer.from(fakeQuantize(values, dtype).buffer))).toBe(true);
    const maxError = Math.max(...Array.from(fromTfjs, (v, i) => Math.abs(v - values[i]!)));
    // Half a quantization step bounds the error: 0.74 / 255 / 2 for uint8, 0.74 / 65535 / 2 for uint16.
    const bound =
      dtype === 'uint8' ? 0.74 / 255 / 2 : dtype === 'uint16' ? 0.74 / 65535 / 2 : 2 ** -11 * 0.42;
    expect(maxError).toBeLessThanOrEqual(bound * 1.0001);
  });
});
