/**
 * The training loop: one optimizer step per batch, with the events, checkpoints, cancellation
 * and fault handling that Keras' `fit` does not give us:
 *  - cancellation is checked at every batch boundary (and takes a checkpoint there);
 *  - a NaN/Inf loss or gradient stops the run before the bad step is applied, so the model
 *    keeps the weights of the last good batch (Keras TerminateOnNaN, without the bad step);
 *  - a checkpoint (two generations) is written atomically after every epoch; `resume`
 *    continues from the newest good one.
 */
import { PollardError } from '../../../shared/errors';
import type { EpochMetrics, LiveEnergy, TrainingOptions } from '../../../shared/jobs';
import type { BackendName } from '../../../shared/types';
import { computeThreads, setKernelThreads } from '../backend/threads';
import { webgpuDeviceLost } from '../backend/webgpu-rung';
import { type Batch, batchCount, makeBatch, type Normalization, shuffledOrder } from '../data/pipeline';
import type { DatasetSplit } from '../data/types';
import { cancelledError, type JobContext } from '../job/context';
import { type LayersModel, tf } from '../tf';
import { Rng } from '../util/rng';
import { type NamedTensor, disposeCheckpoint, readLatestCheckpoint, writeCheckpoint } from './checkpoint';
import { hasBatchNorm, recalibrateBatchNorm } from './bn-recalibration';
import { evaluateModel } from './evaluate';
import { outputKind } from './loss';
import { estimateTrainingMemory, isWasmAbort, wasmAbortError } from './memory-estimate';
import { createOptimizer, learningRateAt, setLearningRate, type Optimizer } from './optimizer';
import { carryOptimizerState, type WeightSelections } from './optimizer-carry';
import { type Parallelism, planParallelism, startParallelism } from './parallel/parallelism';
import { type ReplicaPool, ReplicaError } from './parallel/replica-pool';
import { sliceGradients } from './parallel/slice-gradients';
import { directStep, type StepGradients } from './step-gradients';

