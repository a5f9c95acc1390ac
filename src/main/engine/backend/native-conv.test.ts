/**
 * The native (ONNX Runtime) convolution kernels give the cpu backend's results (tfjs's
 * reference) for Conv2D, FusedConv2D and both gradients across strides, paddings, odd and
 * even sizes, channel counts and batch sizes, whole or cut across two kernel threads; they stay
 * out when disabled; and a ResNet-20 training step gives the same gradients with and without them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { buildArchitecture } from '../model/architectures';
import {
  isNativeKernelRegistered,
  nativeKernelsStatus,
  registerNativeConvKernels,
  setNativeKernelMinMacs,
  setNativeKernelThreads,
  unregisterNativeConvKernels,
} from './native-conv';
import { type ConvGeometry, filterGradientAsConv, filterGradientGraph } from './native-conv-graphs';
import { helperFailure, helperPartCount, helpersStarted, kernelParts } from './ort-helpers';
import { cachedSessionCount, clearSessions } from './ort-session-cache';
import { registerWasmBackend } from './wasm-backend';
import { randomArray, relativeError } from '../testing/numeric';

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  fused?: boolean;
}

/** y, dx, dW (and db) of Σ(conv(x, W) · dy) on `backend`. */
async function convResults(backend: 'cpu' | 'wasm', c: Case, seed: number): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  const results = tf.tidy(() => {
    const x = tf.tensor4d(randomArray(tf.util.sizeFromShape(c.x), seed), c.x);
    const w = tf.tensor4d(randomArray(tf.util.sizeFromShape(c.filter), seed + 1), c.filter);
    const b = tf.tensor1d(randomArray(c.filter[3], seed + 2));
    const f = (xi: tf.Tensor4D, wi: tf.Tensor4D, bi: tf.Tensor1D) =>
      c.fused
        ? tf.fused.conv2d({ x: xi, filter: wi, bias: bi, strides: c.strides, pad: c.pad, activation: 'relu' })
        : tf.conv2d(xi, wi, c.strides, c.pad);
    const y = f(x, w, b);
    const dy = tf.tensor(randomArray(y.size, seed + 3), y.shape);
    const loss = (...args: tf.Tensor[]) =>
      tf.sum(tf.mul(f(args[0] as tf.Tensor4D, args[1] as tf.Tensor4D, (args[2] ?? b) as tf.Tensor1D), dy));
    return [y, ...tf.grads(loss)(c.fused ? [x, w, b] : [x, w])];
  });
  const data = await Promise.all(results.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(results);
  return data;
}

const CASES: Case[] = [
  { x: [1, 8, 8, 3], filter: [3, 3, 3, 8], strides: 1, pad: 'same' },
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { x: [2, 10, 10, 5], filter: [3, 3, 5, 7], strides: 2, pad: 'same' },
  { x: [3, 9, 7, 4], filter: [3, 3, 4, 5], strides: 1, pad: 'valid' },
  { x: [2, 10, 11, 4], filter: [3, 3, 4, 4], strides: 2, pad: 'valid' },
  { x: [2, 8, 8, 6], filter: [1, 1, 6, 9], strides: 2, pad: 'valid' },
  { x: [2, 7, 7, 4], filter: [5, 5, 4, 3], strides: 2, pad: 'same' },
  {
    x: [2, 8, 9, 3],
    filter: [2, 3, 3, 4],
    strides: 2,
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  { x: [4, 12, 12, 16], filter: [3, 3, 16, 32], strides: 2, pad: 'same' },
  // One input channel: dW as a convolution (5×5, stride 1), and through one im2col Gemm
  // instead of a Gemm per tap (3×3, stride 2).
  { x: [2, 10, 10, 1], filter: [5, 5, 1, 4], strides: 1, pad: 'same' },
  { x: [2, 11, 9, 1], filter: [3, 3, 1, 5], strides: 2, pad: 'valid' },
  // Stride 1 into at least 16 channels: dx as the flipped-filter Conv (asymmetric 'same'
  // padding of an even filter, a 5×5, explicit pads); explicit pads beyond k − 1, and fewer
  // channels, stay on ConvTranspose.
  { x: [2, 7, 6, 16], filter: [2, 4, 16, 3], strides: 1, pad: 'same' },
  { x: [2, 9, 9, 16], filter: [5, 5, 16, 6], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 4], filter: [5, 5, 4, 6], strides: 1, pad: 'same' },
  {
    x: [2, 8, 9, 17],
    filter: [3, 2, 17, 4],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  {
    x: [2, 6, 6, 16],
    filter: [3, 3, 16, 4],
    strides: 1,
    pad: [
      [0, 0],
      [3, 1],
      [0, 2],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 8], filter: [3, 3, 8, 8], strides: 1, pad: 'same', fused: true },
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'valid', fused: true },
  // Large filters on few input channels at stride 1: dW as a convolution (asymmetric 'same'
  // padding of an even filter; 'valid'), as the 5×5 one-channel case above.
  { x: [2, 9, 8, 3], filter: [6, 5, 3, 4], strides: 1, pad: 'same' },
  { x: [3, 10, 9, 2], filter: [5, 5, 2, 3], strides: 1, pad: 'valid' },
];

