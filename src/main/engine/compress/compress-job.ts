/**
 * The compress job (the sensitivity and plan jobs live in sensitivity-job.ts and plan-job.ts). A compress run records, before and after, accuracy,
 * parameters, MACs, file size raw and gzipped, and measured latency (batch 1 and 32, same
 * backend, models alternated), writes the compressed model to `<out>/model/` and the record to
 * `<out>/compression.json`, and says what TensorFlow.js realises and what it does not.
 *
 * Each method has its runner (method-runners.ts); this file is the pipeline around it (load,
 * evaluate, run the method, BN reference, export, read back, measure, record). Methods:
 *  - structured: prune channels (target MACs/params, optionally in N steps each followed by
 *    fine-tuning; or automatic mode from an accuracy budget), fine-tune;
 *  - magnitude: zero the smallest weights on a polynomial schedule during fine-tuning;
 *  - quantize: post-training weight quantization in the tfjs manifest (float16/uint16/uint8);
 *  - qat: fine-tune with fake-quantized weights, then export quantized (also measures PTQ of the
 *    original for comparison);
 *  - structured+quantize: structured, then quantized export.
 * After-accuracy is always measured on the model read back from the export, i.e. on the real
 * dequantized weights.
 */
import { modelNormalization } from '../data/input-scaling';
import { requireSingleInputOutput } from '../model/single-io';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { compressEnergyOptionsSchema, type CompressionMethod, type SpecOf } from '../../../shared/jobs';
import { usageError } from '../../../shared/errors';
import type { BackendName, EnergyFigure } from '../../../shared/types';
import { opCountEnergy } from '../energy/op-count';
import type { Bits } from '../energy/op-count';
import { summarizeLayers } from '../model/summary';
import type { CompressEnergyMeasurements } from '../energy/compress-energy';
import { measureCompressEnergy } from '../energy/compress-energy';
import { measureLatencyWithEnergy } from '../energy/latency-energy';
import type { InferenceEnergyResult } from '../energy/protocol';
import { writeJsonAtomic } from '../../util/atomic';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import type { LoadedModel } from '../model/types';
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import type { LayersModel } from '../tf';
import type { LayerRow } from './compare';
import type { FineTuneRecord } from './job-common';
import { RECALIBRATION_SAMPLES, recalibrate, stage } from './job-common';
import type { StructuredOutcome, StructuredStep } from './structured-run';
import { countModel, exportedSize, layerTable } from './compare';
import type { CompressionData } from './job-data';
import { accuracyOn, prepareCompressionData } from './job-data';
import type { LatencyDetail, LatencyOptions } from './latency';
import { measureLatency } from './latency';
import type { LayerSparsity, SparsitySchedule } from './magnitude';
import type { PrunePlan } from './pruner';
import { QAT_RANGES_KEY } from './qat-ranges';
import type { OnnxDeployment } from '../onnx/deployment';
import { deploymentNote, deployOnOnnxRuntime } from './onnx-stage';
import type { MethodOutcome } from './method-runners';
import { cloneModel, METHOD_RUNNERS } from './method-runners';

export type ModelRecord = {
  /** Top-1, 0..1, on `evaluation.split`. */
  accuracy: number;
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
  latencyMs: { batch1: number; batch32: number };
  weightDtype: string;
};

export type CompressResult = {
  kind: 'compress';
  method: CompressionMethod;
  backend: BackendName;
  device: string;
  runDir: string;
  /** The compressed model's figures at top level, as every `--json` output has them (= `after`). */
  accuracy: number;
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
  /** The exported compressed model (a tfjs layers model folder). */
  modelPath: string;
  evaluation: { split: 'test' | 'validation'; samples: number };
  before: ModelRecord;
  after: ModelRecord;
  /** before − after accuracy, in points (0..100). */
  accuracyDropPoints: number;
  /**
   * Accuracy of the ORIGINAL model with its BN statistics re-estimated the same way as the
   * compressed model's (present when the compressed model was recalibrated): separates what
   * adaptive BN alone changes from what the compression costs.
   */
  originalBnRecalibratedAccuracy?: number;
  layers: LayerRow[];
  /** What TensorFlow.js realises from this compression and what it does not. */
  realised: string[];
  notes: string[];
  latency: { before: LatencyDetail; after: LatencyDetail };
  /**
   * Modelled inference energy per 1,000 samples (op-count × Horowitz 45 nm): `after` assumes
   * hardware that runs the compressed representation natively (int8 for uint8 weights, skipped
   * zeros for magnitude pruning), which TensorFlow.js does not; see `realised`.
   */
  energy: {
    before: EnergyFigure;
    after: EnergyFigure;
    assumptions: string[];
    /** Measured training and inference energy (the ENERGY.md protocol); absent with `energy.measure` off. */
    measured?: CompressEnergyMeasurements;
  };
  fineTune: FineTuneRecord[];
  structured?: {
    criterion: string;
    scope: 'global' | 'layer';
    steps: StructuredStep[];
    unsupported: PrunePlan['unsupported'];
    auto?: StructuredOutcome['auto'];
  };
  magnitude?: {
    sparsity: number;
    scope: 'global' | 'layer';
    schedule?: SparsitySchedule;
    layers: LayerSparsity[];
  };
  /**
   * Both models deployed on ONNX Runtime (CPU): float32, or int8 for a run with 8-bit weights;
   * absent where ONNX Runtime does not load or a layer has no ONNX form (`onnxRuntimeUnavailable`).
   */
  onnxRuntime?: OnnxDeployment;
  onnxRuntimeUnavailable?: string;
  quantization?: {
    dtype: WeightQuantization;
    granularity?: 'tensor' | 'channel';
    /** QAT only: accuracy of the original exported at the same dtype (post-training), BN statistics re-estimated like the QAT model's. */
    ptqAccuracy?: number;
  };
};

