/**
 * The compress, sensitivity and plan jobs. A compress run records, before and after, accuracy,
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
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompressionMethod, SpecOf } from '../../../shared/jobs';
import { usageError } from '../../../shared/errors';
import type { BackendName, EnergyFigure } from '../../../shared/types';
import { EnergyMeter } from '../energy/meter';
import { opCountEnergy } from '../energy/op-count';
import type { Bits } from '../energy/op-count';
import { summarizeLayers } from '../model/summary';
import type { CompressEnergyMeasurements } from '../report/energy-measurements';
import { measureCompressEnergy } from '../report/energy-measurements';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import type { LayersModel } from '../tf';
import type { EpochMetrics, TrainHooks } from '../train/loop';
import { trainModel } from '../train/loop';
import type { AutoChoice } from './auto';
import { chooseRatios } from './auto';
import type { LayerRow } from './compare';
import { countModel, exportedSize, layerTable } from './compare';
import { buildDependencyGraph } from './graph';
import type { Calibration } from './importance';
import { computeImportance } from './importance';
import type { CompressionData } from './job-data';
import { accuracyOn, calibrationBatch, firstSamples, prepareCompressionData } from './job-data';
import type { LatencyDetail, LatencyOptions } from './latency';
import { measureLatency } from './latency';
import type { LayerSparsity, SparsitySchedule } from './magnitude';
import { defaultSchedule, MagnitudePruner, overallSparsity } from './magnitude';
import type { PrunePlan } from './pruner';
import { applyPrunePlan, planFromImportance, planPruning } from './pruner';
import { QuantizationAwareTraining } from './qat';
import { buildPrunedModel } from './surgery';
import type { SensitivityResult } from './sensitivity';
import { analyzeSensitivity, sensitivityCsv } from './sensitivity';

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

export type FineTuneRecord = { stage: string; epochs: number; history: EpochMetrics[] };

export type StructuredStep = {
  step: number;
  ratio: number;
  target?: { metric: 'macs' | 'params'; fraction: number };
  groups: { id: string; channelsBefore: number; channelsAfter: number }[];
  totals: PrunePlan['totals'];
  /** Accuracy on the evaluation split right after pruning, before fine-tuning. */
  accuracyPruned: number;
  fineTune?: FineTuneRecord;
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
    auto?: AutoChoice & { budgetPoints: number; budgetMet: boolean; sensitivityFile: string };
  };
  magnitude?: {
    sparsity: number;
    scope: 'global' | 'layer';
    schedule?: SparsitySchedule;
    layers: LayerSparsity[];
  };
  quantization?: { dtype: WeightQuantization; granularity?: 'tensor' | 'channel'; ptqAccuracy?: number };
};

const COMPRESSION_FILE = 'compression.json';
const PROGRESS_FILE = 'progress.json';

function stage(ctx: JobContext, name: string, detail?: string): void {
  ctx.throwIfCancelled();
  ctx.emit({ type: 'stage', stage: name, ...(detail ? { detail } : {}) });
}

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

async function fineTune(
  model: LayersModel,
  data: CompressionData,
  spec: SpecOf<'compress'>,
  ctx: JobContext,
  name: string,
  hooks?: TrainHooks,
  checkpointName = name,
): Promise<FineTuneRecord | undefined> {
  if (spec.finetuneEpochs === 0) return undefined;
  // Each stage under its own meter: every epoch's metrics carry the energy since the stage began.
  const meter = spec.energy?.measure === false ? undefined : await EnergyMeter.start();
  try {
    const outcome = await trainModel(
      model,
      { train: data.train, validation: data.validation, shape: data.shape, classes: data.classes },
      {
        training: spec.training,
        batchSize: spec.batchSize,
        seed: spec.seed,
        epochs: spec.finetuneEpochs,
        normalization: data.normalization,
        checkpointDir: path.join(spec.out, 'checkpoints', checkpointName),
        resume: spec.resume,
        ...(hooks ? { hooks } : {}),
        stage: name,
        ...(meter ? { energy: meter } : {}),
      },
      ctx,
    );
    return { stage: name, epochs: outcome.epochsCompleted, history: outcome.history };
  } finally {
    await meter?.stop();
  }
}

interface StructuredOutcome {
  model: LayersModel;
  steps: StructuredStep[];
  unsupported: PrunePlan['unsupported'];
  notes: string[];
  fineTunes: FineTuneRecord[];
  auto?: NonNullable<CompressResult['structured']>['auto'];
}

interface Progress {
  completedSteps: number;
  steps: StructuredStep[];
}

