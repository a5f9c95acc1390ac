/**
 * One run of the training loop (loop.ts's `trainModel`), split into its steps: `resume` from a
 * checkpoint, `runEpoch` over the batches, `trainStep` for one batch (hooks, gradients, NaN stop,
 * optimizer step), `reportBatch`, and `endEpoch` (metrics, validation, early stopping, a model
 * swapped in by a hook, the checkpoint). The run's mutable state lives on the instance.
 */
import { PollardError } from '../../../shared/errors';
import type { EpochMetrics } from '../../../shared/jobs';
import type { BackendName } from '../../../shared/types';
import { computeThreads } from '../backend/threads';
import { webgpuDeviceLost } from '../backend/webgpu-rung';
import { type Batch, batchCount, makeBatch, shuffledOrder } from '../data/pipeline';
import { cancelledError, type JobContext } from '../job/context';
import { type LayersModel, tf } from '../tf';
import { Rng } from '../util/rng';
import { disposeCheckpoint, readLatestCheckpoint, writeCheckpoint } from './checkpoint';
import type { TrainData, TrainLoopOptions, TrainOutcome } from './loop';
import { hasBatchNorm, recalibrateBatchNorm } from './bn-recalibration';
import { evaluateModel } from './evaluate';
import { outputKind } from './loss';
import { estimateTrainingMemory, isWasmAbort, wasmAbortError } from './memory-estimate';
import { createOptimizer, learningRateAt, setLearningRate, type Optimizer } from './optimizer';
import { carryOptimizerState } from './optimizer-carry';
import { type Parallelism, planParallelism, startParallelism } from './parallel/parallelism';
import { type ReplicaPool, ReplicaError } from './parallel/replica-pool';
import { sliceGradients } from './parallel/slice-gradients';
import { directStep, type StepGradients } from './step-gradients';
import {
  applyWeightDecay,
  augmentationRng,
  checkModelFitsData,
  namedModelWeights,
  optimizerWeights,
  trainableVariables,
  yieldToEventLoop,
} from './training-helpers';

/** Sums over the batches of an epoch so far. */
interface EpochSums {
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
}

/** What the loop keeps in a checkpoint besides weights and optimizer slots. */
export interface LoopState {
  /** RNG state at the start of the epoch being (or about to be) trained. */
  rng: number[];
  history: EpochMetrics[];
  step: number;
  bestMonitored: number | null;
  epochsWithoutImprovement: number;
  /** Sums for a partly trained epoch (checkpoint taken on cancel). */
  partial?: EpochSums;
  /** The hooks' state (`TrainHooks.saveState`). */
  hooks?: unknown;
}

/** One epoch in progress. */
interface Epoch {
  index: number;
  learningRate: number;
  rng: Rng;
  order: Uint32Array;
  partial: EpochSums;
  /** performance.now() at the epoch's start (earlier by the seconds a resumed epoch already took). */
  start: number;
  lastEvent: number;
}

export class TrainingRun {
  model: LayersModel;
  private readonly kind: ReturnType<typeof outputKind>;
  private readonly epochs: number;
  private readonly batches: number;
  private variables: tf.Variable[];
  private optimizer: Optimizer;
  private memory: ReturnType<typeof estimateTrainingMemory>;
  /** The backend actually active (tests switch it under one context), not only the one the ladder chose. */
  private readonly activeBackend = tf.getBackend() as BackendName;
  parallelism: Parallelism;
  private pool: ReplicaPool | undefined;
  private state: LoopState;
  private startEpoch = 0;
  private startBatch = 0;
  private resumedFrom: TrainOutcome['resumedFrom'];
  private processedSamples = 0;
  private stoppedEarly = false;

  constructor(
    private readonly initialModel: LayersModel,
    private readonly data: TrainData,
    private readonly options: TrainLoopOptions,
    private readonly ctx: JobContext,
  ) {
    this.model = initialModel;
    checkModelFitsData(this.model, data);
    this.kind = outputKind(this.model);
    this.epochs = options.epochs ?? options.training.epochs;
    this.batches = batchCount(data.train.count, options.batchSize);
    this.variables = trainableVariables(this.model);
    this.optimizer = createOptimizer(options.training);
    this.memory = estimateTrainingMemory(this.model);
    this.parallelism = planParallelism(
      this.model,
      this.memory,
      options.batchSize,
      this.activeBackend,
      options.threads ?? computeThreads(),
      options.replicas,
    );
    this.state = {
      rng: new Rng(options.seed).state(),
      history: [],
      step: 0,
      bestMonitored: null,
      epochsWithoutImprovement: 0,
    };
  }

