/**
 * Native convolution kernels for the wasm backend, computed by ONNX Runtime's CPU execution
 * provider (MLAS: AVX2/AVX-512 FMA SGEMM; with more than one kernel thread, each call's batch
 * is cut across them, native-parts.ts) instead of XNNPACK in one 128-bit SIMD wasm thread.
 * Measured here (batch 64, 3×3), e.g. 64×32×32×16 → 16: wasm 19.8 ms, ORT 1 thread about
 * 4.5 ms; see native-conv-graphs.ts for the graphs.
 *
 * Replaces, on 'wasm', Conv2D, FusedConv2D (bias; linear, relu, relu6, sigmoid, elu,
 * leakyrelu), Conv2DBackpropInput and Conv2DBackpropFilter, NHWC. Each call reads its
 * inputs from the wasm heap and writes the output into the heap tensor from makeOutput,
 * through one cached ORT session per shape (ort-session-cache.ts). What it does not cover
 * goes to the kernel registered before it (prelu, NCHW, geometries ORT cannot express,
 * non-float32), and so do small convolutions, where the fixed cost of a native call
 * (about 0.05–0.1 ms) outweighs the gain.
 *
 * Registered by registerWasmTrainingKernels() only when onnxruntime-node loads and
 * POLLARD_NATIVE_KERNELS is not '0'.
 */
import type {
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  FusedConv2DAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
  backend_util,
} from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import {
  type ConvGeometry,
  type NativeActivation,
  filterGradientGraph,
  forwardExpressible,
  forwardGraph,
  inputGradientExpressible,
  inputGradientGraph,
} from './native-conv-graphs';
import { tuneMallocForNativeKernels } from './malloc-tuning';
import { loadOrt } from './ort-binding';
import { setHelperThreads } from './ort-helpers';
import { loadOrtFfi } from './ort-ffi';
import { runNative } from './native-parts';
import { clearSessions } from './ort-session-cache';
import { onKernelThreads } from './threads';
import { asWasm } from './wasm-heap';

/**
 * Below this many multiply-adds a convolution stays on wasm: there the native call's fixed
 * cost (session lookup, tensor wrapping, ORT's dispatch) is a large part of the work.
 */
export const MIN_NATIVE_MACS = 2_000_000;
let minMacs = MIN_NATIVE_MACS;

/**
 * Overrides MIN_NATIVE_MACS (tests and benchmarks: 0 sends every convolution ORT can express
 * to ORT).
 */
export function setNativeKernelMinMacs(n: number): void {
  minMacs = n;
}

export interface NativeKernelsStatus {
  available: boolean;
  reason?: string;
}

export function nativeKernelsStatus(env: NodeJS.ProcessEnv = process.env): NativeKernelsStatus {
  if (env.POLLARD_NATIVE_KERNELS === '0') {
    return { available: false, reason: 'disabled by POLLARD_NATIVE_KERNELS=0' };
  }
  const load = loadOrt();
  return load.ok ? { available: true } : { available: false, reason: load.reason };
}

/**
 * Kernel threads for the native kernels: this thread and n − 1 helper threads, which take parts
 * of a kernel's batch (ort-helpers.ts). ORT's sessions keep one intra-op thread each.
 */
export function setNativeKernelThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`native kernel threads must be a positive integer, not ${n}`);
  setHelperThreads(loadOrtFfi().ok ? n - 1 : 0);
}

let unsubscribeThreads: (() => void) | undefined;

function geometry(info: backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    top: info.padInfo.top,
    bottom: info.padInfo.bottom,
    left: info.padInfo.left,
    right: info.padInfo.right,
  };
}

function macs(g: ConvGeometry): number {
  return g.batch * g.outHeight * g.outWidth * g.outChannels * g.filterHeight * g.filterWidth * g.inChannels;
}

/**
 * The geometry when the native path should run it, else undefined (use the fallback).
 * Every convolution of at least `minMacs` multiply-adds that ORT can express runs natively.
 * Through onnxruntime-node's binding, which copied every output, 1×1 convolutions (forward
 * and input gradient) and forward passes over fewer than 8 input channels (a network's first
 * layer, LeNet's second) had measured faster in XNNPACK and stayed there; through the C API,
 * in place (ort-ffi.ts), ORT is as fast or faster on every one of them. Per call, XNNPACK →
 * ORT, one thread, alternated in one process (2026-12-05): 64×28×28×1 → 6 5×5 1.22 → 0.56 ms;
 * 64×14×14×6 → 16 5×5 0.90 → 0.63; 64×28×28×1 → 32 3×3 2.07 → 1.2–1.5; 64×32×32×3 → 16 3×3
 * 2.17 → 1.38–1.47; 1×1 64×16×16×32 → 64 2.27 → 1.27; 1×1 64×8×8×64 → 128 2.03 → 0.67;
 * 1×1 stride 2 64×16×16×32 → 64 0.60 → 0.40; 1×1 stride 2 64×32×32×16 → 32 0.78 both.
 */
function nativeGeometry(info: backend_util.Conv2DInfo, tensors: TensorInfo[]): ConvGeometry | undefined {
  if (info.dataFormat !== 'channelsLast' || tensors.some((t) => t.dtype !== 'float32')) return undefined;
  const g = geometry(info);
  if (macs(g) < minMacs || !forwardExpressible(g)) return undefined;
  return g;
}