async function readProgress(out: string): Promise<Progress | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(out, PROGRESS_FILE), 'utf8')) as Progress;
  } catch {
    return undefined;
  }
}

function stepSummary(step: number, plan: PrunePlan, accuracyPruned: number): StructuredStep {
  return {
    step,
    ratio: plan.ratio,
    ...(plan.target ? { target: plan.target } : {}),
    groups: plan.groups.map((g) => ({
      id: g.id,
      channelsBefore: g.channelsBefore,
      channelsAfter: g.channelsAfter,
    })),
    totals: plan.totals,
    accuracyPruned,
  };
}

async function runStructured(
  original: LayersModel,
  data: CompressionData,
  spec: SpecOf<'compress'>,
  ctx: JobContext,
): Promise<StructuredOutcome> {
  const notes: string[] = [];
  const calibration: Calibration | undefined =
    spec.criterion === 'taylor' ? calibrationBatch(data, 256, spec.seed) : undefined;
  const common = {
    criterion: spec.criterion,
    scope: spec.scope,
    roundTo: spec.roundTo,
    minChannels: spec.minChannels,
    ignoredLayers: spec.ignoredLayers,
    seed: spec.seed,
    ...(calibration ? { calibration } : {}),
  };
  try {
    if (spec.accuracyBudget !== undefined) {
      if (spec.steps > 1) notes.push('automatic mode prunes in one step; --steps was ignored');
      stage(ctx, 'sensitivity', 'accuracy of each group pruned alone, 10% … 90%, no fine-tuning');
      const validation = firstSamples(data.validation, 1000);
      const sensitivity = await analyzeSensitivity(
        original,
        (m) => accuracyOn(m, validation, data, spec.batchSize),
        {
          ...common,
          ratios: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
          onProgress: (done, total) => {
            ctx.throwIfCancelled();
            ctx.emit({ type: 'progress', stage: 'sensitivity', done, total });
          },
        },
      );
      const sensitivityFile = await writeSensitivityFiles(spec.out, sensitivity);
      const graph = buildDependencyGraph(original, { ignoredLayers: spec.ignoredLayers });
      const importance = await computeImportance(graph, common);
      const choice = chooseRatios(graph, importance, sensitivity, {
        budgetPoints: spec.accuracyBudget,
        ...(spec.targetMacs !== undefined ? { macsTarget: spec.targetMacs } : {}),
        roundTo: spec.roundTo,
        minChannels: spec.minChannels,
      });
      if (!choice.reachedTarget) {
        notes.push(
          `automatic mode: the MACs target was not reached within the budget (predicted ${choice.predictedDropPoints.toFixed(2)} points for ${(choice.macsRemoved * 100).toFixed(1)}% fewer MACs)`,
        );
      }
      const plan = planFromImportance(graph, importance, { ...common, ratio: 0, ratios: choice.ratios });
      stage(
        ctx,
        'prune',
        `${(100 * (1 - plan.totals.macsAfter / plan.totals.macsBefore)).toFixed(1)}% fewer MACs`,
      );
      const model = await applyPrunePlan(original, plan);
      const step = stepSummary(1, plan, await accuracyOn(model, data.evaluation, data, spec.batchSize, ctx));
      const record = await fineTune(model, data, spec, ctx, 'fine-tune');
      if (record) step.fineTune = record;
      return {
        model,
        steps: [step],
        unsupported: plan.unsupported,
        notes: [...notes, ...plan.notes],
        fineTunes: record ? [record] : [],
        auto: { ...choice, budgetPoints: spec.accuracyBudget, budgetMet: false, sensitivityFile },
      };
    }

    const metric = spec.targetMacs !== undefined ? 'macs' : 'params';
    const fraction = (spec.targetMacs ?? spec.targetParams)!;
    const start = countModel(original)[metric];
    let current = original;
    let steps: StructuredStep[] = [];
    let first = 1;
    const progress = spec.resume ? await readProgress(spec.out) : undefined;
    if (progress && progress.completedSteps > 0) {
      current = (await openModel(path.join(spec.out, 'steps', `step-${progress.completedSteps}`))).model;
      steps = progress.steps;
      first = progress.completedSteps + 1;
      ctx.log('info', `resuming after pruning step ${progress.completedSteps} of ${spec.steps}`);
    }
    let unsupported: PrunePlan['unsupported'] = [];
    const fineTunes = steps.flatMap((s) => (s.fineTune ? [s.fineTune] : []));
    for (let k = first; k <= spec.steps; k++) {
      // Step k removes k/N of the requested fraction of the ORIGINAL model's cost.
      const goal = start * (1 - (fraction * k) / spec.steps);
      const relative = 1 - goal / Math.max(countModel(current)[metric], 1);
      const label = spec.steps > 1 ? ` ${k}/${spec.steps}` : '';
      stage(
        ctx,
        `prune${label}`,
        `${(fraction * (k / spec.steps) * 100).toFixed(1)}% fewer ${metric === 'macs' ? 'MACs' : 'parameters'} than the original`,
      );
      const plan =
        relative > 1e-9
          ? await planPruning(current, { ...common, target: { metric, fraction: relative } })
          : await planPruning(current, { ...common, ratio: 0 });
      unsupported = plan.unsupported;
      for (const note of plan.notes) if (!notes.includes(note)) notes.push(note);
      const pruned = await applyPrunePlan(current, plan);
      if (current !== original) current.dispose();
      current = pruned;
      const step = stepSummary(
        k,
        plan,
        await accuracyOn(current, data.evaluation, data, spec.batchSize, ctx),
      );
      const record = await fineTune(
        current,
        data,
        spec,
        ctx,
        `fine-tune${label}`,
        undefined,
        spec.steps > 1 ? `fine-tune-${k}` : 'fine-tune',
      );
      if (record) {
        step.fineTune = record;
        fineTunes.push(record);
      }
      steps.push(step);
      if (spec.steps > 1 && k < spec.steps) {
        await saveModel(current, path.join(spec.out, 'steps', `step-${k}`));
        await writeJsonAtomic(path.join(spec.out, PROGRESS_FILE), {
          completedSteps: k,
          steps,
        } satisfies Progress);
      }
    }
    return { model: current, steps, unsupported, notes, fineTunes };
  } finally {
    calibration?.x.dispose();
  }
}