const COMPRESSION_FILE = 'compression.json';

function checkSpec(spec: SpecOf<'compress'>): void {
  const structured = spec.method === 'structured' || spec.method === 'structured+quantize';
  if (
    structured &&
    spec.targetMacs === undefined &&
    spec.targetParams === undefined &&
    spec.accuracyBudget === undefined
  ) {
    throw usageError(
      `compress --method ${spec.method} needs --target-macs, --target-params or --accuracy-budget`,
    );
  }
  if (structured && spec.targetMacs !== undefined && spec.targetParams !== undefined) {
    throw usageError('compress: give --target-macs or --target-params, not both');
  }
  if (spec.accuracyBudget !== undefined && spec.targetParams !== undefined) {
    throw usageError('compress: automatic mode (--accuracy-budget) takes --target-macs, not --target-params');
  }
  if (spec.method === 'magnitude' && spec.sparsity === undefined) {
    throw usageError('compress --method magnitude needs --sparsity');
  }
  if (spec.method === 'qat' && spec.finetuneEpochs === 0) {
    throw usageError('compress --method qat needs at least one fine-tuning epoch (--finetune-epochs)');
  }
}

/** The adaptive-BN note, with the samples really used: RECALIBRATION_SAMPLES, or fewer when the training split is smaller. */
export function recalibrationNote(trainCount: number, after: string, originalAccuracy: number): string {
  const samples = Math.min(RECALIBRATION_SAMPLES, trainCount);
  return `BatchNormalization statistics of the compressed model were re-estimated on ${samples} training samples after ${after} (adaptive BN); the original model is evaluated as given, and scores ${(originalAccuracy * 100).toFixed(2)}% with its statistics re-estimated the same way`;
}

/** What TensorFlow.js realises of a compression, with before/after ratios (latencies below 1 ms included). */
export function realisedNotes(
  method: CompressionMethod,
  backend: string,
  before: ModelRecord,
  after: ModelRecord,
  dtype?: WeightQuantization,
): string[] {
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
  const notes: string[] = [];
  if (method === 'structured' || method === 'structured+quantize') {
    notes.push(
      `Structured pruning removed whole channels: every tensor of the exported model is smaller, ${ratio(before.macs, after.macs)} fewer MACs and ${ratio(before.params, after.params)} fewer parameters. ` +
        `Measured on ${backend}: ${ratio(before.latencyMs.batch32, after.latencyMs.batch32)} speedup at batch 32, ${ratio(before.latencyMs.batch1, after.latencyMs.batch1)} at batch 1 (a cut in MACs is not the same as a cut in latency).`,
    );
  }
  if (method === 'magnitude') {
    notes.push(
      `Magnitude pruning leaves the kernels dense: the zeros make the gzipped model ${ratio(before.sizeGzipBytes, after.sizeGzipBytes)} smaller, but latency, memory at run time and compute do not change on TensorFlow.js, which has no sparse kernels.`,
    );
  }
  if (dtype) {
    notes.push(
      `Weights are stored as ${dtype} in the TensorFlow.js weights manifest: the file is ${ratio(before.sizeBytes, after.sizeBytes)} smaller. ` +
        'TensorFlow.js dequantizes them to float32 when it loads the model, so compute, run-time memory and latency are unchanged on TensorFlow.js; hardware with native low-precision arithmetic would also save compute (see the op-count energy estimate).',
    );
  }
  return notes;
}

