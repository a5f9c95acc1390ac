/**
 * Pollard's kernels for @tensorflow/tfjs-backend-webgpu 4.22.
 *
 * The webgpu backend registers every kernel the layer probes (gradient-coverage.ts) and the
 * built-in architectures use, and their gradients equal the cpu backend's. What fails is:
 * - AddN with more inputs than the device's `maxStorageBuffersPerShaderStage` (8 unless
 *   raised) minus one for the output: the shader does not compile, Dawn reports a
 *   validation error, and the result is garbage rather than an exception. Pollard's training
 *   loop sums a probe over every gradient with AddN (one input per trainable weight), so
 *   every model with more than 7 trainable weights hit it. Replaced here: the inputs are
 *   summed in groups the device can bind, with the backend's own AddN.
 * - Pad of rank above 4 (its shader generator emits `vec6`, which WGSL lacks): the dilated
 *   convolution gradients (dilated-conv-gradients.ts) spread the filter with rank-4 pads.
 *
 * Registering is idempotent and must run after @tensorflow/tfjs-backend-webgpu is imported.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';

/** The parts of tfjs-backend-webgpu's WebGPUBackend used here. */
interface WebgpuBackendLike {
  device?: { limits?: { maxStorageBuffersPerShaderStage?: number } };
  disposeData(dataId: object): boolean;
}

/** How many inputs one AddN shader may bind on this backend's device (the output takes one). */
export function addNGroupSize(backend: WebgpuBackendLike): number {
  const buffers = backend.device?.limits?.maxStorageBuffersPerShaderStage ?? 8;
  return Math.max(2, buffers - 1);
}

function makeAddN(original: KernelFunc): KernelFunc {
  const single = (args: Parameters<KernelFunc>[0]): TensorInfo => {
    const out = original(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  };
  return ({ inputs, backend, attrs }) => {
    const gpu = backend as unknown as WebgpuBackendLike;
    const group = addNGroupSize(gpu);
    let tensors = Object.values(inputs) as TensorInfo[];
    const originals = new Set(tensors);
    while (tensors.length > group) {
      const next: TensorInfo[] = [];
      for (let i = 0; i < tensors.length; i += group) {
        const chunk = tensors.slice(i, i + group);
        next.push(chunk.length === 1 ? chunk[0]! : single({ inputs: chunk as never, backend, attrs }));
      }
      for (const info of tensors)
        if (!originals.has(info) && !next.includes(info)) gpu.disposeData(info.dataId);
      tensors = next;
    }
    const result = single({ inputs: tensors as never, backend, attrs });
    for (const info of tensors) if (!originals.has(info)) gpu.disposeData(info.dataId);
    return result;
  };
}

const registeredByPollard = new Map<string, KernelConfig>();

export function registerWebgpuTrainingKernels(): void {
  const current = tf.getKernel(tf.AddN, 'webgpu');
  if (current === undefined) {
    throw new Error(`tfjs-backend-webgpu is not loaded: it registered no ${tf.AddN} kernel`);
  }
  if (current === registeredByPollard.get(tf.AddN)) return;
  const config: KernelConfig = { ...current, kernelFunc: makeAddN(current.kernelFunc) };
  // registerKernel over an existing kernel logs a warning; unregister first.
  tf.unregisterKernel(tf.AddN, 'webgpu');
  tf.registerKernel(config);
  registeredByPollard.set(tf.AddN, config);
}