async function writeSensitivityFiles(out: string, result: SensitivityResult): Promise<string> {
  await fs.mkdir(out, { recursive: true });
  const json = path.join(out, 'sensitivity.json');
  await writeJsonAtomic(json, result);
  await writeFileAtomic(path.join(out, 'sensitivity.csv'), sensitivityCsv(result));
  return json;
}

function realisedNotes(
  method: CompressionMethod,
  backend: string,
  before: ModelRecord,
  after: ModelRecord,
  dtype?: WeightQuantization,
): string[] {
  const ratio = (a: number, b: number): string => `${(a / Math.max(b, 1)).toFixed(2)}×`;
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

/** Latency: at least 5 s per batch size on the pair (more runs on a busy machine), at most 60 s. */
const DEFAULT_LATENCY: LatencyOptions = { minSeconds: 5, maxSeconds: 60 };

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
    const data = await prepareCompressionData(spec.data, original, {
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      validationSplit: spec.training.validationSplit,
      seed: spec.seed,
      ...(loaded.metadata.normalization ? { normalization: loaded.metadata.normalization } : {}),
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
          if (Math.abs(overallSparsity(pruner.report()) - sparsity) > 0.005) {
            // Early stopping can end fine-tuning before the schedule reached its final sparsity.
            pruner.prune(sparsity);
            notes.push(
              `fine-tuning ended before the schedule reached ${sparsity}; the final sparsity was applied after it`,
            );
          }
        } else {
          stage(ctx, 'magnitude', `one shot to ${(sparsity * 100).toFixed(0)}% sparsity, no fine-tuning`);
          pruner.prune(sparsity);
        }
        magnitude = {
          sparsity,
          scope: spec.scope,
          ...(schedule ? { schedule } : {}),
          layers: pruner.report(),
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
      quantization = {
        dtype: spec.dtype,
        granularity: spec.granularity,
        ptqAccuracy: await quantizedAccuracy(original, spec.dtype, data, spec.batchSize),
      };
    } else {
      compressed = original;
    }
    if (quantize && !quantization) quantization = { dtype: quantize };

    stage(ctx, 'export', path.join(spec.out, 'model'));
    const modelPath = path.join(spec.out, 'model');
    await saveModel(compressed, modelPath, {
      ...(quantize ? { quantize } : {}),
      metadata: {
        ...loaded.metadata,
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

    stage(ctx, 'latency', `warm median, batch 1 and 32, on ${ctx.backend.used}`);
    const [latencyBefore, latencyAfter] = await measureLatency(
      [original, reloaded],
      options.latency ?? DEFAULT_LATENCY,
    );
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
      layers: layerTable(original, reloaded, {
        ...(sparsity ? { sparsity } : {}),
        ...(quantize ? { dtype: quantize } : {}),
      }),
      realised: realisedNotes(spec.method, ctx.backend.used, before, after, quantize),
      notes,
      latency: { before: latencyBefore!, after: latencyAfter! },
      energy: {
        ...modelledEnergy(original, reloaded, quantize, sparsity),
        ...(spec.energy?.measure === false
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
              }),
            }),
      },
      fineTune: fineTunes,
      ...(structured ? { structured } : {}),
      ...(magnitude ? { magnitude } : {}),
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

export type SensitivityJobResult = SensitivityResult & {
  kind: 'sensitivity';
  backend: BackendName;
  runDir: string;
  samples: number;
  files: { json: string; csv: string };
};

export async function runSensitivity(
  spec: SpecOf<'sensitivity'>,
  ctx: JobContext,
): Promise<SensitivityJobResult> {
  await fs.mkdir(spec.out, { recursive: true });
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  const calibrationHolder: { batch?: Calibration } = {};
  try {
    const data = await prepareCompressionData(spec.data, loaded.model, {
      ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
      validationSplit: 0.1,
      seed: spec.seed,
      ...(loaded.metadata.normalization ? { normalization: loaded.metadata.normalization } : {}),
    });
    const subset = firstSamples(data.validation, spec.samples);
    if (spec.criterion === 'taylor') calibrationHolder.batch = calibrationBatch(data, 256, spec.seed);
    stage(ctx, 'sensitivity', `${subset.count} validation samples, ratios ${spec.ratios.join(', ')}`);
    const result = await analyzeSensitivity(
      loaded.model,
      (m) => accuracyOn(m, subset, data, spec.batchSize),
      {
        criterion: spec.criterion,
        ratios: spec.ratios,
        seed: spec.seed,
        ...(calibrationHolder.batch ? { calibration: calibrationHolder.batch } : {}),
        onProgress: (done, total) => {
          ctx.throwIfCancelled();
          ctx.emit({ type: 'progress', stage: 'sensitivity', done, total });
        },
      },
    );
    const json = await writeSensitivityFiles(spec.out, result);
    return {
      kind: 'sensitivity',
      backend: ctx.backend.used,
      runDir: spec.out,
      samples: subset.count,
      files: { json, csv: path.join(spec.out, 'sensitivity.csv') },
      ...result,
    };
  } finally {
    calibrationHolder.batch?.x.dispose();
    loaded.model.dispose();
  }
}

export type PlanPoint = {
  target: number;
  ratio: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  groups: { id: string; channelsBefore: number; channelsAfter: number }[];
};

export type PlanJobResult = {
  kind: 'plan';
  by: 'macs' | 'params';
  criterion: string;
  points: PlanPoint[];
  notes: string[];
  unsupported: PrunePlan['unsupported'];
};

/** Structured-pruning dry runs over a sweep of targets (no data needed, nothing written). */
export async function runPlan(spec: SpecOf<'plan'>, ctx: JobContext): Promise<PlanJobResult> {
  if (spec.criterion === 'taylor') {
    throw usageError(
      'plan: the taylor criterion needs data (a calibration batch); choose l1, l2, bn, fpgm or random for a dry run',
    );
  }
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  try {
    const graph = buildDependencyGraph(loaded.model, { ignoredLayers: spec.ignoredLayers });
    const importance = await computeImportance(graph, { criterion: spec.criterion, seed: spec.seed });
    const options = {
      criterion: spec.criterion,
      scope: spec.scope,
      roundTo: spec.roundTo,
      minChannels: spec.minChannels,
      ignoredLayers: spec.ignoredLayers,
    };
    const points: PlanPoint[] = [];
    const notes = [...importance.notes];
    const targets = [...spec.targets].sort((a, b) => a - b);
    for (const [i, target] of targets.entries()) {
      ctx.throwIfCancelled();
      let plan: PrunePlan;
      try {
        plan =
          target === 0
            ? planFromImportance(graph, importance, { ...options, ratio: 0 })
            : planFromImportance(graph, importance, {
                ...options,
                target: { metric: spec.by, fraction: target },
              });
      } catch (error) {
        notes.push(error instanceof Error ? error.message : String(error));
        break;
      }
      points.push({
        target,
        ratio: plan.ratio,
        ...plan.totals,
        groups: plan.groups.map((g) => ({
          id: g.id,
          channelsBefore: g.channelsBefore,
          channelsAfter: g.channelsAfter,
        })),
      });
      ctx.emit({ type: 'progress', stage: 'plan', done: i + 1, total: targets.length });
    }
    for (const layer of graph.unsupported)
      notes.push(`${layer.name} (${layer.className}) left whole: ${layer.reason}`);
    return {
      kind: 'plan',
      by: spec.by,
      criterion: spec.criterion,
      points,
      notes,
      unsupported: graph.unsupported,
    };
  } finally {
    loaded.model.dispose();
  }
}