/** Engine-side knobs that are not part of the job spec (tests shorten the latency measurement). */
export interface CompressRunOptions {
  latency?: LatencyOptions;
}

/** Latency: at least 10 s per batch size on the pair (more runs on a busy machine), at most 120 s. */
const DEFAULT_LATENCY: LatencyOptions = { minSeconds: 10, maxSeconds: 120 };

/** What one compress run has gathered by the time it measures and records. */
interface CompressRun {
  spec: SpecOf<'compress'>;
  ctx: JobContext;
  data: CompressionData;
  original: LayersModel;
  /** The exported compressed model, read back from disk. */
  reloaded: LayersModel;
  method: MethodOutcome;
  quantize: WeightQuantization | undefined;
  accuracyBefore: number;
  accuracyAfter: number;
  originalBnRecalibratedAccuracy: number | undefined;
  notes: string[];
  modelPath: string;
}

export async function runCompress(
  spec: SpecOf<'compress'>,
  ctx: JobContext,
  options: CompressRunOptions = {},
): Promise<CompressResult> {
  checkSpec(spec);
  await fs.mkdir(spec.out, { recursive: true });
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  const original = loaded.model;
  let method: MethodOutcome | undefined;
  let reloaded: LayersModel | undefined;
  try {
    requireSingleInputOutput(original, spec.model);
    const data = await prepareCompressionData(spec.data, original, {
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      validationSplit: spec.training.validationSplit,
      seed: spec.seed,
      ...modelNormalization(spec.inputScaling, loaded.metadata.normalization),
    });
    stage(ctx, 'evaluate-before', `${data.evaluation.count} ${data.evaluationSplit} samples`);
    const accuracyBefore = await accuracyOn(
      original,
      data.evaluation,
      data,
      spec.batchSize,
      ctx,
      'evaluate-before',
    );
    method = await METHOD_RUNNERS[spec.method]({ original, data, spec, ctx });
    const notes = [...evaluationNotes(data), ...method.notes];
    const reference = await bnRecalibratedReference(original, method.compressed, data, spec, ctx);
    if (reference) notes.push(reference.note);
    const quantize = method.quantization?.dtype;
    const modelPath = await exportCompressed(loaded.metadata, method, quantize, data, spec, ctx);
    reloaded = (await openModel(modelPath)).model;
    stage(ctx, 'evaluate-after', 'the exported model, read back from disk');
    const accuracyAfter = await accuracyOn(
      reloaded,
      data.evaluation,
      data,
      spec.batchSize,
      ctx,
      'evaluate-after',
    );
    const run: CompressRun = {
      spec,
      ctx,
      data,
      original,
      reloaded,
      method,
      quantize,
      accuracyBefore,
      accuracyAfter,
      originalBnRecalibratedAccuracy: reference?.accuracy,
      notes,
      modelPath,
    };
    const result = await recordRun(run, await measureRun(run, options));
    await writeJsonAtomic(path.join(spec.out, COMPRESSION_FILE), result);
    await fs.rm(path.join(spec.out, 'steps'), { recursive: true, force: true });
    for (const note of result.realised) ctx.log('info', note);
    return result;
  } finally {
    reloaded?.dispose();
    if (method && method.compressed !== original) method.compressed.dispose();
    original.dispose();
  }
}

function evaluationNotes(data: CompressionData): string[] {
  return data.evaluationSplit === 'validation'
    ? ['the dataset has no test split: before/after accuracy is measured on the held-out validation samples']
    : [];
}

/**
 * Where the compressed model's BN statistics were re-estimated (any method but quantize), the
 * original's accuracy with its statistics re-estimated the same way, and the note that says so.
 */
async function bnRecalibratedReference(
  original: LayersModel,
  compressed: LayersModel,
  data: CompressionData,
  spec: SpecOf<'compress'>,
  ctx: JobContext,
): Promise<{ accuracy: number; note: string } | undefined> {
  const hasBatchNorm = compressed.layers.some((layer) => layer.getClassName() === 'BatchNormalization');
  if (!hasBatchNorm || spec.method === 'quantize') return undefined;
  stage(ctx, 'reference', 'the original with its BN statistics re-estimated the same way');
  const reference = await cloneModel(original);
  let accuracy: number;
  try {
    await recalibrate(reference, data, spec.seed, ctx);
    accuracy = await accuracyOn(reference, data.evaluation, data, spec.batchSize, ctx);
  } finally {
    reference.dispose();
  }
  const structuredRun = spec.method === 'structured' || spec.method === 'structured+quantize';
  const after = [
    structuredRun || spec.finetuneEpochs === 0 ? 'pruning' : '',
    spec.finetuneEpochs > 0 ? 'fine-tuning' : '',
  ]
    .filter(Boolean)
    .join(' and after ');
  return { accuracy, note: recalibrationNote(data.train.count, after, accuracy) };
}

