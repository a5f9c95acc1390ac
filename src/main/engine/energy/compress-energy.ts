/**
 * Energy of a compress run, measured the ENERGY.md way so that every saving is like for like:
 *
 *  - training, per epoch (training-energy.ts): the compressed model's fine-tuning epochs (each
 *    fine-tune stage runs under its own meter, which puts cumulative energy into every epoch's
 *    metrics) against the original's training epochs. The original's come from its baseline train
 *    run where one exists (same data, batch size and backend: the demo's baseline), otherwise,
 *    with `--energy full`, from mini-epochs measured here (mini-epochs.ts);
 *  - inference, per 1,000 samples at batch 32: with `--energy quick` the latency stage's own
 *    batch-32 runs, metered (latency-energy.ts); otherwise the protocol in a pass of its own
 *    (inference-energy.ts);
 *  - the op-count model (computed by the compress job) and carbon for each figure.
 *
 * A saving is only computed between figures with the same label and the same source.
 */
import os from 'node:os';
import type { CompressEnergyOptions, SpecOf } from '../../../shared/jobs';
import { compressEnergyOptionsSchema } from '../../../shared/jobs';
import type { CarbonFigure, EnergyFigure, EnergyStatistic } from '../../../shared/types';
import type { CompressionData } from '../compress/job-data';
import type { JobContext } from '../job/context';
import type { LayersModel } from '../tf';
import type { EpochMetrics } from '../train/loop';
import { carbonForFigure, gridSettingsFromEnv, type GridSettings } from './carbon';
import {
  INFERENCE_BATCH,
  isCancelled,
  measureInferencePhase,
  type InferenceEnergyMeasurement,
  type MeasurementTestOptions,
} from './inference-energy';
import type { MeterSourceState } from './meter';
import { measureMiniEpochs } from './mini-epochs';
import type { InferenceEnergyResult } from './protocol';
import { summariseFigures } from './stats';
import {
  baselineTrainingEnergy,
  compareTrainingEpochs,
  fineTuningSide,
  trainRunOf,
  unavailableFigure,
  type TrainingEnergyComparison,
} from './training-energy';
import { errorMessage } from './types';

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
  /** Quick: the inference energy measured with the latency runs (latency-energy.ts); not measured again. */
  inference?: InferenceEnergyResult;
}

export interface CompressEnergyTestOptions extends MeasurementTestOptions {
  /** Default: POLLARD_GRID_* and POLLARD_PUE. */
  grid?: GridSettings;
}

type OriginalSide = TrainingEnergyComparison['original'];

function notMeasured(reason: string): OriginalSide {
  return {
    method: 'not-measured',
    epochs: [],
    perEpoch: { ...summariseFigures([]), reason },
    detail: reason,
  };
}

/** The original's per-epoch training energy measured here in mini-epochs (`--energy full`). */
async function miniEpochSide(
  input: CompressEnergyInput,
  options: CompressEnergyOptions,
  testOptions: CompressEnergyTestOptions,
): Promise<OriginalSide> {
  const { spec, ctx } = input;
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
      return { method: 'mini-epochs', ...side };
    } finally {
      copy.dispose();
    }
  } catch (error) {
    // A failed measurement costs the figure, never the compress run.
    if (isCancelled(error)) throw error;
    return notMeasured(`the original's mini-epochs failed: ${errorMessage(error)}`);
  }
}

/** The original's epochs: from its baseline run, measured here (full), or why not (quick). */
async function originalSide(
  input: CompressEnergyInput,
  options: CompressEnergyOptions,
  compressedEpochs: number,
  notes: string[],
  testOptions: CompressEnergyTestOptions,
): Promise<OriginalSide> {
  const { spec, ctx } = input;
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
    const { epochs, samplesPerEpoch, warmupExcluded, detail } = baseline;
    return { method: 'baseline-run', epochs, perEpoch, samplesPerEpoch, warmupExcluded, detail };
  }
  if (compressedEpochs === 0) {
    return notMeasured('not measured: this run has no fine-tuning epochs past warm-up to compare with');
  }
  if (options.mode !== 'full') {
    // Quick: no extra training passes only to measure the original.
    return notMeasured(
      `not measured: the original has no train run beside it (${baseline.reason}), and --energy quick adds no training passes (--energy full measures mini-epochs of the original)`,
    );
  }
  notes.push(
    `no baseline training run to compare with (${baseline.reason}); the original's training energy was measured in mini-epochs`,
  );
  return miniEpochSide(input, options, testOptions);
}

const medianFigure = (statistic: EnergyStatistic): EnergyFigure =>
  statistic.median === null
    ? unavailableFigure(statistic.source, statistic.reason ?? 'unavailable')
    : { joules: statistic.median, label: statistic.label, source: statistic.source };

/** The measured energy block of a compress run (see the module comment). */
export async function measureCompressEnergy(
  input: CompressEnergyInput,
  testOptions: CompressEnergyTestOptions = {},
): Promise<CompressEnergyMeasurements> {
  const options = compressEnergyOptionsSchema.parse(input.spec.energy ?? {});
  const notes: string[] = [];
  const compressed = fineTuningSide(input.fineTunes);
  const original = await originalSide(input, options, compressed.epochs.length, notes, testOptions);
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
  const carbon: CompressEnergyMeasurements['carbon'] = {
    training: carbonPair(medianFigure(original.perEpoch), medianFigure(compressed.perEpoch), grid),
    inference:
      inference.status === 'measured'
        ? carbonPair(
            medianFigure(inference.result.original.total.gross),
            medianFigure(inference.result.compressed.total.gross),
            grid,
          )
        : null,
  };
  const machine = machineInfo(sources);
  return {
    version: 1,
    options,
    backend: input.ctx.backend.used,
    training,
    inference,
    sources,
    machine,
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
