/**
 * Dense-layer products in ONNX Runtime's Gemm give the cpu backend's numbers (forward, and the
 * input gradient through transB), leave transposed-a products and small ones to XNNPACK, and
 * stay out when the native kernels are disabled.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { randomArray, relativeError } from '../testing/numeric';
import { MIN_NATIVE_GEMM_MACS } from './native-matmul';
import { cachedSessionCount, clearSessions } from './ort-session-cache';
import { registerWasmBackend } from './wasm-backend';

async function product(
  backend: 'cpu' | 'wasm',
  aShape: [number, number],
  bShape: [number, number],
  transposeA: boolean,
  transposeB: boolean,
): Promise<Float32Array> {
  expect(await tf.setBackend(backend)).toBe(true);
  return tf.tidy(() => {
    const a = tf.tensor2d(randomArray(aShape[0] * aShape[1], 5), aShape);
    const b = tf.tensor2d(randomArray(bShape[0] * bShape[1], 6), bShape);
    return tf.matMul(a, b, transposeA, transposeB).dataSync() as Float32Array;
  });
}

beforeAll(async () => {
  await registerWasmBackend();
});

afterEach(() => {
  delete process.env.POLLARD_NATIVE_KERNELS;
  clearSessions();
});

describe('native matrix products (ONNX Runtime Gemm)', () => {
  it.each([
    [[64, 400], [400, 120], false, 1],
    [[64, 120], [400, 120], true, 1],
    [[33, 130], [130, 67], false, 1],
  ] as const)(
    '%j · %j (transposeB %s) equals cpu within 1e-5 and runs in ORT',
    async (aShape, bShape, transposeB, sessions) => {
      clearSessions();
      const expected = await product('cpu', [...aShape], [...bShape], false, transposeB);
      const actual = await product('wasm', [...aShape], [...bShape], false, transposeB);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
      expect(cachedSessionCount()).toBe(sessions);
    },
  );

  it('leaves transposed-a and small products to XNNPACK', async () => {
    clearSessions();
    expect(64 * 20 * 30).toBeLessThan(MIN_NATIVE_GEMM_MACS);
    for (const [aShape, bShape, transposeA] of [
      [[400, 64], [400, 120], true],
      [[64, 20], [20, 30], false],
    ] as const) {
      const expected = await product('cpu', [...aShape], [...bShape], transposeA, false);
      const actual = await product('wasm', [...aShape], [...bShape], transposeA, false);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    }
    expect(cachedSessionCount()).toBe(0);
  });

  it('stays out with POLLARD_NATIVE_KERNELS=0', async () => {
    clearSessions();
    process.env.POLLARD_NATIVE_KERNELS = '0';
    const expected = await product('cpu', [64, 400], [400, 120], false, false);
    const actual = await product('wasm', [64, 400], [400, 120], false, false);
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    expect(cachedSessionCount()).toBe(0);
  });
});