/** Save the compressed model (quantized where the method says) to `<out>/model`. */
async function exportCompressed(
  metadata: LoadedModel['metadata'],
  method: MethodOutcome,
  quantize: WeightQuantization | undefined,
  data: CompressionData,
  spec: SpecOf<'compress'>,
  ctx: JobContext,
): Promise<string> {
  const modelPath = path.join(spec.out, 'model');
  stage(ctx, 'export', modelPath);
  await saveModel(method.compressed, modelPath, {
    ...(quantize ? { quantize } : {}),
    metadata: {
      ...metadata,
      normalization: data.normalization,
      producedBy: {
        tool: 'pollard compress',
        method: spec.method,
        source: spec.model,
        runDir: spec.out,
        ...(method.qatRanges ? { [QAT_RANGES_KEY]: method.qatRanges } : {}),
      },
    },
  });
  return modelPath;
}

interface Measured {
  before: ModelRecord;
  after: ModelRecord;
  latency: { before: LatencyDetail; after: LatencyDetail };
  quick: Awaited<ReturnType<typeof latencyWithEnergy>>;
  deployment: Awaited<ReturnType<typeof deployOnOnnxRuntime>>;
}

/** Latency (with energy under --energy quick), ONNX Runtime, sizes and counts, before and after. */
async function measureRun(run: CompressRun, options: CompressRunOptions): Promise<Measured> {
  const { spec, ctx, original, reloaded, quantize } = run;
  // --energy quick: the batch-32 latency runs are the inference-energy runs (no second pass).
  const quickEnergy =
    measuresEnergy(spec) && compressEnergyOptionsSchema.parse(spec.energy ?? {}).mode === 'quick';
  stage(
    ctx,
    'latency',
    `warm median, batch 1 and 32, on ${ctx.backend.used}${quickEnergy ? ', batch 32 under the energy meter' : ''}`,
  );
  const latencyOptions = options.latency ?? DEFAULT_LATENCY;
  const quick = quickEnergy
    ? await latencyWithEnergy(original, reloaded, spec, latencyOptions, ctx)
    : undefined;
  const [latencyBefore, latencyAfter] =
    quick?.latency ?? (await measureLatency([original, reloaded], latencyOptions));
  const deployment = await deployOnOnnxRuntime(
    original,
    reloaded,
    quantize === 'uint8',
    run.data,
    ctx,
    run.method.qatRanges,
  );
  const sizeBefore = await exportedSize(original);
  const sizeAfter = await exportedSize(run.method.compressed, quantize);
  const latencyMs = (detail: LatencyDetail) => ({ batch1: detail.batch1, batch32: detail.batch32 });
  return {
    before: {
      accuracy: run.accuracyBefore,
      ...countModel(original),
      ...sizeBefore,
      latencyMs: latencyMs(latencyBefore!),
      weightDtype: 'float32',
    },
    after: {
      accuracy: run.accuracyAfter,
      ...countModel(reloaded),
      ...sizeAfter,
      latencyMs: latencyMs(latencyAfter!),
      weightDtype: quantize ?? 'float32',
    },
    latency: { before: latencyBefore!, after: latencyAfter! },
    quick,
    deployment,
  };
}

/** The run's record (compression.json): the figures, what is realised, energy modelled and measured. */
async function recordRun(run: CompressRun, measured: Measured): Promise<CompressResult> {
  const { spec, ctx, method, quantize, original, reloaded } = run;
  const { before, after, deployment } = measured;
  const accuracyDropPoints = (run.accuracyBefore - run.accuracyAfter) * 100;
  const structured = method.structured;
  if (structured?.auto) structured.auto.budgetMet = accuracyDropPoints <= structured.auto.budgetPoints + 1e-9;
  const magnitude = method.magnitude;
  const sparsity = magnitude ? new Map(magnitude.layers.map((l) => [l.layer, l.sparsity])) : undefined;
  return {
    kind: 'compress',
    method: spec.method,
    backend: ctx.backend.used,
    device: ctx.backend.device,
    runDir: spec.out,
    accuracy: after.accuracy,
    params: after.params,
    macs: after.macs,
    sizeBytes: after.sizeBytes,
    sizeGzipBytes: after.sizeGzipBytes,
    modelPath: run.modelPath,
    evaluation: { split: run.data.evaluationSplit, samples: run.data.evaluation.count },
    before,
    after,
    accuracyDropPoints,
    ...(run.originalBnRecalibratedAccuracy !== undefined
      ? { originalBnRecalibratedAccuracy: run.originalBnRecalibratedAccuracy }
      : {}),
    layers: layerTable(original, reloaded, {
      ...(sparsity ? { sparsity } : {}),
      ...(quantize ? { dtype: quantize } : {}),
    }),
    realised: [
      ...realisedNotes(spec.method, ctx.backend.used, before, after, quantize),
      ...(deployment.onnxRuntime ? [deploymentNote(deployment.onnxRuntime)] : []),
    ],
    notes: run.notes,
    latency: measured.latency,
    energy: await energyRecord(run, measured, sparsity),
    fineTune: method.fineTunes,
    ...(structured ? { structured } : {}),
    ...(magnitude ? { magnitude } : {}),
    ...deployment,
    ...(method.quantization ? { quantization: method.quantization } : {}),
  };
}

