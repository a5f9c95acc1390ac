/**
 * Energy of a compress run, measured the ENERGY.md way so that every saving is like for like:
 *
 *  - training, per epoch: the compressed model's fine-tuning epochs (each fine-tune stage runs
 *    under its own meter, which puts cumulative energy into every epoch's metrics) against the
 *    original's training epochs. The original's come from its baseline train run where one exists
 *    (same data, batch size and backend: the demo's baseline), otherwise from mini-epochs measured
 *    here: the first N batches of the same training split plus the same fraction of the
 *    validation split, scaled to a whole epoch (an epoch's energy is proportional to its work);
 *  - inference, per 1,000 samples at batch 32: the protocol (warm-up, idle power, alternating
 *    repetitions, idle subtracted, median and spread) on the current backend;
 *  - the op-count model (computed by the compress job) and carbon for each figure.
 *
 * A saving is only computed between figures with the same label and the same source.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompressEnergyOptions, SpecOf } from '../../../shared/jobs';
import { compressEnergyOptionsSchema } from '../../../shared/jobs';
import type { CarbonFigure, EnergyFigure, EnergyStatistic } from '../../../shared/types';
import type { CompressionData } from '../compress/job-data';
import { firstSamples } from '../compress/job-data';
import { carbonForFigure, gridSettingsFromEnv, type GridSettings } from '../energy/carbon';
import { EnergyMeter, type MeterSourceState } from '../energy/meter';
import {
  compareEnergy,
  measureInferenceEnergy,
  type EnergyComparison,
  type InferenceEnergyResult,
  type ModelRole,
} from '../energy/protocol';
import { summariseFigures } from '../energy/stats';
import type { Clock, EnergySource } from '../energy/types';
import type { JobContext } from '../job/context';
import { tf, type LayersModel, type Tensor } from '../tf';
import type { EpochMetrics, TrainHooks } from '../train/loop';
import { trainModel } from '../train/loop';
import { InferenceProgress } from './energy-progress';

/** Inference energy is measured (and modelled) at this batch size. */
export const INFERENCE_BATCH = 32;

export interface TrainingEnergySide {
  /** One figure per compared epoch, in order, warm-up left out (unavailable ones carry their reason). */
  epochs: EnergyFigure[];
  /** Median and spread of the available per-epoch figures. */
  perEpoch: EnergyStatistic;
  detail: string;
  /** Training samples each compared epoch processed (null where not recorded). */
  samplesPerEpoch?: (number | null)[];
  /** Epochs (or mini-epochs) left out as warm-up: the first of each training stage. */
  warmupExcluded?: number;
}

export interface TrainingEnergyComparison {
  original: TrainingEnergySide & {
    /** `baseline-run`: the original's own training epochs; `mini-epochs`: measured here, scaled. */
    method: 'baseline-run' | 'mini-epochs' | 'not-measured';
  };
  compressed: TrainingEnergySide;
  /** compressed ÷ original per-epoch medians, where both were obtained the same way. */
  comparison: EnergyComparison;
}

export type InferenceEnergyMeasurement =
  | { status: 'measured'; batchSize: number; result: InferenceEnergyResult }
  | { status: 'unavailable'; reason: string };

export interface MachineInfo {
  os: string;
  cpu: string;
  logicalCpus: number;
  memoryGiB: number;
  /** The GPU an energy source reads, or why there is none. */
  gpu: string;
}

export interface CompressEnergyMeasurements {
  /** Version of this block's layout. */
  version: 1;
  options: CompressEnergyOptions;
  backend: string;
  training: TrainingEnergyComparison;
  inference: InferenceEnergyMeasurement;
  /** Every energy source: open (what it reads) or why not. */
  sources: MeterSourceState[];
  machine: MachineInfo;
  /**
   * Grams of CO2e of the per-epoch and the gross per-1,000-sample medians (what the machine drew),
   * with the grid settings at run time.
   */
  carbon: {
    training: { original: CarbonFigure; compressed: CarbonFigure };
    inference: { original: CarbonFigure; compressed: CarbonFigure } | null;
  };
  notes: string[];
}

