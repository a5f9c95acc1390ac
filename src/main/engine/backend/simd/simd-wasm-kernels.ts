/**
 * wasm kernels built on Pollard's SIMD kernels (simd-kernels.ts), each falling back to the
 * kernel it replaces where the SIMD kernels are unavailable or the case is not theirs:
 * - PollardReluGrad: ReLU's gradient in one pass (tfjs runs it as Step, Cast and Multiply:
 *   three passes and two temporaries), used by the Relu gradient registered here on wasm;
 * - Add of a per-channel vector (a bias) to channels-last data, which tfjs-backend-wasm runs
 *   through its general broadcasting loop;
 * - Sum over every axis but the last (a bias's gradient), which tfjs-backend-wasm runs by
 *   transposing the whole tensor first.
 */
import type {
  GradConfig,
  KernelConfig,
  KernelFunc,
  SumAttrs,
  Tensor,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../../tf';
import { asWasm, heapF32 } from '../wasm-heap';
import { simdKernelsFor } from './simd-kernels';

export const RELU_GRAD_KERNEL = 'PollardReluGrad';

const reluGrad: KernelFunc = ({ inputs, backend }) => {
  const wasm = asWasm(backend);
  const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
  const simd = simdKernelsFor(wasm);
  if (simd === undefined) throw new Error(`${RELU_GRAD_KERNEL}: the SIMD kernels are not available`);
  const out = wasm.makeOutput(x.shape, 'float32');
  simd.reluGrad(heapF32(wasm, dy), heapF32(wasm, x), heapF32(wasm, out));
  return out;
};

export const reluGradConfig: KernelConfig = {
  kernelName: RELU_GRAD_KERNEL,
  backendName: 'wasm',
  kernelFunc: reluGrad,
};

/** Wraps tfjs's Relu gradient: on wasm with the SIMD kernels, one PollardReluGrad call. */
export function reluGradient(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const dyTensor = dy as Tensor;
      const x = saved[0];
      const oneKernel =
        tf.getBackend() === 'wasm' &&
        x !== undefined &&
        x.dtype === 'float32' &&
        dyTensor.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, dyTensor.shape) &&
        tf.getKernel(RELU_GRAD_KERNEL, 'wasm') !== undefined &&
        simdKernelsFor(tf.backend() as BackendWasm) !== undefined;
      if (!oneKernel) return original.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dyTensor, x }) as Tensor };
    },
  };
}

let installed: GradConfig | undefined;

/** Installs the Relu gradient above (idempotent, process-wide; other backends keep tfjs's). */
export function registerReluGradient(): void {
  const current = tf.getGradient(tf.Relu);
  if (current !== undefined && current === installed) return;
  if (current === undefined) throw new Error(`tfjs-core registered no gradient for ${tf.Relu}`);
  installed = reluGradient(current);
  tf.registerGradient(installed);
}

/** Channels of `x` when `bias` is one value per channel of channels-last `x`, else undefined. */
function biasChannels(x: TensorInfo, bias: TensorInfo): number | undefined {
  if (x.dtype !== 'float32' || bias.dtype !== 'float32' || x.shape.length < 2 || bias.shape.length !== 1) {
    return undefined;
  }
  const channels = x.shape[x.shape.length - 1] as number;
  return bias.shape[0] === channels && channels > 0 ? channels : undefined;
}

export function makeBiasAddConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const wasm = asWasm(args.backend);
    const simd = simdKernelsFor(wasm);
    const [x, bias] = b.shape.length === 1 ? [a, b] : [b, a];
    const channels = simd ? biasChannels(x, bias) : undefined;
    if (simd === undefined || channels === undefined) return original(args);
    simd.reserve(channels);
    const out = wasm.makeOutput(x.shape, 'float32');
    const ones = new Float32Array(channels).fill(1);
    simd.channelAffine(heapF32(wasm, out), channels, heapF32(wasm, x), ones, heapF32(wasm, bias));
    return out;
  };
  return { kernelName: tf.Add, backendName: 'wasm', kernelFunc };
}

/** True when `axis` is every axis of a rank-`rank` tensor but the last, in any order. */
function leadingAxes(axis: number | number[], rank: number): boolean {
  if (rank < 2) return false;
  const axes = tf.util.parseAxisParam(
    axis,
    Array.from({ length: rank }, () => 1),
  );
  return axes.length === rank - 1 && [...axes].sort((p, q) => p - q).every((value, i) => value === i);
}

export function makeLeadingSumConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const wasm = asWasm(args.backend);
    const simd = simdKernelsFor(wasm);
    if (simd === undefined || x.dtype !== 'float32' || !leadingAxes(axis, x.shape.length))
      return original(args);
    const channels = x.shape[x.shape.length - 1] as number;
    if (channels === 0 || tf.util.sizeFromShape(x.shape) === 0) return original(args);
    simd.reserve(channels);
    const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels];
    const out = wasm.makeOutput(shape, 'float32');
    const sums = new Float64Array(channels);
    simd.channelSum(heapF32(wasm, x), channels, sums);
    heapF32(wasm, out).set(sums);
    return out;
  };
  return { kernelName: tf.Sum, backendName: 'wasm', kernelFunc };
}
