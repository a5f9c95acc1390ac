/**
 * PollardAdamUpdate for the wasm backend: one Adam step for one variable in a single pass over
 * the heap. Inputs value, m, v, gradient (same shape); attributes β1, β2, ε, the learning rate
 * and the bias corrections 1 − β1ᵗ, 1 − β2ᵗ. Outputs the new value, m and v:
 *   m' = β1·m + (1 − β1)·g,  v' = β2·v + (1 − β2)·g²,
 *   value' = value − lr · (m'/(1 − β1ᵗ)) / (√(v'/(1 − β2ᵗ)) + ε)
 * (tfjs's AdamOptimizer) in Pollard's SIMD kernels in float32, or where they are unavailable in
 * JavaScript, in doubles rounded once to float32 on store.
 * Measured reason: tfjs's Adam runs about 14 kernels per variable, each with its own dispatch
 * and heap allocation (and the scalars it multiplies by are uploaded each time): 3.7 ms of a
 * 15 ms LeNet step at batch 64 for its 10 variables.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { simdKernelsFor } from './simd/simd-kernels';
import { asWasm, heapF32 } from './wasm-heap';

export const ADAM_UPDATE_KERNEL = 'PollardAdamUpdate';

export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ for this step t. */
  correction1: number;
  correction2: number;
}

const adamUpdate: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { value, m, v, gradient } = inputs as Record<'value' | 'm' | 'v' | 'gradient', TensorInfo>;
  const a = attrs as unknown as AdamUpdateAttrs;
  const valueOut = wasm.makeOutput(value.shape, 'float32');
  const mOut = wasm.makeOutput(value.shape, 'float32');
  const vOut = wasm.makeOutput(value.shape, 'float32');
  // Views after the last allocation (allocating may grow the heap and detach them).
  const xs = heapF32(wasm, value);
  const ms = heapF32(wasm, m);
  const vs = heapF32(wasm, v);
  const gs = heapF32(wasm, gradient);
  const xOut = heapF32(wasm, valueOut);
  const mNew = heapF32(wasm, mOut);
  const vNew = heapF32(wasm, vOut);
  const { beta1, beta2, epsilon } = a;
  const oneMinusBeta1 = 1 - beta1;
  const oneMinusBeta2 = 1 - beta2;
  const step = a.learningRate / a.correction1;
  const invCorrection2 = 1 / a.correction2;
  const simd = simdKernelsFor(wasm);
  if (simd) {
    simd.adam(
      { value: xs, m: ms, v: vs, gradient: gs },
      { value: xOut, m: mNew, v: vNew },
      { beta1, beta2, epsilon, step, invCorrection2 },
    );
    return [valueOut, mOut, vOut];
  }
  for (let i = 0; i < xs.length; i++) {
    const g = gs[i] as number;
    const mi = (ms[i] as number) * beta1 + g * oneMinusBeta1;
    const vi = (vs[i] as number) * beta2 + g * g * oneMinusBeta2;
    mNew[i] = mi;
    vNew[i] = vi;
    xOut[i] = (xs[i] as number) - (step * mi) / (Math.sqrt(vi * invCorrection2) + epsilon);
  }
  return [valueOut, mOut, vOut];
};

export const adamUpdateWasmConfig: KernelConfig = {
  kernelName: ADAM_UPDATE_KERNEL,
  backendName: 'wasm',
  kernelFunc: adamUpdate,
};

/** Registers the kernel for wasm (idempotent; the name is Pollard's own, so nothing is replaced). */
export function registerAdamUpdateWasmKernel(): void {
  if (tf.getKernel(ADAM_UPDATE_KERNEL, 'wasm') === undefined) tf.registerKernel(adamUpdateWasmConfig);
}