const unavailable = (source: string, reason: string): EnergyFigure => ({
  joules: null,
  label: 'unavailable',
  source,
  reason,
});

/**
 * Per-epoch energy from the cumulative `energy.total` each epoch's metrics carry (the meter
 * starts with the training stage). An epoch whose cumulative figure went down (a resumed run:
 * a new meter) or is missing is unavailable, with the reason.
 */
export function epochEnergyFigures(history: readonly EpochMetrics[]): EnergyFigure[] {
  let previous: EnergyFigure | null = null;
  return history.map((metrics, index) => {
    const total = metrics.energy?.total;
    let figure: EnergyFigure;
    if (!total) figure = unavailable('none', `epoch ${metrics.epoch}: no energy recorded`);
    else if (total.joules === null) figure = { ...total, reason: total.reason ?? 'energy unavailable' };
    else if (index === 0 || previous === null) figure = { ...total };
    else if (previous.joules === null || previous.label !== total.label || previous.source !== total.source) {
      figure = unavailable(
        total.source,
        `epoch ${metrics.epoch}: the previous epoch has no comparable figure`,
      );
    } else if (total.joules < previous.joules) {
      figure = unavailable(total.source, `epoch ${metrics.epoch}: the run was resumed (a new meter started)`);
    } else figure = { ...total, joules: total.joules - previous.joules };
    previous = total ?? null;
    return figure;
  });
}

/** Training samples an epoch processed (the loop records samples seen ÷ seconds); null where unknown. */
export function epochSamples(metrics: EpochMetrics): number | null {
  if (!(metrics.seconds > 0) || !(metrics.samplesPerSecond > 0)) return null;
  return Math.round(metrics.seconds * metrics.samplesPerSecond);
}

/**
 * The epochs of one training stage that are compared: all but the first, which carries the
 * warm-up (kernel compilation, caches, clocks) and would make the other side look cheaper.
 */
export function steadyEpochs(history: readonly EpochMetrics[]): {
  epochs: EnergyFigure[];
  samples: (number | null)[];
  warmupExcluded: number;
} {
  const figures = epochEnergyFigures(history);
  return {
    epochs: figures.slice(1),
    samples: history.slice(1).map(epochSamples),
    warmupExcluded: Math.min(1, history.length),
  };
}

/**
 * A training-energy comparison, like for like: both sides measured the same way, warm-up left
 * out, and every compared epoch processed the same number of training samples (the batch size is
 * checked where the original's epochs are chosen); otherwise it says why it does not compare.
 */
export function compareTrainingEpochs(
  original: TrainingEnergySide,
  compressed: TrainingEnergySide,
): EnergyComparison {
  const id = 'training per epoch';
  const samples = [...(original.samplesPerEpoch ?? []), ...(compressed.samplesPerEpoch ?? [])];
  const known = samples.filter((count): count is number => count !== null);
  if (known.length > 0 && original.epochs.length > 0 && compressed.epochs.length > 0) {
    const originalSamples = [...new Set((original.samplesPerEpoch ?? []).filter((n) => n !== null))];
    const compressedSamples = [...new Set((compressed.samplesPerEpoch ?? []).filter((n) => n !== null))];
    const all = new Set(known);
    // Within 1% (a resumed or rounded epoch), else the epochs did different amounts of work.
    const low = Math.min(...all);
    const high = Math.max(...all);
    if (high > low * 1.01) {
      return {
        id,
        label: 'unavailable',
        ratio: null,
        saving: null,
        interval: null,
        verdict: 'unavailable',
        reason: `not compared: the epochs trained on different numbers of samples (original ${originalSamples.join(', ') || 'unknown'}, compressed ${compressedSamples.join(', ') || 'unknown'} per epoch)`,
      };
    }
  }
  return compareLikeForLike(id, original.perEpoch, compressed.perEpoch);
}

