/**
 * How much memory a training step needs, before it is taken, so that a batch too large for the
 * backend is split into micro-batches (gradient accumulation) instead of aborting WebAssembly
 * half-way through an epoch, and a model that cannot train even one sample is refused up front.
 *
 * The estimate counts, per sample, every layer's output (kept by the tape for the backward pass)
 * times a factor for the gradients and temporaries of the backward pass, plus, per step, the
 * weights, their gradients and two Adam slots. ACTIVATION_FACTOR was fitted so that the estimate
 * is at or above the wasm heap's measured growth for the built-in architectures (see
 * memory-estimate.test.ts, which checks that bound on a real training step).
 */
import { PollardError } from '../../../shared/errors';
import type { LayersModel } from '../tf';

/** Bytes of wasm heap per float of layer output kept for backward, gradients and temporaries. */
export const ACTIVATION_FACTOR = 4 * 4;
/** weights + gradients + Adam's two moments, float32. */
const WEIGHT_FACTOR = 4 * 4;

/** The wasm heap is 32-bit (4 GiB at most); fragmentation and copies make less usable. */
export const DEFAULT_WASM_BUDGET_BYTES = 1.5 * 1024 ** 3;

export interface TrainingMemoryEstimate {
  /** Bytes that grow with each sample of a micro-batch. */
  perSampleBytes: number;
  /** Bytes for the weights, gradients and optimizer state. */
  fixedBytes: number;
  /** The largest single layer output of one sample, bytes (a GPU buffer must hold it × batch). */
  largestTensorBytesPerSample: number;
}

function elements(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((product, dim) => product * (dim ?? 1), 1);
}

export function estimateTrainingMemory(model: LayersModel): TrainingMemoryEstimate {
  let floats = 0;
  let largest = 0;
  for (const layer of model.layers) {
    const shapes = layer.outputShape;
    const list = (Array.isArray(shapes[0]) ? shapes : [shapes]) as (number | null)[][];
    for (const shape of list) {
      floats += elements(shape);
      largest = Math.max(largest, elements(shape));
    }
  }
  const params = model.weights.reduce(
    (sum, weight) => sum + (weight.shape as (number | null)[]).reduce<number>((a, b) => a * (b ?? 1), 1),
    0,
  );
  return {
    perSampleBytes: floats * ACTIVATION_FACTOR,
    fixedBytes: params * WEIGHT_FACTOR,
    largestTensorBytesPerSample: largest * 4,
  };
}

/** The budget for one replica's step: POLLARD_MEMORY_BUDGET_MB when set, else the wasm default. */
export function memoryBudgetBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.POLLARD_MEMORY_BUDGET_MB;
  if (raw !== undefined && raw !== '') {
    const mb = Number(raw);
    if (!Number.isFinite(mb) || mb <= 0) {
      throw new PollardError(
        'usage',
        `POLLARD_MEMORY_BUDGET_MB: expected a positive number of MiB, got "${raw}"`,
      );
    }
    return mb * 1024 ** 2;
  }
  return DEFAULT_WASM_BUDGET_BYTES;
}

function mib(bytes: number): string {
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.ceil(bytes / 1024 ** 2).toLocaleString('en-US')} MiB`;
}

/**
 * The largest micro-batch (≤ `sliceSize`) whose step fits in `budgetBytes`; a PollardError('oom')
 * naming the model, the memory one sample needs and the limit where not even one sample fits.
 */
export function fitMicroBatch(
  model: LayersModel,
  sliceSize: number,
  budgetBytes: number,
  estimate: TrainingMemoryEstimate = estimateTrainingMemory(model),
): number {
  const available = budgetBytes - estimate.fixedBytes;
  const fits = Math.floor(available / Math.max(estimate.perSampleBytes, 1));
  if (fits < 1) {
    throw new PollardError(
      'oom',
      `the model "${model.name}" needs about ${mib(estimate.fixedBytes + estimate.perSampleBytes)} to train ` +
        `on one sample (${mib(estimate.fixedBytes)} for weights, gradients and optimizer state, ` +
        `${mib(estimate.perSampleBytes)} per sample for activations), more than the ${mib(budgetBytes)} ` +
        'the backend can use (WebAssembly memory is at most 4 GiB; POLLARD_MEMORY_BUDGET_MB sets the budget)',
    );
  }
  return Math.min(sliceSize, fits);
}

/**
 * WebGPU: the micro-batch whose largest activation fits one storage buffer binding (the adapter's
 * `maxStorageBufferBindingSize`) and whose whole step fits `budgetBytes` (WebGPU does not expose
 * the device's memory: POLLARD_MEMORY_BUDGET_MB, else the same default as wasm). A refusal names
 * the model, the size one sample needs and the adapter's limit.
 */
export function fitGpuMicroBatch(
  model: LayersModel,
  sliceSize: number,
  maxBindingBytes: number,
  budgetBytes: number,
  estimate: TrainingMemoryEstimate = estimateTrainingMemory(model),
): number {
  const byBinding = Math.floor(maxBindingBytes / Math.max(estimate.largestTensorBytesPerSample, 1));
  if (byBinding < 1) {
    throw new PollardError(
      'oom',
      `the model "${model.name}" has a layer output of ${mib(estimate.largestTensorBytesPerSample)} per sample, ` +
        `more than the GPU adapter's largest storage buffer binding (${mib(maxBindingBytes)})`,
    );
  }
  return Math.min(byBinding, fitMicroBatch(model, sliceSize, budgetBytes, estimate));
}

/** A WebAssembly abort (heap exhausted, or a failed allocation inside a kernel) seen in `error`. */
export function isWasmAbort(error: unknown): boolean {
  if (error instanceof WebAssembly.RuntimeError) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /^Aborted\(|RuntimeError: (abort|memory access out of bounds|unreachable)|Out of memory/i.test(
    message,
  );
}

/** The error a WebAssembly abort during training becomes: what ran, the likely cause, what is kept. */
export function wasmAbortError(
  model: LayersModel,
  microBatch: number,
  estimate: TrainingMemoryEstimate,
  checkpointDir: string | undefined,
  error: unknown,
): PollardError {
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return new PollardError(
    'oom',
    `WebAssembly aborted while training "${model.name}" on micro-batches of ${microBatch} ` +
      `(estimated ${mib(estimate.fixedBytes + estimate.perSampleBytes * microBatch)}): most likely its ` +
      `memory ran out; try a smaller --batch-size or POLLARD_MEMORY_BUDGET_MB. ` +
      (checkpointDir
        ? `The last checkpoint in ${checkpointDir} is intact; --resume continues from it. `
        : '') +
      `(${detail})`,
  );
}
