/**
 * PollardBatchNormForward for the wasm backend: the training-mode batch-norm forward pass
 * (see ./batch-norm-training) in two passes over the heap. Input x: [..., C]; scale (γ) and
 * offset (β): [C]. Outputs y (x's shape), the batch mean and the (biased) batch variance, [C]:
 *   pass 1: per channel, Σ x and Σ x² in float64 → μ = Σx/N, var = Σx²/N − μ²
 *           (in doubles the cancellation costs nothing that float32 can show);
 *   pass 2: y = x·k + (β − μ·k) with k = γ/√(var + ε).
 * Measured reason: as tf ops (`tf.moments` then `tf.batchNorm`) it is two Means — each of which
 * wasm runs by transposing the whole activation first —, a Sub, a Square and the batch norm:
 * about 150 ms of a 700 ms ResNet-20 step at batch 64. This kernel reads x twice and writes y once,
 * in WebAssembly SIMD (simd/) where available, else in JavaScript (channel-loops.ts).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { channelAffine, channelSums } from './channel-loops';
import { simdKernelsFor } from './simd/simd-kernels';
import { asWasm, heapF32 } from './wasm-heap';

export const BATCH_NORM_FORWARD_KERNEL = 'PollardBatchNormForward';

const batchNormForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, scale, offset } = inputs as Record<'x' | 'scale' | 'offset', TensorInfo>;
  const epsilon = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const channels = x.shape[x.shape.length - 1] as number;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const count = size / channels;

  const yInfo = wasm.makeOutput(x.shape, 'float32');
  const meanInfo = wasm.makeOutput([channels], 'float32');
  const varianceInfo = wasm.makeOutput([channels], 'float32');
  const simd = simdKernelsFor(wasm);
  simd?.reserve(channels);
  // Views after the last allocation (allocating may grow the heap and detach them).
  const xs = heapF32(wasm, x);
  const gammas = heapF32(wasm, scale);
  const betas = heapF32(wasm, offset);
  const ys = heapF32(wasm, yInfo);
  const means = heapF32(wasm, meanInfo);
  const variances = heapF32(wasm, varianceInfo);

  const sum = new Float64Array(channels);
  const sumSquares = new Float64Array(channels);
  if (simd) simd.channelSums(xs, xs, channels, sum, sumSquares);
  else channelSums(xs, xs, size, channels, sum, sumSquares);
  const k = new Float64Array(channels);
  const b = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const mean = (sum[c] as number) / count;
    const variance = Math.max((sumSquares[c] as number) / count - mean * mean, 0);
    means[c] = mean;
    variances[c] = variance;
    k[c] = (gammas[c] as number) / Math.sqrt(variance + epsilon);
    b[c] = (betas[c] as number) - mean * (k[c] as number);
  }
  if (simd) simd.channelAffine(ys, channels, xs, k, b);
  else channelAffine(ys, size, channels, xs, k, b);
  return [yInfo, meanInfo, varianceInfo];
};

export const batchNormForwardWasmConfig: KernelConfig = {
  kernelName: BATCH_NORM_FORWARD_KERNEL,
  backendName: 'wasm',
  kernelFunc: batchNormForward,
};

export function registerBatchNormForwardWasmKernel(): void {
  if (tf.getKernel(BATCH_NORM_FORWARD_KERNEL, 'wasm') === undefined)
    tf.registerKernel(batchNormForwardWasmConfig);
}