/** The geometry of a stride-1, undilated convolution of `input` by `filter` with `pad` (top, bottom, left, right). */
function geometry(
  input: [number, number, number, number],
  filter: [number, number, number, number],
  pad: [number, number, number, number],
  stride = 1,
): ConvGeometry {
  const [batch, inHeight, inWidth, inChannels] = input;
  const [filterHeight, filterWidth, , outChannels] = filter;
  const [top, bottom, left, right] = pad;
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outHeight: Math.floor((inHeight + top + bottom - filterHeight) / stride) + 1,
    outWidth: Math.floor((inWidth + left + right - filterWidth) / stride) + 1,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight: stride,
    strideWidth: stride,
    dilationHeight: 1,
    dilationWidth: 1,
    top,
    bottom,
    left,
    right,
  };
}

describe('the filter gradient graph', () => {
  it('is one Conv for large filters on few input channels at stride 1, else Gemms', () => {
    const ops = (g: ConvGeometry): string[] => filterGradientGraph(g).nodes.map((n) => n.op);
    // LeNet's first layer: 5×5, one channel into 6, 'same'.
    const lenet = geometry([64, 28, 28, 1], [5, 5, 1, 6], [2, 2, 2, 2]);
    expect(filterGradientAsConv(lenet)).toBe(true);
    expect(ops(lenet)).toEqual(['Transpose', 'Transpose', 'Conv', 'Transpose']);
    // 3×3 on one channel: one im2col Gemm after 9 Slices.
    const small = geometry([64, 28, 28, 1], [3, 3, 1, 32], [1, 1, 1, 1]);
    expect(filterGradientAsConv(small)).toBe(false);
    expect(ops(small).filter((op) => op === 'Gemm')).toHaveLength(1);
    expect(ops(small).filter((op) => op === 'Slice')).toHaveLength(9);
    // 5×5 on 6 channels (LeNet's second layer): a Gemm per tap.
    expect(
      ops(geometry([64, 14, 14, 6], [5, 5, 6, 16], [0, 0, 0, 0])).filter((op) => op === 'Gemm'),
    ).toHaveLength(25);
    // Stride 2: the Gemms.
    expect(filterGradientAsConv(geometry([2, 11, 11, 1], [5, 5, 1, 4], [2, 2, 2, 2], 2))).toBe(false);
  });
});

const status = nativeKernelsStatus();