/** A saving between per-epoch statistics: same label and same source, else unavailable. */
export function compareLikeForLike(
  id: string,
  original: EnergyStatistic,
  compressed: EnergyStatistic,
): EnergyComparison {
  if (
    original.label !== 'unavailable' &&
    compressed.label !== 'unavailable' &&
    original.source !== compressed.source
  ) {
    return {
      id,
      label: 'unavailable',
      ratio: null,
      saving: null,
      reason: `obtained from different sources: ${original.source} against ${compressed.source}`,
    };
  }
  return compareEnergy(id, original, compressed);
}

/** A context that passes stages and logs on but keeps measurement epochs out of the run's history. */
function quietContext(ctx: JobContext): JobContext {
  return {
    backend: ctx.backend,
    signal: ctx.signal,
    throwIfCancelled: () => ctx.throwIfCancelled(),
    log: (level, message) => ctx.log(level, message),
    emit: (event) => {
      if (event.type !== 'batch' && event.type !== 'epoch' && event.type !== 'checkpoint') ctx.emit(event);
    },
  };
}

export interface MiniEpochOptions {
  batches: number;
  repetitions: number;
  batchSize: number;
  seed: number;
  training: SpecOf<'compress'>['training'];
  sources?: EnergySource[];
  clock?: Clock;
  /** Called around each batch as in training (tests advance a fake clock here). */
  hooks?: TrainHooks;
}

/**
 * Training energy per epoch of `model` (which it trains: pass a copy), from mini-epochs: the
 * first `batches` batches of the training split and the same fraction of the validation split,
 * each scaled by 1 / fraction.
 */