  async run(): Promise<TrainOutcome> {
    if (this.options.resume && this.options.checkpointDir) await this.resume(this.options.checkpointDir);
    await this.startReplicas();
    const { batchSize } = this.options;
    this.ctx.emit({
      type: 'stage',
      stage: this.options.stage ?? 'train',
      detail: `${this.epochs} epochs × ${this.batches} batches of ${batchSize}`,
    });
    const runStart = performance.now();
    for (let epoch = this.startEpoch; epoch < this.epochs && !this.stoppedEarly; epoch++) {
      await this.endEpoch(await this.runEpoch(epoch));
    }
    const seconds = (performance.now() - runStart) / 1000;
    return {
      epochsCompleted: this.state.history.length,
      history: this.state.history,
      stoppedEarly: this.stoppedEarly,
      samplesPerSecond: this.processedSamples / Math.max(seconds, 1e-9),
      parallelism: { ...this.parallelism, replicas: this.pool?.replicas ?? 1 },
      ...(this.resumedFrom ? { resumedFrom: this.resumedFrom } : {}),
      ...(this.model !== this.initialModel ? { replacedModel: this.model } : {}),
    };
  }

  /** Release the optimizer and the replicas (always, also after a failure). */
  async close(): Promise<void> {
    this.optimizer.dispose();
    await this.pool?.close();
  }

  private async resume(checkpointDir: string): Promise<void> {
    const { checkpoint, skipped } = await readLatestCheckpoint<LoopState>(checkpointDir);
    for (const skip of skipped) this.ctx.log('warn', `skipped checkpoint ${skip.dir}: ${skip.reason}`);
    if (!checkpoint) return;
    try {
      const expected = this.model.weights.length;
      if (checkpoint.weights.length !== expected) {
        throw new PollardError(
          'bad-input',
          `${checkpoint.dir}: checkpoint holds ${checkpoint.weights.length} weights, the model has ${expected}`,
        );
      }
      this.model.setWeights(checkpoint.weights.map((w) => w.tensor));
      await this.optimizer.setWeights(checkpoint.optimizer.map((w) => ({ name: w.name, tensor: w.tensor })));
      this.state = checkpoint.state.extra;
      if (this.state.hooks !== undefined) this.options.hooks?.restoreState?.(this.state.hooks);
      this.startEpoch = checkpoint.state.epoch;
      this.startBatch = checkpoint.state.batch;
      this.resumedFrom = { epoch: this.startEpoch, batch: this.startBatch, checkpoint: checkpoint.dir };
      this.ctx.log(
        'info',
        `resumed from ${checkpoint.dir} (epoch ${this.startEpoch}, batch ${this.startBatch})`,
      );
    } finally {
      disposeCheckpoint(checkpoint);
    }
  }

  private async startReplicas(): Promise<void> {
    ({ pool: this.pool, parallelism: this.parallelism } = await startParallelism(
      this.model,
      this.variables,
      this.kind,
      this.data,
      this.options.batchSize,
      this.parallelism,
      this.memory,
      this.ctx,
    ));
  }

  private async saveCheckpoint(epoch: number, batch: number): Promise<void> {
    if (!this.options.checkpointDir) return;
    const opt = await optimizerWeights(this.optimizer);
    try {
      const dir = await writeCheckpoint(this.options.checkpointDir, {
        epoch,
        batch,
        weights: namedModelWeights(this.model),
        optimizer: opt.named,
        extra: { ...this.state, hooks: this.options.hooks?.saveState?.() },
      });
      this.ctx.emit({ type: 'checkpoint', epoch, path: dir });
    } finally {
      for (const tensor of opt.owned) tensor.dispose();
    }
  }

  private async runEpoch(index: number): Promise<Epoch> {
    const { training } = this.options;
    const learningRate = learningRateAt(training.schedule, training.learningRate, index, this.epochs);
    setLearningRate(this.optimizer, learningRate);
    const rng = Rng.fromState(this.state.rng);
    const order = shuffledOrder(this.data.train.count, rng);
    const partial =
      this.startBatch > 0 && this.state.partial
        ? this.state.partial
        : { lossSum: 0, correct: 0, seen: 0, seconds: 0 };
    const epoch: Epoch = {
      index,
      learningRate,
      rng,
      order,
      partial,
      start: performance.now() - partial.seconds * 1000,
      lastEvent: 0,
    };
    for (let batch = this.startBatch; batch < this.batches; batch++) {
      await yieldToEventLoop();
      await this.checkInterrupted(epoch, batch);
      await this.trainStep(epoch, batch);
      this.reportBatch(epoch, batch);
    }
    this.startBatch = 0;
    return epoch;
  }