describe.skipIf(!status.available)('native convolution kernels (ONNX Runtime)', () => {
  beforeAll(async () => {
    await registerWasmBackend();
    registerNativeConvKernels();
    setNativeKernelMinMacs(0);
  });
  afterAll(() => {
    setNativeKernelMinMacs(2_000_000);
    setNativeKernelThreads(1);
  });

  it('are registered on wasm when onnxruntime-node loads', () => {
    for (const name of [tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter]) {
      expect(isNativeKernelRegistered(name), name).toBe(true);
    }
  });

  it.each(CASES.map((c, i) => [JSON.stringify(c), c, i] as const))(
    'match the cpu backend: %s',
    async (_, c, i) => {
      clearSessions();
      const expected = await convResults('cpu', c, 100 + i);
      const actual = await convResults('wasm', c, 100 + i);
      // Every convolution of the case ran natively: forward, dx, dW (and, fused, the
      // FusedConv2D outside the gradient; tfjs unfuses relu where it takes gradients).
      expect(cachedSessionCount()).toBe(c.fused ? 4 : 3);
      actual.forEach((values, k) => {
        expect(relativeError(values, expected[k] as Float32Array), `output ${k}`).toBeLessThan(1e-4);
      });
    },
  );

  it.each([
    // 4.7 M multiply-adds: over MIN_SPLIT_MACS, so each kernel is cut in two along the batch.
    { x: [8, 16, 16, 16], filter: [3, 3, 16, 16], strides: 1, pad: 'same', fused: true },
    // An odd batch (parts of 4 and 3), one input channel: the filter gradient as one Conv.
    { x: [7, 33, 33, 1], filter: [5, 5, 1, 64], strides: 1, pad: 'valid' },
  ] as Case[])('give the same results on two kernel threads, a part on a helper thread: %j', async (c) => {
    setNativeKernelThreads(2);
    await helpersStarted();
    expect(helperFailure()).toBeUndefined();
    expect(kernelParts()).toBe(2);
    const before = helperPartCount();
    const expected = await convResults('cpu', c, 7);
    const actual = await convResults('wasm', c, 7);
    // The forward pass (outside the gradient and again inside it), dx and dW each sent one part
    // to the helper.
    expect(helperPartCount() - before).toBe(4);
    actual.forEach((values, k) =>
      expect(relativeError(values, expected[k] as Float32Array), `output ${k}`).toBeLessThan(1e-4),
    );
    // The same bits again: the cut depends on the batch and the thread count alone.
    const again = await convResults('wasm', c, 7);
    again.forEach((values, k) => expect(Array.from(values)).toEqual(Array.from(actual[k]!)));
    setNativeKernelThreads(1);
    expect(kernelParts()).toBe(1);
  });

  it('give the same ResNet-20 training-step gradients as the wasm kernels', async () => {
    setNativeKernelMinMacs(2_000_000);
    expect(await tf.setBackend('wasm')).toBe(true);
    const model = buildArchitecture('resnet20', [32, 32, 3], 10, 1);
    const x = tf.tensor4d(randomArray(8 * 32 * 32 * 3, 5), [8, 32, 32, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const step = async (): Promise<Float32Array[]> => {
      const { grads } = tf.variableGrads(() =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor),
      );
      const names = Object.keys(grads).sort();
      const data = await Promise.all(names.map((n) => grads[n]!.data() as Promise<Float32Array>));
      tf.dispose(Object.values(grads));
      return data;
    };
    clearSessions();
    const native = await step();
    expect(cachedSessionCount()).toBeGreaterThan(0);
    unregisterNativeConvKernels();
    expect(isNativeKernelRegistered(tf.Conv2D)).toBe(false);
    const wasm = await step();
    registerNativeConvKernels();
    setNativeKernelMinMacs(0);
    expect(native.length).toBe(wasm.length);
    native.forEach((values, k) =>
      expect(relativeError(values, wasm[k] as Float32Array), `grad ${k}`).toBeLessThan(1e-3),
    );
    tf.dispose([x, labels]);
    model.dispose();
  }, 120_000);
});

describe('the native kernels switch', () => {
  it('POLLARD_NATIVE_KERNELS=0 leaves the wasm kernels in place', async () => {
    await registerWasmBackend();
    unregisterNativeConvKernels();
    const before = tf.getKernel(tf.Conv2D, 'wasm');
    const off = registerNativeConvKernels({ POLLARD_NATIVE_KERNELS: '0' });
    expect(off).toMatchObject({
      available: false,
      reason: expect.stringContaining('POLLARD_NATIVE_KERNELS'),
    });
    expect(tf.getKernel(tf.Conv2D, 'wasm')).toBe(before);
    for (const name of [tf.Conv2D, tf.FusedConv2D, tf.Conv2DBackpropInput, tf.Conv2DBackpropFilter]) {
      expect(isNativeKernelRegistered(name)).toBe(false);
    }
    expect(nativeKernelsStatus({ POLLARD_NATIVE_KERNELS: '0' }).available).toBe(false);
  });

  it('rejects a thread count that is not a positive integer', () => {
    expect(() => setNativeKernelThreads(0)).toThrow();
    expect(() => setNativeKernelThreads(1.5)).toThrow();
  });
});