export async function measureMiniEpochs(
  model: LayersModel,
  data: Pick<CompressionData, 'train' | 'validation' | 'shape' | 'classes' | 'normalization'>,
  options: MiniEpochOptions,
  ctx: JobContext,
): Promise<TrainingEnergySide> {
  const trainCount = Math.min(data.train.count, options.batches * options.batchSize);
  const fraction = trainCount / data.train.count;
  const validationCount = Math.round(fraction * data.validation.count);
  const train = firstSamples(data.train, trainCount);
  const validation = validationCount > 0 ? firstSamples(data.validation, validationCount) : undefined;
  const meter = await EnergyMeter.start({
    ...(options.sources ? { sources: options.sources } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const epochs: EnergyFigure[] = [];
  try {
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      ctx.throwIfCancelled();
      const start = meter.snapshot();
      await trainModel(
        model,
        { train, ...(validation ? { validation } : {}), shape: data.shape, classes: data.classes },
        {
          training: options.training,
          batchSize: options.batchSize,
          seed: options.seed + repetition,
          epochs: 1,
          normalization: data.normalization,
          stage: `energy: original mini-epoch ${repetition + 1}/${options.repetitions}`,
          ...(options.hooks ? { hooks: options.hooks } : {}),
        },
        quietContext(ctx),
      );
      const total = meter.window(start, await meter.settledSnapshot()).total;
      epochs.push(total.joules === null ? total : { ...total, joules: total.joules / fraction });
    }
  } finally {
    await meter.stop();
  }
  const batches = Math.ceil(trainCount / options.batchSize);
  // The first mini-epoch carries the warm-up (kernel compilation, caches): left out.
  const steady = epochs.slice(1);
  const perEpoch = summariseFigures(steady);
  if (steady.length === 0) {
    perEpoch.reason = 'only one mini-epoch, and the first is left out as warm-up (measure 2 or more)';
  }
  return {
    epochs: steady,
    perEpoch,
    samplesPerEpoch: steady.map(() => data.train.count),
    warmupExcluded: epochs.length - steady.length,
    detail:
      `measured here: ${options.repetitions} mini-epoch${options.repetitions === 1 ? '' : 's'} of the original, the first left out as warm-up, ` +
      `each ${batches} batch${batches === 1 ? '' : 'es'} of ${options.batchSize} (${trainCount} of ${data.train.count} training samples) ` +
      `plus ${validationCount} of ${data.validation.count} validation samples, scaled ×${(1 / fraction).toFixed(3)} to a whole epoch`,
  };
}

/** A fixed input batch (a sine pattern; no RNG state touched), as the latency measurement uses. */
function fixedBatch(model: LayersModel, batch: number): Tensor {
  const shape = model.inputs[0]!.shape.slice(1).map((d) => d ?? 1);
  const size = batch * shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = Math.sin(i * 0.7);
  return tf.tensor(values, [batch, ...shape]);
}

export interface InferenceMeasureOptions {
  repetitions: number;
  warmupRuns: number;
  idleSeconds: number;
  /** How long one run of the original should take; sets the samples per run. */
  runSeconds: number;
  /** The original's latency at batch 32 (ms), from the latency measurement. */
  originalBatchMs: number;
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Wraps each measured workload (tests advance a fake clock here). */
  wrapWorkload?: (role: ModelRole, run: () => Promise<void>) => () => Promise<void>;
  onProgress?: (done: number, total: number, stage: string) => void;
  /** Called once the batches per run are known, before anything runs. */
  onPlan?: (batchesPerRun: number) => void;
  /** Called after every batch of every run (progress within a run). */
  onBatch?: () => void;
}

/** Inference energy per 1,000 samples at batch 32, original against compressed (the protocol). */
export async function measureInference(
  original: LayersModel,
  compressed: LayersModel,
  options: InferenceMeasureOptions,
): Promise<InferenceEnergyResult> {
  const batchMs = Math.max(options.originalBatchMs, 1e-3);
  const batches = Math.min(100_000, Math.max(1, Math.round((options.runSeconds * 1000) / batchMs)));
  options.onPlan?.(batches);
  const inputs = {
    original: fixedBatch(original, INFERENCE_BATCH),
    compressed: fixedBatch(compressed, INFERENCE_BATCH),
  };
  const models = { original, compressed };
  const workload = (role: ModelRole) => async (): Promise<void> => {
    for (let i = 0; i < batches; i++) {
      const output = models[role].predict(inputs[role]) as Tensor;
      // The device must be done before the window closes.
      await output.data();
      output.dispose();
      options.onBatch?.();
    }
  };
  const wrap = options.wrapWorkload ?? ((_role: ModelRole, run: () => Promise<void>) => run);
  try {
    return await measureInferenceEnergy({
      workloads: {
        original: wrap('original', workload('original')),
        compressed: wrap('compressed', workload('compressed')),
      },
      samplesPerRun: batches * INFERENCE_BATCH,
      warmupRuns: options.warmupRuns,
      repetitions: options.repetitions,
      idleSeconds: options.idleSeconds,
      ...(options.sources ? { sources: options.sources } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } finally {
    tf.dispose([inputs.original, inputs.compressed]);
  }
}

/** Machine facts for the report's environment section. */
export function machineInfo(sources: readonly MeterSourceState[]): MachineInfo {
  const cpus = os.cpus();
  const gpuSources = sources.filter((source) => source.covers.includes('gpu'));
  const open = gpuSources.find((source) => source.status === 'open');
  const gpu = open
    ? (open.source ?? open.name)
    : `none measured (${gpuSources.map((source) => `${source.id}: ${source.reason ?? source.status}`).join('; ') || 'no GPU source'})`;
  return {
    os: `${os.type()} ${os.release()} (${process.platform}-${process.arch})`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    logicalCpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    gpu,
  };
}

interface BaselineTraining {
  /** The compared epochs: all but the first (warm-up). */
  epochs: EnergyFigure[];
  samplesPerEpoch: (number | null)[];
  warmupExcluded: number;
  detail: string;
}

async function readJsonFile(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The original's per-epoch training energy from its train run, when that run trained on the
 * same data with the same batch size on the same backend; otherwise why not.
 */
export async function baselineTrainingEnergy(
  runDir: string,
  expect: { data: string; batchSize: number; backend: string; limit?: number; explicit: boolean },
): Promise<BaselineTraining | { reason: string }> {
  const training = await readJsonFile(path.join(runDir, 'training.json'));
  if (!training) return { reason: `${runDir}: no training.json` };
  const dataset = training.dataset as { source?: unknown } | undefined;
  if (path.resolve(String(dataset?.source ?? '')) !== path.resolve(expect.data)) {
    return { reason: `${runDir}: trained on ${String(dataset?.source)}, not on ${expect.data}` };
  }
  if (training.backend !== expect.backend) {
    return { reason: `${runDir}: trained on ${String(training.backend)}, this run uses ${expect.backend}` };
  }
  // A train run records its spec in run.json; the demo's baseline (no run.json) is vouched for by its caller.
  const run = await readJsonFile(path.join(runDir, 'run.json'));
  const spec = run?.spec as { batchSize?: unknown; limit?: unknown } | undefined;
  if (spec) {
    if (spec.batchSize !== expect.batchSize) {
      return { reason: `${runDir}: batch size ${String(spec.batchSize)}, this run uses ${expect.batchSize}` };
    }
    if (spec.limit !== expect.limit) {
      return {
        reason: `${runDir}: --limit ${String(spec.limit ?? 'none')}, this run uses ${String(expect.limit ?? 'none')}`,
      };
    }
  } else if (!expect.explicit) {
    return { reason: `${runDir}: no run.json to check its batch size` };
  }
  const history = Array.isArray(training.history) ? (training.history as EpochMetrics[]) : [];
  if (history.length === 0) return { reason: `${runDir}: no training epochs recorded` };
  const steady = steadyEpochs(history);
  return {
    epochs: steady.epochs,
    samplesPerEpoch: steady.samples,
    warmupExcluded: steady.warmupExcluded,
    detail: `the original's own training run (${runDir}): ${history.length} epoch${history.length === 1 ? '' : 's'} on the same data, batch size ${expect.batchSize}, ${expect.backend}, the first left out as warm-up`,
  };
}

/** The train run a model path belongs to: the path itself, or the folder above a `model/` folder. */
export async function trainRunOf(modelPath: string): Promise<string | undefined> {
  for (const candidate of [modelPath, path.dirname(modelPath)]) {
    if (await readJsonFile(path.join(candidate, 'training.json'))) return candidate;
  }
  return undefined;
}

export interface CompressEnergyInput {
  spec: SpecOf<'compress'>;
  ctx: JobContext;
  /** The original as loaded (never trained here). */
  original: LayersModel;
  /** The compressed model read back from its export. */
  compressed: LayersModel;
  /** Loads a fresh, trainable copy of the original (for mini-epochs). */
  loadOriginalCopy: () => Promise<LayersModel>;
  data: CompressionData;
  /** Fine-tuning histories of the compressed model (their epochs carry cumulative energy). */
  fineTunes: { stage: string; history: EpochMetrics[] }[];
  originalBatchMs: number;
  /** Quick: the inference energy measured with the latency runs (energy-latency.ts); not measured again. */
  inference?: InferenceEnergyResult;
}

export interface CompressEnergyTestOptions {
  /** Default: POLLARD_GRID_* and POLLARD_PUE. */
  grid?: GridSettings;
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

function isCancelled(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'cancelled';
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

/** The inference protocol's own runs, with per-batch progress and an ETA. */
async function measureInferencePhase(
  input: CompressEnergyInput,
  options: CompressEnergyOptions,
  testOptions: CompressEnergyTestOptions,
): Promise<InferenceEnergyMeasurement> {
  const { ctx } = input;
  ctx.emit({
    type: 'stage',
    stage: 'energy: inference',
    detail: `idle ${options.idleSeconds} s, ${options.repetitions} alternating runs of each model at batch ${INFERENCE_BATCH}`,
  });
  // Quick: the latency stage ran both models warm just before; no warm-up runs of its own.
  const warmupRuns = options.mode === 'quick' ? 0 : options.warmupRuns;
  let progress: InferenceProgress | undefined;
  try {
    const result = await measureInference(input.original, input.compressed, {
      repetitions: options.repetitions,
      warmupRuns,
      idleSeconds: options.idleSeconds,
      runSeconds: options.runSeconds,
      originalBatchMs: input.originalBatchMs,
      ...(testOptions.sources ? { sources: testOptions.sources } : {}),
      ...(testOptions.clock ? { clock: testOptions.clock } : {}),
      ...(testOptions.sleep ? { sleep: testOptions.sleep } : {}),
      onPlan: (batchesPerRun) => {
        const plan = { batchesPerRun, runs: 2 * (warmupRuns + options.repetitions) };
        progress = new InferenceProgress(
          { ...plan, idleSeconds: options.idleSeconds, batchMs: input.originalBatchMs },
          (event) => ctx.emit(event),
        );
        progress.start();
      },
      onBatch: () => progress?.batch(),
      onProgress: (_done, _total, stage) => {
        ctx.throwIfCancelled();
        if (stage === 'idle') progress?.idleDone();
      },
    });
    return { status: 'measured', batchSize: INFERENCE_BATCH, result };
  } catch (error) {
    if (isCancelled(error)) throw error;
    return { status: 'unavailable', reason: errorText(error) };
  }
}

/** The measured energy block of a compress run (see the module comment). */
export async function measureCompressEnergy(
  input: CompressEnergyInput,
  testOptions: CompressEnergyTestOptions = {},
): Promise<CompressEnergyMeasurements> {
  const { spec, ctx } = input;
  const options = compressEnergyOptionsSchema.parse(spec.energy ?? {});
  const notes: string[] = [];

  // Training: the compressed model's fine-tuning epochs, the first of each stage left out (warm-up).
  const steadyStages = input.fineTunes.map((record) => steadyEpochs(record.history));
  const compressedEpochs = steadyStages.flatMap((stage) => stage.epochs);
  const allFineTuneEpochs = input.fineTunes.reduce((sum, record) => sum + record.history.length, 0);
  const stages = input.fineTunes.map((record) => record.stage);
  const compressed: TrainingEnergySide = {
    epochs: compressedEpochs,
    perEpoch: summariseFigures(compressedEpochs),
    samplesPerEpoch: steadyStages.flatMap((stage) => stage.samples),
    warmupExcluded: steadyStages.reduce((sum, stage) => sum + stage.warmupExcluded, 0),
    detail:
      allFineTuneEpochs > 0
        ? `the compressed model's fine-tuning: ${compressedEpochs.length} of ${allFineTuneEpochs} epoch${allFineTuneEpochs === 1 ? '' : 's'} (${stages.join(', ')}; the first of each stage left out as warm-up)`
        : 'no fine-tuning epochs in this run',
  };
  if (compressedEpochs.length === 0) {
    compressed.perEpoch = {
      ...compressed.perEpoch,
      reason:
        allFineTuneEpochs > 0
          ? 'only warm-up epochs: the first epoch of each fine-tuning stage is left out, and no stage had a second (--finetune-epochs 2 or more)'
          : 'no fine-tuning epochs in this run (--finetune-epochs 0)',
    };
  }

  // Training: the original's epochs, from its baseline run or measured here.
  let original: TrainingEnergyComparison['original'];
  const baselineDir = options.baselineRun ?? (await trainRunOf(spec.model));
  const baseline = baselineDir
    ? await baselineTrainingEnergy(baselineDir, {
        data: spec.data,
        batchSize: spec.batchSize,
        backend: ctx.backend.used,
        ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
        explicit: options.baselineRun !== undefined,
      })
    : { reason: 'the original model has no train run beside it' };
  if ('epochs' in baseline) {
    const perEpoch = summariseFigures(baseline.epochs);
    if (baseline.epochs.length === 0) {
      perEpoch.reason = "the original's training run has one epoch, and the first is left out as warm-up";
    }
    original = {
      method: 'baseline-run',
      epochs: baseline.epochs,
      perEpoch,
      samplesPerEpoch: baseline.samplesPerEpoch,
      warmupExcluded: baseline.warmupExcluded,
      detail: baseline.detail,
    };
  } else if (compressedEpochs.length === 0 || options.mode !== 'full') {
    // Quick: no extra training passes only to measure the original.
    const reason =
      compressedEpochs.length === 0
        ? 'not measured: this run has no fine-tuning epochs past warm-up to compare with'
        : `not measured: the original has no train run beside it (${baseline.reason}), and --energy quick adds no training passes (--energy full measures mini-epochs of the original)`;
    original = {
      method: 'not-measured',
      epochs: [],
      perEpoch: { ...summariseFigures([]), reason },
      detail: reason,
    };
  } else {
    notes.push(
      `no baseline training run to compare with (${baseline.reason}); the original's training energy was measured in mini-epochs`,
    );
    ctx.emit({
      type: 'stage',
      stage: 'energy: training',
      detail: `${options.trainingRepetitions} mini-epochs of the original`,
    });
    try {
      const copy = await input.loadOriginalCopy();
      try {
        const side = await measureMiniEpochs(
          copy,
          input.data,
          {
            batches: options.trainingBatches,
            repetitions: options.trainingRepetitions,
            batchSize: spec.batchSize,
            seed: spec.seed,
            training: spec.training,
            ...(testOptions.sources ? { sources: testOptions.sources } : {}),
            ...(testOptions.clock ? { clock: testOptions.clock } : {}),
          },
          ctx,
        );
        original = { method: 'mini-epochs', ...side };
      } finally {
        copy.dispose();
      }
    } catch (error) {
      // A failed measurement costs the figure, never the compress run.
      if (isCancelled(error)) throw error;
      const reason = `the original's mini-epochs failed: ${errorText(error)}`;
      original = {
        method: 'not-measured',
        epochs: [],
        perEpoch: { ...summariseFigures([]), reason },
        detail: reason,
      };
    }
  }
  const training: TrainingEnergyComparison = {
    original,
    compressed,
    comparison: compareTrainingEpochs(original, compressed),
  };

  // Inference: measured with the latency runs (quick), else the protocol, original against compressed.
  const inference: InferenceEnergyMeasurement = input.inference
    ? { status: 'measured', batchSize: INFERENCE_BATCH, result: input.inference }
    : await measureInferencePhase(input, options, testOptions);
  const sources = inference.status === 'measured' ? inference.result.meterSources : [];
  const grid = testOptions.grid ?? gridSettingsFromEnv();
  const median = (statistic: EnergyStatistic): EnergyFigure =>
    statistic.median === null
      ? unavailable(statistic.source, statistic.reason ?? 'unavailable')
      : { joules: statistic.median, label: statistic.label, source: statistic.source };
  const carbon: CompressEnergyMeasurements['carbon'] = {
    training: carbonPair(median(original.perEpoch), median(compressed.perEpoch), grid),
    inference:
      inference.status === 'measured'
        ? carbonPair(
            median(inference.result.original.total.gross),
            median(inference.result.compressed.total.gross),
            grid,
          )
        : null,
  };
  return {
    version: 1,
    options,
    backend: ctx.backend.used,
    training,
    inference,
    sources,
    machine: machineInfo(sources),
    carbon,
    notes,
  };
}

/** Grams of CO2e for a pair of figures (original, compressed) under one grid setting. */
export function carbonPair(
  original: EnergyFigure,
  compressed: EnergyFigure,
  settings: GridSettings,
): { original: CarbonFigure; compressed: CarbonFigure } {
  return { original: carbonForFigure(original, settings), compressed: carbonForFigure(compressed, settings) };
}