  /** A lost GPU ends the run; a cancel takes a checkpoint at this batch boundary first. */
  private async checkInterrupted(epoch: Epoch, batch: number): Promise<void> {
    const lost = this.activeBackend === 'webgpu' ? webgpuDeviceLost() : undefined;
    if (lost !== undefined) {
      // Nothing more can run on the device, not even a checkpoint: the last one written stays.
      const { checkpointDir } = this.options;
      throw new PollardError(
        'crash',
        `the GPU device was lost while training "${this.model.name}" (${lost}) at epoch ${epoch.index + 1}, batch ${batch + 1}` +
          (checkpointDir
            ? `; the last checkpoint in ${checkpointDir} is intact and --resume continues from it`
            : ''),
      );
    }
    if (this.ctx.signal.aborted) {
      this.state.partial = { ...epoch.partial, seconds: (performance.now() - epoch.start) / 1000 };
      await this.saveCheckpoint(epoch.index, batch);
      throw cancelledError();
    }
  }

  private makeInput(epoch: Epoch, batch: number): Batch {
    const { batchSize, training, seed, normalization } = this.options;
    const count = this.data.train.count;
    const indices = epoch.order.subarray(batch * batchSize, Math.min((batch + 1) * batchSize, count));
    const augment = training.augment
      ? { rng: augmentationRng(seed, epoch.index, batch), padding: 4, flip: true }
      : undefined;
    return makeBatch(this.data.train, this.data.shape, indices, this.data.classes, {
      normalization,
      augment,
    });
  }

  /** One batch: hooks, the mean gradient, the NaN stop, the optimizer step. */
  private async trainStep(epoch: Epoch, batch: number): Promise<void> {
    const { hooks } = this.options;
    const input = this.makeInput(epoch, batch);
    const labels = tf.tensor1d(input.labels, 'int32');
    let step: StepGradients | undefined;
    try {
      await hooks?.beforeBatch?.(this.model, input.x);
      step = await this.computeStep(input, labels);
      if (!step.finite) await this.stopOnNonFinite(epoch, batch, step);
      hooks?.beforeApply?.(this.model, step.grads);
      this.optimizer.applyGradients(step.grads);
      const { weightDecay } = this.options.training;
      if (weightDecay > 0) applyWeightDecay(this.model, epoch.learningRate * weightDecay);
      this.state.step += 1;
      await hooks?.afterStep?.(this.model, this.state.step, this.epochs * this.batches);
      epoch.partial.lossSum += step.loss * input.size;
      epoch.partial.correct += step.correct;
      epoch.partial.seen += input.size;
      this.processedSamples += input.size;
    } catch (error) {
      if (isWasmAbort(error) || (error instanceof ReplicaError && error.abort)) {
        const { microBatch } = this.parallelism;
        throw wasmAbortError(this.model, microBatch, this.memory, this.options.checkpointDir, error);
      }
      throw error;
    } finally {
      input.x.dispose();
      input.y.dispose();
      labels.dispose();
      if (step) tf.dispose(Object.values(step.grads));
    }
  }

  /** A NaN/Inf loss or gradient: checkpoint the last good weights, then stop. */
  private async stopOnNonFinite(epoch: Epoch, batch: number, step: StepGradients): Promise<never> {
    const what = !Number.isFinite(step.loss)
      ? `the loss became ${String(step.loss)}`
      : 'a gradient became NaN or Inf';
    this.options.hooks?.beforeApply?.(this.model, step.grads);
    this.state.partial = { ...epoch.partial, seconds: (performance.now() - epoch.start) / 1000 };
    await this.saveCheckpoint(epoch.index, batch);
    const { checkpointDir } = this.options;
    throw new PollardError(
      'non-finite',
      `training stopped at epoch ${epoch.index + 1}, batch ${batch + 1}: ${what}; the weights of the last good batch were kept` +
        (checkpointDir ? ` (checkpoint in ${checkpointDir})` : '') +
        '. Try a lower learning rate.',
    );
  }

  /** The mean gradient of one batch, directly or summed over replicas and micro-batches. */
  private async computeStep(input: Batch, labels: tf.Tensor1D): Promise<StepGradients> {
    const { pool, model, variables, kind } = this;
    const { microBatch } = this.parallelism;
    if (!pool && microBatch >= input.size) return directStep(model, variables, kind, input, labels);
    const batchTensors = { x: input.x, y: input.y, labels, labelValues: input.labels };
    const whole = { start: 0, size: input.size };
    const summed = pool
      ? await pool.step(batchTensors, microBatch)
      : await sliceGradients(model, variables, kind, batchTensors, whole, microBatch, input.size);
    const grads = Object.fromEntries(variables.map((v, i) => [v.name, summed.grads[i]!]));
    return { grads, loss: summed.lossSum / input.size, correct: summed.correct, finite: summed.finite };
  }

