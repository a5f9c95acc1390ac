/**
 * Synchronous data-parallel training on worker threads, for the CPU backends (wasm, cpu), whose
 * kernels run on one thread each: the job process is rank 0 and owns the model and the
 * optimizer; ranks 1…R−1 are replica workers (replica-worker.ts), each with its own WebAssembly
 * instance. Per step:
 *   1. rank 0 writes every weight to shared memory (after the hooks that swap weights, so QAT's
 *      fake-quantized weights and pruning masks reach every replica) and each replica's input
 *      slice and labels;
 *   2. every rank computes its slice's share of the batch's mean gradient (micro-batched if
 *      memory requires);
 *   3. rank 0 adds the shares in rank order — a fixed order, so a seed and a thread count give the
 *      same weights on every run — and applies one optimizer step.
 * Replicas never update weights themselves, so they cannot drift from rank 0.
 */
import type { BackendName } from '../../../../shared/types';
import { compiledSimdModule } from '../../backend/simd/simd-kernels';
import { sharedTfjsWasmModule } from '../../backend/wasm-module-share';
import { type LayersModel, tf } from '../../tf';
import type { OutputKind } from '../loss';
import { partition, type Slice } from './partition';
import type { ReplicaInit } from './protocol';
import { acquireThread, releaseThread, type ReplicaThread } from './replica-threads';
import { type SliceGradients, sliceGradients } from './slice-gradients';
import { addParts } from '../../backend/gradient-bookkeeping';
import type { ReplicaOutcome, ReplicaRequest } from './step-channel';

export { ReplicaError } from './replica-threads';

export interface PoolOptions {
  replicas: number;
  backend: BackendName;
  kind: OutputKind;
  classes: number;
  sampleShape: [number, number, number];
  /** The largest batch a step will be given. */
  batchSize: number;
  kernelThreads: number;
  /** Samples per forward/backward pass (replicas warm their kernels up with it). */
  microBatch: number;
}

export interface BatchTensors {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  labels: tf.Tensor1D;
  /** The labels as numbers (replicas get them through shared memory). */
  labelValues: Int32Array;
}

interface Remote {
  thread: ReplicaThread;
  input: Float32Array;
  labels: Int32Array;
  grads: Float32Array;
  outputs: Float32Array;
}

function sizeOf(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, b) => a * (b ?? 1), 1);
}

export class ReplicaPool {
  private constructor(
    private readonly model: LayersModel,
    private readonly variables: tf.Variable[],
    private readonly options: PoolOptions,
    private readonly params: Float32Array,
    private readonly remotes: Remote[],
  ) {}

  get replicas(): number {
    return this.remotes.length + 1;
  }

