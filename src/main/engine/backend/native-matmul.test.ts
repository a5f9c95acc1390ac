/**
 * Dense-layer products in ONNX Runtime's Gemm give the cpu backend's numbers (forward, the
 * input gradient through transB, the weight gradient through transA), whole or cut across two
 * kernel threads, leave small ones to XNNPACK, and stay out when the native kernels are disabled.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { randomArray, relativeError } from '../testing/numeric';
import { setNativeKernelThreads } from './native-conv';
import { MIN_NATIVE_GEMM_MACS } from './native-matmul';
import { MIN_SPLIT_MACS } from './native-parts';
import { helperPartCount, helpersStarted } from './ort-helpers';
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
    [[64, 400], [400, 120], false, false],
    [[64, 120], [400, 120], false, true],
    [[64, 400], [64, 120], true, false],
    [[130, 33], [67, 130], true, true],
    [[33, 130], [130, 67], false, false],
  ] as const)(
    '%j · %j (transposeA %s, transposeB %s) equals cpu within 1e-5 and runs in ORT',
    async (aShape, bShape, transposeA, transposeB) => {
      clearSessions();
      const expected = await product('cpu', [...aShape], [...bShape], transposeA, transposeB);
      const actual = await product('wasm', [...aShape], [...bShape], transposeA, transposeB);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
      expect(cachedSessionCount()).toBe(1);
    },
  );

  it('leaves small products to XNNPACK, transposed or not', async () => {
    clearSessions();
    expect(64 * 20 * 30).toBeLessThan(MIN_NATIVE_GEMM_MACS);
    for (const [aShape, bShape, transposeA, transposeB] of [
      [[64, 20], [20, 30], false, false],
      [[20, 64], [20, 30], true, false],
      [[64, 20], [30, 20], false, true],
    ] as const) {
      const expected = await product('cpu', [...aShape], [...bShape], transposeA, transposeB);
      const actual = await product('wasm', [...aShape], [...bShape], transposeA, transposeB);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    }
    expect(cachedSessionCount()).toBe(0);
  });

  it.each([
    [[64, 400], [400, 200], false, false],
    [[64, 200], [400, 200], false, true],
    [[64, 400], [64, 200], true, false],
  ] as const)(
    'cuts %j · %j (transposeA %s, transposeB %s) across two kernel threads, as cpu within 1e-5',
    async (aShape, bShape, transposeA, transposeB) => {
      expect(64 * 400 * 200).toBeGreaterThanOrEqual(MIN_SPLIT_MACS);
      setNativeKernelThreads(2);
      await helpersStarted();
      const before = helperPartCount();
      const expected = await product('cpu', [...aShape], [...bShape], transposeA, transposeB);
      const actual = await product('wasm', [...aShape], [...bShape], transposeA, transposeB);
      setNativeKernelThreads(1);
      expect(helperPartCount() - before).toBe(1);
      expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    },
  );

  it('stays out with POLLARD_NATIVE_KERNELS=0', async () => {
    clearSessions();
    process.env.POLLARD_NATIVE_KERNELS = '0';
    const expected = await product('cpu', [64, 400], [400, 120], false, false);
    const actual = await product('wasm', [64, 400], [400, 120], false, false);
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    expect(cachedSessionCount()).toBe(0);
  });
});
