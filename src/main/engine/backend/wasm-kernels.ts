/**
 * Pollard's kernels for @tensorflow/tfjs-backend-wasm 4.22, so that CNNs train on wasm and
 * train fast:
 * - missing: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 *   DepthwiseConv2dNativeBackpropInput (gradients of every convolution layer);
 * - replaced because the originals are scalar loops that dominated a training step:
 *   Conv2DBackpropInput, MaxPoolGrad, and BatchMatMul with transposed operands (the
 *   replacements fall back to the originals where they cannot help);
 * - replaced by WebAssembly SIMD kernels (simd/): a per-channel Add (bias) and a Sum over the
 *   leading axes (a bias's gradient); added: PollardReluGrad (ReLU's gradient in one pass),
 *   PollardNonFiniteProbe and PollardAddParts (a step's gradient bookkeeping, gradient-bookkeeping.ts);
 * - Identity shares its input's data (reference-counted, as the wasm Reshape and the cpu
 *   backend's Identity do) instead of copying it: tfjs's tape clones every tensor a gradient
 *   needs, 42 copies a LeNet step at batch 64, up to 1.2 MB each.
 * Registering is idempotent. It must run after the wasm backend module has been imported,
 * since that import registers the backend's own kernels, which the replacements wrap.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { makeBatchMatMulConfig } from './batch-mat-mul';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { makeConv2dBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise-backprop';
import { addPartsWasmConfig, nonFiniteProbeWasmConfig } from './gradient-bookkeeping';
import { maxPoolGradConfig } from './max-pool-grad';
import { registerNativeConvKernels, unregisterNativeConvKernels } from './native-conv';
import {
  makeBiasAddConfig,
  makeLeadingSumConfig,
  registerReluGradient,
  reluGradConfig,
} from './simd/simd-wasm-kernels';

/** Kernels tfjs-backend-wasm 4.22 does not have at all. */
export const MISSING_WASM_KERNELS: readonly string[] = [
  tf.Conv2DBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
];

/** The wasm backend's reference counting, as its Reshape uses it. */
interface RefCounting {
  incRef(dataId: object): void;
}

function makeIdentityConfig(original: KernelFunc): KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const x = (args.inputs as { x: TensorInfo }).x;
      if (x.dtype === 'string') return original(args);
      (args.backend as unknown as RefCounting).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}

const REPLACEMENTS: Readonly<Record<string, (original: KernelFunc) => KernelConfig>> = {
  [tf.Conv2DBackpropInput]: makeConv2dBackpropInputConfig,
  [tf.BatchMatMul]: makeBatchMatMulConfig,
  [tf.Identity]: makeIdentityConfig,
  [tf.Add]: makeBiasAddConfig,
  [tf.Sum]: makeLeadingSumConfig,
};

const ADDED: readonly KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  maxPoolGradConfig,
  reluGradConfig,
  nonFiniteProbeWasmConfig,
  addPartsWasmConfig,
];

/** The configs this module registered, by kernel name (to recognise them on a second call). */
const registeredByPollard = new Map<string, KernelConfig>();

function register(config: KernelConfig): void {
  // registerKernel over an existing kernel logs a warning; unregister first.
  if (tf.getKernel(config.kernelName, 'wasm') !== undefined) {
    tf.unregisterKernel(config.kernelName, 'wasm');
  }
  tf.registerKernel(config);
  registeredByPollard.set(config.kernelName, config);
}

function isOurs(kernelName: string): boolean {
  const current = tf.getKernel(kernelName, 'wasm');
  return current !== undefined && current === registeredByPollard.get(kernelName);
}

export function registerWasmTrainingKernels(): void {
  // The native (ONNX Runtime) convolutions wrap the kernels below; unwrap, then wrap again.
  unregisterNativeConvKernels();
  for (const config of ADDED) {
    if (!isOurs(config.kernelName)) register(config);
  }
  for (const [kernelName, makeConfig] of Object.entries(REPLACEMENTS)) {
    if (isOurs(kernelName)) continue;
    const original = tf.getKernel(kernelName, 'wasm');
    if (original === undefined) {
      throw new Error(`tfjs-backend-wasm is not loaded: it registered no ${kernelName} kernel`);
    }
    // Keep the original's setup (it binds the wasm function) for a backend initialised later.
    register({
      ...makeConfig(original.kernelFunc),
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
    });
  }
  registerNativeConvKernels();
  registerReluGradient();
}