  /**
   * Takes R−1 replica threads (warm ones released by an earlier pool first) and waits until each
   * has rebuilt the model.
   */
  static async start(
    model: LayersModel,
    variables: tf.Variable[],
    options: PoolOptions,
  ): Promise<ReplicaPool> {
    const weights = model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] }));
    const trainable = model.trainableWeights.map((w) => model.weights.indexOf(w));
    const paramCount = weights.reduce((sum, w) => sum + sizeOf(w.shape), 0);
    const gradCount = trainable.reduce((sum, i) => sum + sizeOf(weights[i]!.shape), 0);
    const params = new SharedArrayBuffer(paramCount * 4);
    const maxSlice = Math.ceil(options.batchSize / options.replicas);
    const sampleFloats = sizeOf(options.sampleShape);
    const topology = model.toJSON(null, false);
    const simdModule = compiledSimdModule();
    const tfjsWasm = options.backend === 'wasm' ? sharedTfjsWasmModule() : undefined;
    const remotes: Remote[] = [];
    const ready: Promise<void>[] = [];
    for (let rank = 1; rank < options.replicas; rank++) {
      const init: Omit<ReplicaInit, 'control'> = {
        type: 'init',
        rank,
        backend: options.backend,
        topology,
        weights,
        trainable,
        kind: options.kind,
        classes: options.classes,
        sampleShape: options.sampleShape,
        maxSlice,
        params,
        input: new SharedArrayBuffer(maxSlice * sampleFloats * 4),
        labels: new SharedArrayBuffer(maxSlice * 4),
        grads: new SharedArrayBuffer(gradCount * 4),
        outputs: new SharedArrayBuffer(maxSlice * options.classes * 4),
        kernelThreads: options.kernelThreads,
        warmupSize: options.microBatch,
        ...(simdModule ? { simdModule } : {}),
        ...(tfjsWasm ? { tfjsWasm } : {}),
      };
      const remote: Remote = {
        thread: acquireThread(options.backend, rank),
        input: new Float32Array(init.input),
        labels: new Int32Array(init.labels),
        grads: new Float32Array(init.grads),
        outputs: new Float32Array(init.outputs),
      };
      remotes.push(remote);
      ready.push(remote.thread.init(init));
    }
    const pool = new ReplicaPool(model, variables, options, new Float32Array(params), remotes);
    try {
      await Promise.all(ready);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private writeWeights(): void {
    let offset = 0;
    for (const weight of this.model.weights) {
      const values = weight.read().dataSync() as Float32Array;
      this.params.set(values, offset);
      offset += values.length;
    }
  }

  /**
   * Writes the weights and each replica's slice of `x` (and of `labels`) to shared memory and
   * starts each replica on its slice; `gather` collects the answers.
   */
  private scatter(
    x: tf.Tensor4D,
    labels: Int32Array | undefined,
    request: Omit<ReplicaRequest, 'size'>,
  ): Slice[] {
    const slices = partition(x.shape[0], this.replicas);
    this.writeWeights();
    const sampleFloats = sizeOf(this.options.sampleShape);
    const pixels = slices.length > 1 ? (x.dataSync() as Float32Array) : undefined;
    for (let rank = 1; rank < slices.length; rank++) {
      const slice = slices[rank]!;
      const remote = this.remotes[rank - 1]!;
      remote.input.set(
        pixels!.subarray(slice.start * sampleFloats, (slice.start + slice.size) * sampleFloats),
      );
      if (labels) remote.labels.set(labels.subarray(slice.start, slice.start + slice.size));
      remote.thread.post({ ...request, size: slice.size });
    }
    return slices;
  }

  /** The answers of the replicas `scatter` started (ranks 1…count−1), in rank order. */
  private async gather(count: number): Promise<ReplicaOutcome[]> {
    const outcomes: ReplicaOutcome[] = [];
    for (let rank = 1; rank < count; rank++) outcomes.push(await this.remotes[rank - 1]!.thread.finish());
    return outcomes;
  }

  /**
   * One step's mean gradient over the whole batch (rank 0's share plus every replica's, added in
   * rank order), in `variables` order. The caller owns the returned tensors.
   */
  async step(batch: BatchTensors, microBatch: number): Promise<SliceGradients> {
    const batchSize = batch.x.shape[0];
    const slices = this.scatter(batch.x, batch.labelValues, { kind: 'step', microBatch, batchSize });
    const own = await sliceGradients(
      this.model,
      this.variables,
      this.options.kind,
      batch,
      slices[0]!,
      microBatch,
      batchSize,
    );
    let outcomes: ReplicaOutcome[];
    try {
      outcomes = await this.gather(slices.length);
    } catch (error) {
      tf.dispose(own.grads);
      throw error;
    }
    let { lossSum, correct, finite } = own;
    for (const done of outcomes) {
      lossSum += done.lossSum;
      correct += done.correct;
      finite &&= done.finite;
    }
    const parts = this.remotes.slice(0, slices.length - 1).map((remote) => remote.grads);
    try {
      return { grads: addParts(own.grads, parts), lossSum, correct, finite };
    } finally {
      tf.dispose(own.grads);
    }
  }

  /** The most samples one `predict` call takes: every replica's slice full. */
  get capacity(): number {
    return Math.ceil(this.options.batchSize / this.replicas) * this.replicas;
  }

  /**
   * The model's outputs (inference mode) for up to `capacity` samples, computed by every rank on
   * its slice with the current weights (BN statistics included), as [size × classes] floats.
   */
  async predict(x: tf.Tensor4D): Promise<Float32Array> {
    const size = x.shape[0];
    if (size > this.capacity) throw new RangeError(`predict: ${size} samples, at most ${this.capacity}`);
    const classes = this.options.classes;
    const slices = this.scatter(x, undefined, { kind: 'predict', microBatch: 0, batchSize: 0 });
    const first = slices[0]!;
    const own = tf.tidy(() => {
      const part = first.size === size ? x : tf.slice(x, 0, first.size);
      return this.model.predict(part, { batchSize: first.size }) as tf.Tensor;
    });
    const out = new Float32Array(size * classes);
    try {
      out.set((await own.data()) as Float32Array);
    } finally {
      own.dispose();
    }
    await this.gather(slices.length);
    for (let rank = 1; rank < slices.length; rank++) {
      const slice = slices[rank]!;
      out.set(this.remotes[rank - 1]!.outputs.subarray(0, slice.size * classes), slice.start * classes);
    }
    return out;
  }

  /** Gives the threads back for the next pool (or ends those that failed or are mid-request). */
  async close(): Promise<void> {
    await Promise.all(this.remotes.map((remote) => releaseThread(remote.thread)));
  }
}
