/**
 * The training loop: one optimizer step per batch, with the events, checkpoints, cancellation
 * and fault handling that Keras' `fit` does not give us:
 *  - cancellation is checked at every batch boundary (and takes a checkpoint there);
 *  - a NaN/Inf loss or gradient stops the run before the bad step is applied, so the model
 *    keeps the weights of the last good batch (Keras TerminateOnNaN, without the bad step);
 *  - a checkpoint (two generations) is written atomically after every epoch; `resume`
 *    continues from the newest good one.
 * This file holds the loop's contract (hooks, options, outcome); training-run.ts runs it.
 */
import type { EpochMetrics, LiveEnergy, TrainingOptions } from '../../../shared/jobs';
import { setKernelThreads } from '../backend/threads';
import type { Normalization } from '../data/pipeline';
import type { DatasetSplit } from '../data/types';
import type { JobContext } from '../job/context';
import type { LayersModel, tf } from '../tf';
import { disposeCheckpoint, readLatestCheckpoint } from './checkpoint';
import type { WeightSelections } from './optimizer-carry';
import type { Parallelism } from './parallel/parallelism';
import { type LoopState, TrainingRun } from './training-run';

export interface TrainHooks {
  /** Before the forward pass of each batch (e.g. QAT: swap quantised weights in, observe `x`'s activations). */
  beforeBatch?(model: LayersModel, x?: tf.Tensor): void | Promise<void>;
  /**
   * After gradients are computed, before the optimizer applies them (e.g. QAT: restore float weights;
   * a penalty's gradient added). `grads` maps variable names to the batch's mean gradients; a hook may
   * replace entries (disposing the ones it replaces).
   */
  beforeApply?(model: LayersModel, grads?: tf.NamedTensorMap): void;
  /** After each optimizer step (e.g. magnitude pruning: re-apply masks). `step` counts from 1. */
  afterStep?(model: LayersModel, step: number, totalSteps: number): void | Promise<void>;
  /**
   * After each epoch's metrics, before its checkpoint. Returning a model replaces the one being
   * trained (e.g. pruned while training): the loop continues with it, the optimizer (slots sliced per `weightSelections`, else fresh) and
   * restarted replicas, and its checkpoints hold the new model's weights. The caller owns both models.
   */
  afterEpoch?(model: LayersModel, metrics: EpochMetrics): Promise<LayersModel | void>;
  /** After `afterEpoch` replaced the model: what it kept of each old weight, so the optimizer's slots are sliced alike. */
  weightSelections?(): WeightSelections | undefined;
  /** The hooks' own state, kept in every checkpoint and handed back on resume (JSON). */
  saveState?(): unknown;
  restoreState?(state: unknown): void;
}

export interface TrainData {
  train: DatasetSplit;
  validation?: DatasetSplit;
  /** [height, width, channels] */
  shape: [number, number, number];
  classes: number;
}

export interface EnergyProbe {
  sample(): LiveEnergy | undefined;
}

export interface TrainLoopOptions {
  training: TrainingOptions;
  batchSize: number;
  seed: number;
  /** Overrides `training.epochs` (fine-tuning passes its own count). */
  epochs?: number;
  normalization?: Normalization;
  /** Enables checkpoints (and `resume`). */
  checkpointDir?: string;
  resume?: boolean;
  hooks?: TrainHooks;
  /** Stage name in events, e.g. "train" or "fine-tune". */
  stage?: string;
  energy?: EnergyProbe;
  /** CPU threads for data-parallel replicas and kernels (wasm, cpu); default: --threads, else every core. */
  threads?: number;
  /**
   * Data-parallel replicas (default: as many as the threads allow with ≥ 8 samples and
   * MIN_MACS_PER_REPLICA forward multiply-adds each; see replicaCount); the threads left over go to
   * native kernels.
   */
  replicas?: number;
  /** Minimum milliseconds between two `batch` events (the last batch of an epoch always reports). */
  batchEventIntervalMs?: number;
  /**
   * Training samples from which BatchNormalization statistics are re-estimated at the end of each
   * epoch, before validation (0: never). The moving averages (momentum 0.99) trail the weights by
   * hundreds of steps, so after a short run on little data inference-mode accuracy can sit at
   * chance while the weights are fine; training itself never reads them. Default 128.
   */
  bnRecalibrationSamples?: number;
}

export type { EpochMetrics, Parallelism };

export interface TrainOutcome {
  epochsCompleted: number;
  history: EpochMetrics[];
  stoppedEarly: boolean;
  /** Training samples per second over the whole run (this process's part of it). */
  samplesPerSecond: number;
  resumedFrom?: { epoch: number; batch: number; checkpoint: string };
  /** The model trained last, where an `afterEpoch` hook replaced the one passed in. */
  replacedModel?: LayersModel;
  /** How the steps were spread over threads and, where memory required, micro-batches. */
  parallelism: Parallelism;
}

/** The hooks' state in the newest good checkpoint of `checkpointDir` (undefined: none). */
export async function checkpointHookState(checkpointDir: string): Promise<unknown> {
  const { checkpoint } = await readLatestCheckpoint<LoopState>(checkpointDir);
  if (!checkpoint) return undefined;
  disposeCheckpoint(checkpoint);
  return checkpoint.state.extra.hooks;
}

export async function trainModel(
  initialModel: LayersModel,
  data: TrainData,
  options: TrainLoopOptions,
  ctx: JobContext,
): Promise<TrainOutcome> {
  const run = new TrainingRun(initialModel, data, options, ctx);
  try {
    return await run.run();
  } finally {
    await run.close();
    setKernelThreads(run.parallelism.threads);
  }
}