/** Energy modelled from op counts, and measured (the ENERGY.md protocol) unless --energy off. */
async function energyRecord(
  run: CompressRun,
  measured: Measured,
  sparsity: Map<string, number> | undefined,
): Promise<CompressResult['energy']> {
  const { spec, ctx, original, reloaded } = run;
  const modelled = modelledEnergy(original, reloaded, run.quantize, sparsity);
  if (!measuresEnergy(spec)) return modelled;
  const energy = await measureCompressEnergy({
    spec,
    ctx,
    original,
    compressed: reloaded,
    loadOriginalCopy: async () => (await openModel(spec.model)).model,
    data: run.data,
    fineTunes: run.method.fineTunes,
    originalBatchMs: measured.before.latencyMs.batch32,
    ...(measured.quick ? { inference: measured.quick.inference } : {}),
  });
  return { ...modelled, measured: energy };
}

function measuresEnergy(spec: SpecOf<'compress'>): boolean {
  return !(spec.energy?.measure === false || spec.energy?.mode === 'off');
}

/** Latency with the batch-32 runs metered (energy-latency.ts), with progress and an ETA. */
async function latencyWithEnergy(
  original: LayersModel,
  compressed: LayersModel,
  spec: SpecOf<'compress'>,
  latency: LatencyOptions,
  ctx: JobContext,
): Promise<{ latency: [LatencyDetail, LatencyDetail]; inference: InferenceEnergyResult } | undefined> {
  const energy = compressEnergyOptionsSchema.parse(spec.energy ?? {});
  const started = Date.now();
  try {
    return await measureLatencyWithEnergy(original, compressed, {
      latency,
      repetitions: energy.repetitions,
      idleSeconds: energy.idleSeconds,
      onProgress: (done, total) => {
        ctx.throwIfCancelled();
        const etaSeconds = ((Date.now() - started) / 1000 / done) * (total - done);
        ctx.emit({ type: 'progress', stage: 'latency', done, total, etaSeconds });
      },
    });
  } catch (error) {
    // A failed energy measurement costs the figure, never the run: latency and energy apart.
    if ((error as { code?: unknown } | null)?.code === 'cancelled') throw error;
    ctx.log('warn', `latency under the energy meter failed (${String(error)}); measuring them apart`);
    return undefined;
  }
}

/** Op-count energy per 1,000 samples at batch 32, before and after (see CompressResult.energy). */
function modelledEnergy(
  before: LayersModel,
  after: LayersModel,
  quantize: WeightQuantization | undefined,
  sparsity: Map<string, number> | undefined,
): CompressResult['energy'] {
  const common = { samples: 1000, batchSize: 32 };
  // uint8: int8 weights and activations; float16: fp16 throughout; uint16: 16-bit weight reads, fp32 compute.
  const bits: [Bits, Bits] =
    quantize === 'uint8'
      ? [8, 8]
      : quantize === 'float16'
        ? [16, 16]
        : quantize === 'uint16'
          ? [16, 32]
          : [32, 32];
  const original = opCountEnergy(summarizeLayers(before), common);
  const compressed = opCountEnergy(summarizeLayers(after), {
    ...common,
    weightBits: bits[0],
    activationBits: bits[1],
    ...(sparsity ? { sparsity: Object.fromEntries(sparsity) } : {}),
  });
  return { before: original.total, after: compressed.total, assumptions: compressed.assumptions };
}

export { runSensitivity } from './sensitivity-job';
export type { SensitivityJobResult } from './sensitivity-job';
export { runPlan } from './plan-job';
export type { PlanJobResult, PlanPoint } from './plan-job';
export type { FineTuneRecord } from './job-common';
export type { StructuredStep } from './structured-run';