export interface TrainHooks {
  /** Before the forward pass of each batch (e.g. QAT: swap quantised weights in). */
  beforeBatch?(model: LayersModel): void | Promise<void>;
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
   * Data-parallel replicas (default: as many as the threads allow with ≥ 8 samples and ≥ 100 M
   * forward multiply-adds each; see replicaCount); the threads left over go to native kernels.
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

/** What the loop keeps in a checkpoint besides weights and optimizer slots. */
interface LoopState {
  /** RNG state at the start of the epoch being (or about to be) trained. */
  rng: number[];
  history: EpochMetrics[];
  step: number;
  bestMonitored: number | null;
  epochsWithoutImprovement: number;
  /** Sums for a partly trained epoch (checkpoint taken on cancel). */
  partial?: { lossSum: number; correct: number; seen: number; seconds: number };
  /** The hooks' state (`TrainHooks.saveState`). */
  hooks?: unknown;
}

/** The hooks' state in the newest good checkpoint of `checkpointDir` (undefined: none). */
export async function checkpointHookState(checkpointDir: string): Promise<unknown> {
  const { checkpoint } = await readLatestCheckpoint<LoopState>(checkpointDir);
  if (!checkpoint) return undefined;
  disposeCheckpoint(checkpoint);
  return checkpoint.state.extra.hooks;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function trainableVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

function namedModelWeights(model: LayersModel): NamedTensor[] {
  return model.weights.map((weight) => ({ name: weight.originalName, tensor: weight.read() }));
}

async function optimizerWeights(optimizer: Optimizer): Promise<{ named: NamedTensor[]; owned: tf.Tensor[] }> {
  const weights = await optimizer.getWeights();
  // getWeights() returns the slot variables themselves plus a fresh iteration-count scalar.
  const owned = weights.filter((w) => w.name === 'iter').map((w) => w.tensor);
  return { named: weights.map((w) => ({ name: w.name, tensor: w.tensor })), owned };
}

/** Per-batch augmentation stream, derived from the seed so a resumed epoch replays it exactly. */
function augmentationRng(seed: number, epoch: number, batch: number): Rng {
  return new Rng((seed * 2_654_435_761 + epoch * 40_503 + batch * 9_973 + 1) >>> 0);
}

function checkModelFitsData(model: LayersModel, data: TrainData): void {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const [h, w, c] = data.shape;
  if (input.length !== 3 || input[0] !== h || input[1] !== w || input[2] !== c) {
    throw new PollardError(
      'bad-input',
      `the model "${model.name}" expects inputs of shape [${input.map(String).join(', ')}] but the dataset has [${h}, ${w}, ${c}]`,
    );
  }
  const units = model.outputs[0]?.shape[model.outputs[0].shape.length - 1];
  if (units !== data.classes) {
    throw new PollardError(
      'bad-input',
      `the model "${model.name}" has ${String(units)} outputs but the dataset has ${data.classes} classes`,
    );
  }
}

export async function trainModel(
  initialModel: LayersModel,
  data: TrainData,
  options: TrainLoopOptions,
  ctx: JobContext,
): Promise<TrainOutcome> {
  let model = initialModel;
  checkModelFitsData(model, data);
  const kind = outputKind(model);
  const stage = options.stage ?? 'train';
  const training = options.training;
  const epochs = options.epochs ?? training.epochs;
  const batchSize = options.batchSize;
  const batches = batchCount(data.train.count, batchSize);
  const totalSteps = epochs * batches;
  const eventInterval = options.batchEventIntervalMs ?? 250;
  let variables = trainableVariables(model);
  let optimizer = createOptimizer(training);
  let memory = estimateTrainingMemory(model);
  // The backend actually active (tests switch it under one context), not only the one the ladder chose.
  const activeBackend = tf.getBackend() as BackendName;
  let parallelism = planParallelism(
    model,
    memory,
    batchSize,
    activeBackend,
    options.threads ?? computeThreads(),
    options.replicas,
  );
  let pool: ReplicaPool | undefined;

  /** The mean gradient of one batch, directly or summed over replicas and micro-batches. */
  const computeStep = async (input: Batch, labels: tf.Tensor1D): Promise<StepGradients> => {
    if (!pool && parallelism.microBatch >= input.size)
      return directStep(model, variables, kind, input, labels);
    const batchTensors = { x: input.x, y: input.y, labels, labelValues: input.labels };
    const whole = { start: 0, size: input.size };
    const summed = pool
      ? await pool.step(batchTensors, parallelism.microBatch)
      : await sliceGradients(model, variables, kind, batchTensors, whole, parallelism.microBatch);
    const grads = tf.tidy(() =>
      Object.fromEntries(variables.map((v, i) => [v.name, tf.div(summed.sums[i]!, input.size)])),
    );
    tf.dispose(summed.sums);
    return { grads, loss: summed.lossSum / input.size, correct: summed.correct, finite: summed.finite };
  };

  let state: LoopState = {
    rng: new Rng(options.seed).state(),
    history: [],
    step: 0,
    bestMonitored: null,
    epochsWithoutImprovement: 0,
  };
  let startEpoch = 0;
  let startBatch = 0;
  let resumedFrom: TrainOutcome['resumedFrom'];

  try {
    if (options.resume && options.checkpointDir) {
      const { checkpoint, skipped } = await readLatestCheckpoint<LoopState>(options.checkpointDir);
      for (const skip of skipped) ctx.log('warn', `skipped checkpoint ${skip.dir}: ${skip.reason}`);
      if (checkpoint) {
        try {
          const expected = model.weights.length;
          if (checkpoint.weights.length !== expected) {
            throw new PollardError(
              'bad-input',
              `${checkpoint.dir}: checkpoint holds ${checkpoint.weights.length} weights, the model has ${expected}`,
            );
          }
          model.setWeights(checkpoint.weights.map((w) => w.tensor));
          await optimizer.setWeights(checkpoint.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
          state = checkpoint.state.extra;
          if (state.hooks !== undefined) options.hooks?.restoreState?.(state.hooks);
          startEpoch = checkpoint.state.epoch;
          startBatch = checkpoint.state.batch;
          resumedFrom = { epoch: startEpoch, batch: startBatch, checkpoint: checkpoint.dir };
          ctx.log('info', `resumed from ${checkpoint.dir} (epoch ${startEpoch}, batch ${startBatch})`);
        } finally {
          disposeCheckpoint(checkpoint);
        }
      }
    }

    ({ pool, parallelism } = await startParallelism(
      model,
      variables,
      kind,
      data,
      batchSize,
      parallelism,
      memory,
      ctx,
    ));

    const saveCheckpoint = async (epoch: number, batch: number): Promise<void> => {
      if (!options.checkpointDir) return;
      const opt = await optimizerWeights(optimizer);
      try {
        const dir = await writeCheckpoint(options.checkpointDir, {
          epoch,
          batch,
          weights: namedModelWeights(model),
          optimizer: opt.named,
          extra: { ...state, hooks: options.hooks?.saveState?.() },
        });
        ctx.emit({ type: 'checkpoint', epoch, path: dir });
      } finally {
        for (const tensor of opt.owned) tensor.dispose();
      }
    };

    ctx.emit({ type: 'stage', stage, detail: `${epochs} epochs × ${batches} batches of ${batchSize}` });
    let processedSamples = 0;
    const runStart = performance.now();
    let stoppedEarly = false;
    let epoch = startEpoch;

    for (; epoch < epochs && !stoppedEarly; epoch++) {
      const learningRate = learningRateAt(training.schedule, training.learningRate, epoch, epochs);
      setLearningRate(optimizer, learningRate);
      const epochRng = Rng.fromState(state.rng);
      const order = shuffledOrder(data.train.count, epochRng);
      const partial =
        startBatch > 0 && state.partial ? state.partial : { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
      const epochStart = performance.now() - partial.seconds * 1000;
      let lastEvent = 0;

      for (let batch = startBatch; batch < batches; batch++) {
        await yieldToEventLoop();
        const lost = activeBackend === 'webgpu' ? webgpuDeviceLost() : undefined;
        if (lost !== undefined) {
          // Nothing more can run on the device, not even a checkpoint: the last one written stays.
          throw new PollardError(
            'crash',
            `the GPU device was lost while training "${model.name}" (${lost}) at epoch ${epoch + 1}, batch ${batch + 1}` +
              (options.checkpointDir
                ? `; the last checkpoint in ${options.checkpointDir} is intact and --resume continues from it`
                : ''),
          );
        }
        if (ctx.signal.aborted) {
          state.partial = { ...partial, seconds: (performance.now() - epochStart) / 1000 };
          await saveCheckpoint(epoch, batch);
          throw cancelledError();
        }
        const indices = order.subarray(
          batch * batchSize,
          Math.min((batch + 1) * batchSize, data.train.count),
        );
        const augment = training.augment
          ? { rng: augmentationRng(options.seed, epoch, batch), padding: 4, flip: true }
          : undefined;
        const input = makeBatch(data.train, data.shape, indices, data.classes, {
          normalization: options.normalization,
          augment,
        });
        const labels = tf.tensor1d(input.labels, 'int32');
        let step: StepGradients | undefined;
        try {
          await options.hooks?.beforeBatch?.(model);
          step = await computeStep(input, labels);
          if (!step.finite) {
            const what = !Number.isFinite(step.loss)
              ? `the loss became ${String(step.loss)}`
              : 'a gradient became NaN or Inf';
            options.hooks?.beforeApply?.(model, step.grads);
            state.partial = { ...partial, seconds: (performance.now() - epochStart) / 1000 };
            await saveCheckpoint(epoch, batch);
            throw new PollardError(
              'non-finite',
              `training stopped at epoch ${epoch + 1}, batch ${batch + 1}: ${what}; the weights of the last good batch were kept` +
                (options.checkpointDir ? ` (checkpoint in ${options.checkpointDir})` : '') +
                '. Try a lower learning rate.',
            );
          }
          options.hooks?.beforeApply?.(model, step.grads);
          optimizer.applyGradients(step.grads);
          if (training.weightDecay > 0) applyWeightDecay(model, learningRate * training.weightDecay);
          state.step += 1;
          await options.hooks?.afterStep?.(model, state.step, totalSteps);
          partial.lossSum += step.loss * input.size;
          partial.correct += step.correct;
          partial.seen += input.size;
          processedSamples += input.size;
        } catch (error) {
          if (isWasmAbort(error) || (error instanceof ReplicaError && error.abort)) {
            throw wasmAbortError(model, parallelism.microBatch, memory, options.checkpointDir, error);
          }
          throw error;
        } finally {
          input.x.dispose();
          input.y.dispose();
          labels.dispose();
          if (step) tf.dispose(Object.values(step.grads));
        }

        const now = performance.now();
        if (now - lastEvent >= eventInterval || batch === batches - 1) {
          lastEvent = now;
          const elapsed = (now - epochStart) / 1000;
          const rate = partial.seen / Math.max(elapsed, 1e-9);
          const remaining = (epochs - epoch - 1) * data.train.count + (data.train.count - partial.seen);
          ctx.emit({
            type: 'batch',
            epoch: epoch + 1,
            epochs,
            batch: batch + 1,
            batches,
            loss: partial.lossSum / partial.seen,
            accuracy: partial.correct / partial.seen,
            samplesPerSecond: rate,
            etaSeconds: remaining / Math.max(rate, 1e-9),
            ...(options.energy ? { energy: options.energy.sample() } : {}),
          });
        }
      }
      startBatch = 0;

      const seconds = (performance.now() - epochStart) / 1000;
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        loss: partial.lossSum / Math.max(partial.seen, 1),
        accuracy: partial.correct / Math.max(partial.seen, 1),
        learningRate,
        seconds,
        samplesPerSecond: partial.seen / Math.max(seconds, 1e-9),
      };
      if (data.validation && data.validation.count > 0) {
        const bnSamples = options.bnRecalibrationSamples ?? 128;
        if (bnSamples > 0 && hasBatchNorm(model)) {
          await recalibrateBatchNorm(
            model,
            {
              split: data.train,
              shape: data.shape,
              classes: data.classes,
              normalization: options.normalization,
            },
            { samples: bnSamples, batchSize, seed: options.seed + epoch },
          );
        }
        const validation = await evaluateModel(model, data.validation, data.shape, data.classes, {
          batchSize,
          normalization: options.normalization,
          classNames: [],
          detailed: false,
          ...(pool ? { replicas: pool } : {}),
        });
        metrics.valLoss = validation.loss;
        metrics.valAccuracy = validation.accuracy;
      }
      const energy = options.energy?.sample();
      if (energy) metrics.energy = energy;
      ctx.emit({ type: 'epoch', epochs, ...metrics });

      state.history.push(metrics);
      state.rng = epochRng.state();
      state.partial = undefined;
      if (training.earlyStopping) {
        const monitored = metrics.valLoss ?? metrics.loss;
        if (
          state.bestMonitored === null ||
          monitored < state.bestMonitored - training.earlyStopping.minDelta
        ) {
          state.bestMonitored = monitored;
          state.epochsWithoutImprovement = 0;
        } else {
          state.epochsWithoutImprovement += 1;
          if (state.epochsWithoutImprovement >= training.earlyStopping.patience) {
            stoppedEarly = true;
            ctx.log(
              'info',
              `early stopping after epoch ${epoch + 1}: no improvement for ${state.epochsWithoutImprovement} epochs`,
            );
          }
        }
      }
      const replacement = await options.hooks?.afterEpoch?.(model, metrics);
      if (replacement && replacement !== model) {
        // A new architecture: the replicas rebuild from topology, so they restart with it; the
        // optimizer's slots are sliced like the weights where the hook says how, else it starts fresh.
        await pool?.close();
        pool = undefined;
        model = replacement;
        checkModelFitsData(model, data);
        variables = trainableVariables(model);
        const next = createOptimizer(training);
        const selections = options.hooks?.weightSelections?.();
        try {
          if (selections) await carryOptimizerState(optimizer, next, selections, model);
        } finally {
          optimizer.dispose();
          optimizer = next;
        }
        memory = estimateTrainingMemory(model);
        parallelism = planParallelism(
          model,
          memory,
          batchSize,
          activeBackend,
          parallelism.threads,
          options.replicas,
        );
        ({ pool, parallelism } = await startParallelism(
          model,
          variables,
          kind,
          data,
          batchSize,
          parallelism,
          memory,
          ctx,
        ));
      }
      await saveCheckpoint(epoch + 1, 0);
    }

    const seconds = (performance.now() - runStart) / 1000;
    return {
      epochsCompleted: state.history.length,
      history: state.history,
      stoppedEarly,
      samplesPerSecond: processedSamples / Math.max(seconds, 1e-9),
      parallelism: { ...parallelism, replicas: pool?.replicas ?? 1 },
      ...(resumedFrom ? { resumedFrom } : {}),
      ...(model !== initialModel ? { replacedModel: model } : {}),
    };
  } finally {
    optimizer.dispose();
    await pool?.close();
    setKernelThreads(parallelism.threads);
  }
}

/** Decoupled weight decay (Loshchilov & Hutter) on kernels only, not on biases or BN parameters. */
function applyWeightDecay(model: LayersModel, factor: number): void {
  tf.tidy(() => {
    for (const weight of model.trainableWeights) {
      if (!/kernel$/.test(weight.originalName)) continue;
      const variable = weight.read() as tf.Variable;
      variable.assign(tf.mul(variable, 1 - factor));
    }
  });
}
