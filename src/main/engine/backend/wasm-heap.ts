/**
 * Small helpers for kernels that work directly on the wasm backend's heap. Kernels compose
 * other wasm kernels by calling their kernelFunc (as tfjs's own backends do), which skips
 * the engine: no tape recording, no per-op bookkeeping, and intermediates are freed here.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';

export function asWasm(backend: unknown): BackendWasm {
  return backend as BackendWasm;
}

/**
 * A float32 view of a tensor on the wasm heap. Any allocation (makeOutput, another kernel)
 * may grow the heap and detach earlier views, so take views after the last allocation.
 */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Runs a kernel registered for wasm, bypassing the engine. */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: object = {},
): TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) throw new Error(`wasm kernel ${kernelName} is not registered`);
  const out = config.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap });
  return Array.isArray(out) ? (out[0] as TensorInfo) : out;
}

/** The same data seen with another shape (no copy; the caller keeps ownership). */
export function withShape(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export function disposeIntermediate(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** [n, h, w, c] → [n, (h − 1)·sh + 1, (w − 1)·sw + 1, c] with zeros between the pixels. */
export function insertZerosBetweenPixels(
  backend: BackendWasm,
  info: TensorInfo,
  strideHeight: number,
  strideWidth: number,
): TensorInfo {
  const [n, h, w, c] = info.shape as [number, number, number, number];
  const height = (h - 1) * strideHeight + 1;
  const width = (w - 1) * strideWidth + 1;
  const out = backend.makeOutput([n, height, width, c], 'float32');
  const src = heapF32(backend, info);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const from = ((b * h + y) * w + x) * c;
        dst.set(
          src.subarray(from, from + c),
          ((b * height + y * strideHeight) * width + x * strideWidth) * c,
        );
      }
    }
  }
  return out;
}