  /** A `batch` event, at most every `batchEventIntervalMs` (the epoch's last batch always reports). */
  private reportBatch(epoch: Epoch, batch: number): void {
    const now = performance.now();
    if (now - epoch.lastEvent < (this.options.batchEventIntervalMs ?? 250) && batch !== this.batches - 1)
      return;
    epoch.lastEvent = now;
    const { partial } = epoch;
    const count = this.data.train.count;
    const rate = partial.seen / Math.max((now - epoch.start) / 1000, 1e-9);
    const remaining = (this.epochs - epoch.index - 1) * count + (count - partial.seen);
    this.ctx.emit({
      type: 'batch',
      epoch: epoch.index + 1,
      epochs: this.epochs,
      batch: batch + 1,
      batches: this.batches,
      loss: partial.lossSum / partial.seen,
      accuracy: partial.correct / partial.seen,
      samplesPerSecond: rate,
      etaSeconds: remaining / Math.max(rate, 1e-9),
      ...(this.options.energy ? { energy: this.options.energy.sample() } : {}),
    });
  }

  /** Metrics, validation, early stopping, a model swapped in by a hook, and the epoch's checkpoint. */
  private async endEpoch(epoch: Epoch): Promise<void> {
    const seconds = (performance.now() - epoch.start) / 1000;
    const { partial } = epoch;
    const metrics: EpochMetrics = {
      epoch: epoch.index + 1,
      loss: partial.lossSum / Math.max(partial.seen, 1),
      accuracy: partial.correct / Math.max(partial.seen, 1),
      learningRate: epoch.learningRate,
      seconds,
      samplesPerSecond: partial.seen / Math.max(seconds, 1e-9),
    };
    await this.validate(epoch.index, metrics);
    const energy = this.options.energy?.sample();
    if (energy) metrics.energy = energy;
    this.ctx.emit({ type: 'epoch', epochs: this.epochs, ...metrics });
    this.state.history.push(metrics);
    this.state.rng = epoch.rng.state();
    this.state.partial = undefined;
    this.checkEarlyStopping(epoch.index, metrics);
    const replacement = await this.options.hooks?.afterEpoch?.(this.model, metrics);
    if (replacement && replacement !== this.model) await this.replaceModel(replacement);
    await this.saveCheckpoint(epoch.index + 1, 0);
  }

  /** Validation metrics, after BatchNormalization statistics are re-estimated (see TrainLoopOptions). */
  private async validate(epochIndex: number, metrics: EpochMetrics): Promise<void> {
    const { validation, train, shape, classes } = this.data;
    if (!validation || validation.count === 0) return;
    const { batchSize, normalization, seed } = this.options;
    const bnSamples = this.options.bnRecalibrationSamples ?? 128;
    if (bnSamples > 0 && hasBatchNorm(this.model)) {
      await recalibrateBatchNorm(
        this.model,
        { split: train, shape, classes, normalization },
        { samples: bnSamples, batchSize, seed: seed + epochIndex },
      );
    }
    const result = await evaluateModel(this.model, validation, shape, classes, {
      batchSize,
      normalization,
      classNames: [],
      detailed: false,
      ...(this.pool ? { replicas: this.pool } : {}),
    });
    metrics.valLoss = result.loss;
    metrics.valAccuracy = result.accuracy;
  }

  private checkEarlyStopping(epochIndex: number, metrics: EpochMetrics): void {
    const rule = this.options.training.earlyStopping;
    if (!rule) return;
    const monitored = metrics.valLoss ?? metrics.loss;
    if (this.state.bestMonitored === null || monitored < this.state.bestMonitored - rule.minDelta) {
      this.state.bestMonitored = monitored;
      this.state.epochsWithoutImprovement = 0;
      return;
    }
    this.state.epochsWithoutImprovement += 1;
    if (this.state.epochsWithoutImprovement >= rule.patience) {
      this.stoppedEarly = true;
      this.ctx.log(
        'info',
        `early stopping after epoch ${epochIndex + 1}: no improvement for ${this.state.epochsWithoutImprovement} epochs`,
      );
    }
  }

  /**
   * A new architecture from `afterEpoch`: the replicas rebuild from topology, so they restart with
   * it; the optimizer's slots are sliced like the weights where the hook says how, else it starts fresh.
   */
  private async replaceModel(replacement: LayersModel): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    this.model = replacement;
    checkModelFitsData(this.model, this.data);
    this.variables = trainableVariables(this.model);
    const next = createOptimizer(this.options.training);
    const selections = this.options.hooks?.weightSelections?.();
    try {
      if (selections) await carryOptimizerState(this.optimizer, next, selections, this.model);
    } finally {
      this.optimizer.dispose();
      this.optimizer = next;
    }
    this.memory = estimateTrainingMemory(this.model);
    this.parallelism = planParallelism(
      this.model,
      this.memory,
      this.options.batchSize,
      this.activeBackend,
      this.parallelism.threads,
      this.options.replicas,
    );
    await this.startReplicas();
  }
}