function key(kind: string, g: ConvGeometry, extra = ''): string {
  return `${kind}|${Object.values(g).join(',')}|${extra}`;
}

const ACTIVATIONS: ReadonlySet<string> = new Set<NativeActivation>([
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'elu',
  'leakyrelu',
]);

function makeForward(kernelName: string, fused: boolean) {
  return (fallback: KernelFunc): KernelConfig => {
    const kernelFunc: KernelFunc = (args) => {
      const wasm = asWasm(args.backend);
      const { x, filter, bias, preluActivationWeights } = args.inputs as {
        x: TensorInfo;
        filter: TensorInfo;
        bias?: TensorInfo;
        preluActivationWeights?: TensorInfo;
      };
      const attrs = args.attrs as unknown as FusedConv2DAttrs & Conv2DAttrs;
      const activation = (fused ? attrs.activation : 'linear') ?? 'linear';
      if (!ACTIVATIONS.has(activation) || preluActivationWeights !== undefined) return fallback(args);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        attrs.strides,
        attrs.dilations,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
      );
      const withBias = fused && bias !== undefined;
      const g = nativeGeometry(info, withBias ? [x, filter, bias] : [x, filter]);
      if (g === undefined) return fallback(args);
      if (withBias && tf.util.sizeFromShape(bias.shape) !== g.outChannels) return fallback(args);
      const alpha = attrs.leakyreluAlpha ?? 0.2;
      const out = wasm.makeOutput(info.outShape, 'float32');
      runNative(wasm, {
        key: (batch) => key('conv', { ...g, batch }, `${withBias}|${activation}|${alpha}`),
        graph: (batch) => forwardGraph({ ...g, batch }, withBias, activation as NativeActivation, alpha),
        batch: g.batch,
        macs: macs(g),
        inputs: withBias ? { x, w: filter, b: bias } : { x, w: filter },
        batched: ['x'],
        output: out,
        combine: 'cut',
      });
      return out;
    };
    return { kernelName, backendName: 'wasm', kernelFunc };
  };
}

function makeBackpropInput(fallback: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const wasm = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const g = nativeGeometry(info, [dy, filter]);
    if (g === undefined || !inputGradientExpressible(g)) return fallback(args);
    const out = wasm.makeOutput(attrs.inputShape, 'float32');
    runNative(wasm, {
      key: (batch) => key('dx', { ...g, batch }),
      graph: (batch) => inputGradientGraph({ ...g, batch }),
      batch: g.batch,
      macs: macs(g),
      inputs: { dy, w: filter },
      batched: ['dy'],
      output: out,
      combine: 'cut',
    });
    return out;
  };
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc };
}

function makeBackpropFilter(fallback: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const wasm = asWasm(args.backend);
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const g = nativeGeometry(info, [x, dy]);
    if (g === undefined) return fallback(args);
    const out = wasm.makeOutput(attrs.filterShape, 'float32');
    runNative(wasm, {
      key: (batch) => key('dw', { ...g, batch }),
      graph: (batch) => filterGradientGraph({ ...g, batch }),
      batch: g.batch,
      macs: macs(g),
      inputs: { x, dy },
      batched: ['x', 'dy'],
      output: out,
      combine: 'sum',
    });
    return out;
  };
  return { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm', kernelFunc };
}

const NATIVE: Readonly<Record<string, (fallback: KernelFunc) => KernelConfig>> = {
  [tf.Conv2D]: makeForward(tf.Conv2D, false),
  [tf.FusedConv2D]: makeForward(tf.FusedConv2D, true),
  [tf.Conv2DBackpropInput]: makeBackpropInput,
  [tf.Conv2DBackpropFilter]: makeBackpropFilter,
};

/** Per kernel name: the native config registered and the config it replaced. */
const registered = new Map<string, { native: KernelConfig; replaced: KernelConfig }>();

/**
 * Wraps the currently registered wasm kernels with the native ones (idempotent). Returns
 * the status; when unavailable nothing is registered. Call after the wasm backend module
 * and Pollard's own wasm kernels are registered (the native kernels fall back to them).
 */
export function registerNativeConvKernels(env: NodeJS.ProcessEnv = process.env): NativeKernelsStatus {
  const status = nativeKernelsStatus(env);
  if (!status.available) return status;
  tuneMallocForNativeKernels();
  // The native kernels' threads follow the process's kernel thread count (what each
  // data-parallel replica is given while training).
  unsubscribeThreads ??= onKernelThreads(setNativeKernelThreads);
  for (const [kernelName, make] of Object.entries(NATIVE)) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current === undefined || current === registered.get(kernelName)?.native) continue;
    const native: KernelConfig = {
      ...make(current.kernelFunc),
      setupFunc: current.setupFunc,
      disposeFunc: current.disposeFunc,
    };
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel(native);
    registered.set(kernelName, { native, replaced: current });
  }
  return status;
}

/** Puts back the kernels the native ones replaced and disposes every ORT session. */
export function unregisterNativeConvKernels(): void {
  for (const [kernelName, { native, replaced }] of registered) {
    if (tf.getKernel(kernelName, 'wasm') === native) {
      tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel(replaced);
    }
  }
  registered.clear();
  clearSessions();
}

/** Whether the native kernel is the one registered for `kernelName` on wasm. */
export function isNativeKernelRegistered(kernelName: string): boolean {
  const current = tf.getKernel(kernelName, 'wasm');
  return current !== undefined && current === registered.get(kernelName)?.native;
}
