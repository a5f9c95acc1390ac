/**
 * PollardBatchNormGrad for the wasm backend: the whole training-mode batch-norm backward pass
 * (see ./batch-norm-training) in two passes over the heap. Inputs dy, x: [..., C]; mean,
 * variance, scale (γ): [C]. Per channel, with σ = √(var + ε) and N values per channel:
 *   pass 1: S = Σ dy, T = Σ dy·x − μ·S = Σ dy·(x − μ)     (float64 accumulators)
 *   dβ = S,  dγ = T/σ,
 *   pass 2: dx = (γ/σ)·dy − (γ/σ³)·(T/N)·(x − μ) − (γ/σ)·S/N.
 * Measured reason: as tf ops the same maths is ~10 wasm kernels, and wasm's Sum over the
 * leading axes transposes the whole activation first; this kernel reads dy and x twice and
 * writes dx once.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { channelAffine, channelSums } from './channel-loops';
import { simdKernelsFor } from './simd/simd-kernels';
import { asWasm, heapF32 } from './wasm-heap';

export const BATCH_NORM_GRAD_KERNEL = 'PollardBatchNormGrad';

const batchNormGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, x, mean, variance, scale } = inputs as Record<
    'dy' | 'x' | 'mean' | 'variance' | 'scale',
    TensorInfo
  >;
  const epsilon = (attrs as { varianceEpsilon: number }).varianceEpsilon;
  const channels = x.shape[x.shape.length - 1] as number;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const count = size / channels;

  const dxInfo = wasm.makeOutput(x.shape, 'float32');
  const dScaleInfo = wasm.makeOutput([channels], 'float32');
  const dOffsetInfo = wasm.makeOutput([channels], 'float32');
  const simd = simdKernelsFor(wasm);
  simd?.reserve(channels);
  // Views after the last allocation (allocating may grow the heap and detach them).
  const dys = heapF32(wasm, dy);
  const xs = heapF32(wasm, x);
  const mu = heapF32(wasm, mean);
  const vars = heapF32(wasm, variance);
  const gammas = heapF32(wasm, scale);
  const dxs = heapF32(wasm, dxInfo);
  const dScale = heapF32(wasm, dScaleInfo);
  const dOffset = heapF32(wasm, dOffsetInfo);

  // JS numbers are doubles: Σ dy·x − μ·Σ dy loses nothing that matters at float32.
  const sumDy = new Float64Array(channels);
  const sumDyX = new Float64Array(channels);
  // SIMD: T directly as Σ dy·(x − μ); JavaScript: Σ dy·x, less μ·S below.
  if (simd) simd.channelSums(dys, xs, channels, sumDy, sumDyX, mu);
  else channelSums(dys, xs, size, channels, sumDy, sumDyX);
  // dx = a·dy + nb·x + (−nb·μ − a·S/N), with a = γ/σ and nb = −(γ/σ³)·T/N.
  const a = new Float64Array(channels);
  const nb = new Float64Array(channels);
  const shift = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const invStd = 1 / Math.sqrt((vars[c] as number) + epsilon);
    const k = (gammas[c] as number) * invStd;
    const m = mu[c] as number;
    const sum = sumDy[c] as number;
    const centred = simd ? (sumDyX[c] as number) : (sumDyX[c] as number) - m * sum;
    dOffset[c] = sum;
    dScale[c] = centred * invStd;
    a[c] = k;
    const bc = (k * invStd * invStd * centred) / count;
    nb[c] = -bc;
    shift[c] = bc * m - (k * sum) / count;
  }
  if (simd) simd.channelAffine(dxs, channels, dys, a, shift, { values: xs, k: nb });
  else channelAffine(dxs, size, channels, dys, a, shift, { values: xs, k: nb });
  return [dxInfo, dScaleInfo, dOffsetInfo];
};

export const batchNormGradWasmConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: batchNormGrad,
};

/** Registers the kernel for wasm (idempotent; the name is Pollard's own, so nothing is replaced). */
export function registerBatchNormGradWasmKernel(): void {
  if (tf.getKernel(BATCH_NORM_GRAD_KERNEL, 'wasm') === undefined) tf.registerKernel(batchNormGradWasmConfig);
}
