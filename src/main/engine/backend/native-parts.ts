/**
 * Runs a native kernel's ONNX graph over the wasm heap, whole or cut into parts along its
 * leading (batch) axis, one part per kernel thread (ort-helpers.ts), where helper threads are
 * ready. The cut depends only on the batch and the kernel thread count, so a seed and a thread
 * count still give the same weights on every run.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { OnnxGraph } from './onnx-model';
import { type KernelPart, kernelParts, runParts, splitRanges } from './ort-helpers';
import { sessionFor } from './ort-session-cache';
import { simdKernelsFor } from './simd/simd-kernels';
import { disposeIntermediate, heapF32 } from './wasm-heap';

export interface NativeRun {
  /** The session cache key of the graph for `batch` items. */
  key(batch: number): string;
  /** The graph for `batch` items. */
  graph(batch: number): OnnxGraph;
  /** The batch: the leading axis of every input in `batched`. */
  batch: number;
  /** Multiply-adds of the whole kernel (below MIN_SPLIT_MACS it runs whole). */
  macs: number;
  inputs: Readonly<Record<string, TensorInfo>>;
  /** Inputs cut with the batch; the others (filters, biases) go whole to every part. */
  batched: readonly string[];
  output: TensorInfo;
  /**
   * 'cut': the output is cut with the batch too (a forward pass, an input gradient).
   * 'sum': every part computes a whole output (a sum over the batch: a weight gradient), and the
   * parts are added in order into the output.
   */
  combine: 'cut' | 'sum';
}

/**
 * Below this many multiply-adds a kernel runs whole: handing a part to a helper and adding the
 * parts cost more than the part saves (LeNet's dense layers, 3 M: 0.05–0.07 ms whole; their
 * weight gradient cut in two, 0.09–0.11 ms).
 */
export const MIN_SPLIT_MACS = 4_000_000;
let minSplitMacs = MIN_SPLIT_MACS;

/** Overrides MIN_SPLIT_MACS (tests: 0 cuts every native kernel of a small model). */
export function setSplitMinMacs(n: number): void {
  minSplitMacs = n;
}

/** The rows [start, start + size) of a view holding `batch` equal rows. */
function rows(view: Float32Array, batch: number, start: number, size: number): Float32Array {
  const per = view.length / batch;
  return view.subarray(start * per, (start + size) * per);
}

function views(
  wasm: BackendWasm,
  inputs: Readonly<Record<string, TensorInfo>>,
): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(inputs).map(([name, info]) => [name, heapF32(wasm, info)]));
}

/** Runs `run` into its output (allocated by the caller, on the heap). */
export function runNative(wasm: BackendWasm, run: NativeRun): void {
  const ranges = splitRanges(run.batch, run.macs < minSplitMacs ? 1 : kernelParts());
  if (ranges.length === 1) {
    sessionFor(run.key(run.batch), () => run.graph(run.batch)).run(
      views(wasm, run.inputs),
      heapF32(wasm, run.output),
    );
    return;
  }
  // The other parts' whole outputs, before any view is taken (an allocation may grow the heap).
  const partials =
    run.combine === 'sum' ? wasm.makeOutput([ranges.length - 1, ...run.output.shape], 'float32') : undefined;
  try {
    const inputs = views(wasm, run.inputs);
    const output = heapF32(wasm, run.output);
    const rest = partials === undefined ? undefined : heapF32(wasm, partials);
    const parts: KernelPart[] = ranges.map(([start, size], p) => ({
      session: sessionFor(run.key(size), () => run.graph(size)),
      inputs: Object.fromEntries(
        Object.entries(inputs).map(([name, view]) => [
          name,
          run.batched.includes(name) ? rows(view, run.batch, start, size) : view,
        ]),
      ),
      output:
        rest === undefined
          ? rows(output, run.batch, start, size)
          : p === 0
            ? output
            : rest.subarray((p - 1) * output.length, p * output.length),
    }));
    runParts(parts);
    if (rest !== undefined) {
      const simd = simdKernelsFor(wasm);
      for (let p = 1; p < parts.length; p++) {
        const part = parts[p]!.output;
        if (simd) simd.addInto(output, part);
        else for (let i = 0; i < output.length; i++) output[i] = output[i]! + part[i]!;
      }
    }
  } finally {
    if (partials !== undefined) disposeIntermediate(wasm, partials);
  }
}
