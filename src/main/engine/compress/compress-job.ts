/**
 * The compress job (the sensitivity and plan jobs live in sensitivity-job.ts and plan-job.ts). A compress run records, before and after, accuracy,
 * parameters, MACs, file size raw and gzipped, and measured latency (batch 1 and 32, same
 * backend, models alternated), writes the compressed model to `<out>/model/` and the record to
 * `<out>/compression.json`, and says what TensorFlow.js realises and what it does not.
 *
 * Methods:
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
import os from 'node:os';
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
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import type { LayersModel } from '../tf';
import type { LayerRow } from './compare';
import type { FineTuneRecord } from './job-common';
import { fineTune, RECALIBRATION_SAMPLES, recalibrate, stage } from './job-common';
import type { StructuredOutcome, StructuredStep } from './structured-run';
import { runStructured } from './structured-run';
import { countModel, exportedSize, layerTable } from './compare';
import { buildDependencyGraph } from './graph';
import type { CompressionData } from './job-data';
import { accuracyOn, prepareCompressionData } from './job-data';
import type { LatencyDetail, LatencyOptions } from './latency';
import { measureLatency } from './latency';
import type { LayerSparsity, SparsitySchedule } from './magnitude';
import { defaultSchedule, MagnitudePruner, overallSparsity } from './magnitude';
import type { PrunePlan } from './pruner';
import { QuantizationAwareTraining } from './qat';
import type { OnnxDeployment } from '../onnx/deployment';
import { deploymentNote, deployOnOnnxRuntime } from './onnx-stage';
import { buildPrunedModel } from './surgery';

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
  let compressed: LayersModel | undefined;
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
    const notes: string[] = [];
    const fineTunes: FineTuneRecord[] = [];
    if (data.evaluationSplit === 'validation') {
      notes.push(
        'the dataset has no test split: before/after accuracy is measured on the held-out validation samples',
      );
    }
    const quantize: WeightQuantization | undefined =
      spec.method === 'quantize' || spec.method === 'qat' || spec.method === 'structured+quantize'
        ? spec.dtype
        : undefined;
    let structured: CompressResult['structured'];
    let magnitude: CompressResult['magnitude'];
    let quantization: CompressResult['quantization'];

    if (spec.method === 'structured' || spec.method === 'structured+quantize') {
      const outcome = await runStructured(original, data, spec, ctx);
      compressed = outcome.model;
      fineTunes.push(...outcome.fineTunes);
      notes.push(...outcome.notes);
      structured = {
        criterion: spec.criterion,
        scope: spec.scope,
        steps: outcome.steps,
        unsupported: outcome.unsupported,
        ...(outcome.auto ? { auto: outcome.auto } : {}),
      };
    } else if (spec.method === 'magnitude') {
      compressed = await cloneModel(original);
      const pruner = new MagnitudePruner(compressed, {
        scope: spec.scope,
        ignoredLayers: spec.ignoredLayers,
      });
      const sparsity = spec.sparsity!;
      let schedule: SparsitySchedule | undefined;
      try {
        if (spec.finetuneEpochs > 0) {
          stage(
            ctx,
            'magnitude',
            `polynomial schedule to ${(sparsity * 100).toFixed(0)}% sparsity during fine-tuning`,
          );
          const record = await fineTune(
            compressed,
            data,
            spec,
            ctx,
            'fine-tune',
            pruner.hooks((totalSteps) => (schedule = defaultSchedule(sparsity, totalSteps))),
          );
          if (record) fineTunes.push(record);
          if (Math.abs(overallSparsity(await pruner.report()) - sparsity) > 0.005) {
            // Early stopping can end fine-tuning before the schedule reached its final sparsity.
            await pruner.prune(sparsity);
            notes.push(
              `fine-tuning ended before the schedule reached ${sparsity}; the final sparsity was applied after it`,
            );
          }
        } else {
          stage(ctx, 'magnitude', `one shot to ${(sparsity * 100).toFixed(0)}% sparsity, no fine-tuning`);
          await pruner.prune(sparsity);
          await recalibrate(compressed, data, spec.seed, ctx);
        }
        magnitude = {
          sparsity,
          scope: spec.scope,
          ...(schedule ? { schedule } : {}),
          layers: await pruner.report(),
        };
      } finally {
        pruner.dispose();
      }
    } else if (spec.method === 'qat') {
      compressed = await cloneModel(original);
      stage(
        ctx,
        'qat',
        `${spec.granularity === 'tensor' ? 'per-tensor' : 'per-channel'} ${spec.dtype} fake-quant on the weights`,
      );
      if (spec.granularity === 'channel') {
        notes.push(
          'per-channel QAT trains against one quantization range per output channel, but the TensorFlow.js weights manifest stores one range per tensor: the export re-quantizes per tensor (use --granularity tensor for QAT that matches the export exactly)',
        );
      }
      const qat = new QuantizationAwareTraining(compressed, {
        dtype: spec.dtype,
        granularity: spec.granularity,
      });
      try {
        const record = await fineTune(compressed, data, spec, ctx, 'fine-tune', qat.hooks());
        if (record) fineTunes.push(record);
      } finally {
        qat.dispose();
      }
      stage(ctx, 'ptq-reference', 'post-training quantization of the original, for comparison');
      // The QAT model's BN statistics are re-estimated after fine-tuning; so are the reference's,
      // so that the comparison is QAT against PTQ and not adaptive BN against none.
      const reference = await cloneModel(original);
      try {
        await recalibrate(reference, data, spec.seed, ctx);
        quantization = {
          dtype: spec.dtype,
          granularity: spec.granularity,
          ptqAccuracy: await quantizedAccuracy(reference, spec.dtype, data, spec.batchSize),
        };
      } finally {
        reference.dispose();
      }
    } else {
      compressed = original;
    }
    if (quantize && !quantization) quantization = { dtype: quantize };
    const hasBatchNorm = compressed.layers.some((layer) => layer.getClassName() === 'BatchNormalization');
    let originalBnRecalibratedAccuracy: number | undefined;
    if (hasBatchNorm && spec.method !== 'quantize') {
      stage(ctx, 'reference', 'the original with its BN statistics re-estimated the same way');
      const reference = await cloneModel(original);
      try {
        await recalibrate(reference, data, spec.seed, ctx);
        originalBnRecalibratedAccuracy = await accuracyOn(
          reference,
          data.evaluation,
          data,
          spec.batchSize,
          ctx,
        );
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
      notes.push(recalibrationNote(data.train.count, after, originalBnRecalibratedAccuracy));
    }

    stage(ctx, 'export', path.join(spec.out, 'model'));
    const modelPath = path.join(spec.out, 'model');
    await saveModel(compressed, modelPath, {
      ...(quantize ? { quantize } : {}),
      metadata: {
        ...loaded.metadata,
        normalization: data.normalization,
        producedBy: { tool: 'pollard compress', method: spec.method, source: spec.model, runDir: spec.out },
      },
    });
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

    // --energy quick: the batch-32 latency runs are the inference-energy runs (no second pass).
    const quickEnergy =
      measuresEnergy(spec) && compressEnergyOptionsSchema.parse(spec.energy ?? {}).mode === 'quick';
    stage(
      ctx,
      'latency',
      `warm median, batch 1 and 32, on ${ctx.backend.used}${quickEnergy ? ', batch 32 under the energy meter' : ''}`,
    );
    const quick = quickEnergy
      ? await latencyWithEnergy(original, reloaded, spec, options.latency ?? DEFAULT_LATENCY, ctx)
      : undefined;
    const [latencyBefore, latencyAfter] =
      quick?.latency ?? (await measureLatency([original, reloaded], options.latency ?? DEFAULT_LATENCY));
    const deployment = await deployOnOnnxRuntime(original, reloaded, quantize === 'uint8', data, ctx);
    const sizeBefore = await exportedSize(original);
    const sizeAfter = await exportedSize(compressed, quantize);
    const countsBefore = countModel(original);
    const countsAfter = countModel(reloaded);
    const before: ModelRecord = {
      accuracy: accuracyBefore,
      ...countsBefore,
      ...sizeBefore,
      latencyMs: { batch1: latencyBefore!.batch1, batch32: latencyBefore!.batch32 },
      weightDtype: 'float32',
    };
    const after: ModelRecord = {
      accuracy: accuracyAfter,
      ...countsAfter,
      ...sizeAfter,
      latencyMs: { batch1: latencyAfter!.batch1, batch32: latencyAfter!.batch32 },
      weightDtype: quantize ?? 'float32',
    };
    const accuracyDropPoints = (accuracyBefore - accuracyAfter) * 100;
    if (structured?.auto)
      structured.auto.budgetMet = accuracyDropPoints <= structured.auto.budgetPoints + 1e-9;
    const sparsity = magnitude ? new Map(magnitude.layers.map((l) => [l.layer, l.sparsity])) : undefined;
    const result: CompressResult = {
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
      modelPath,
      evaluation: { split: data.evaluationSplit, samples: data.evaluation.count },
      before,
      after,
      accuracyDropPoints,
      ...(originalBnRecalibratedAccuracy !== undefined ? { originalBnRecalibratedAccuracy } : {}),
      layers: layerTable(original, reloaded, {
        ...(sparsity ? { sparsity } : {}),
        ...(quantize ? { dtype: quantize } : {}),
      }),
      realised: [
        ...realisedNotes(spec.method, ctx.backend.used, before, after, quantize),
        ...(deployment.onnxRuntime ? [deploymentNote(deployment.onnxRuntime)] : []),
      ],
      notes,
      latency: { before: latencyBefore!, after: latencyAfter! },
      energy: {
        ...modelledEnergy(original, reloaded, quantize, sparsity),
        ...(!measuresEnergy(spec)
          ? {}
          : {
              measured: await measureCompressEnergy({
                spec,
                ctx,
                original,
                compressed: reloaded,
                loadOriginalCopy: async () => (await openModel(spec.model)).model,
                data,
                fineTunes,
                originalBatchMs: before.latencyMs.batch32,
                ...(quick ? { inference: quick.inference } : {}),
              }),
            }),
      },
      fineTune: fineTunes,
      ...(structured ? { structured } : {}),
      ...(magnitude ? { magnitude } : {}),
      ...deployment,
      ...(quantization ? { quantization } : {}),
    };
    await writeJsonAtomic(path.join(spec.out, COMPRESSION_FILE), result);
    await fs.rm(path.join(spec.out, 'steps'), { recursive: true, force: true });
    for (const note of result.realised) ctx.log('info', note);
    return result;
  } finally {
    reloaded?.dispose();
    if (compressed && compressed !== original) compressed.dispose();
    original.dispose();
  }
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

/** A trainable copy of a model (same topology, copied weights): graph surgery that removes nothing. */
function cloneModel(model: LayersModel): Promise<LayersModel> {
  return buildPrunedModel(buildDependencyGraph(model), new Set());
}

/** Accuracy of a model exported with quantized weights and read back (post-training quantization). */
async function quantizedAccuracy(
  model: LayersModel,
  dtype: WeightQuantization,
  data: CompressionData,
  batchSize: number,
): Promise<number> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-ptq-'));
  try {
    await saveModel(model, path.join(dir, 'model'), { quantize: dtype });
    const quantized = (await openModel(path.join(dir, 'model'))).model;
    try {
      return await accuracyOn(quantized, data.evaluation, data, batchSize);
    } finally {
      quantized.dispose();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export { runSensitivity } from './sensitivity-job';
export type { SensitivityJobResult } from './sensitivity-job';
export { runPlan } from './plan-job';
export type { PlanJobResult, PlanPoint } from './plan-job';
export type { FineTuneRecord } from './job-common';
export type { StructuredStep } from './structured-run';
