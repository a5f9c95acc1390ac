/**
 * One runner per compression method, each turning the original model into the compressed one
 * (compress-job.ts runs the shared pipeline around it: load, evaluate, export, measure, record):
 *  - structured (and structured+quantize): prune channels, fine-tune (structured-run.ts);
 *  - magnitude: zero the smallest weights on a polynomial schedule during fine-tuning;
 *  - quantize: nothing to train; the export stores the weights quantized;
 *  - qat: fine-tune with fake-quantized weights, and measure post-training quantization of the
 *    original for comparison.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompressionMethod, SpecOf } from '../../../shared/jobs';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import type { LayersModel } from '../tf';
import type { CompressResult } from './compress-job';
import { buildDependencyGraph } from './graph';
import type { FineTuneRecord } from './job-common';
import { fineTune, recalibrate, stage } from './job-common';
import type { CompressionData } from './job-data';
import { accuracyOn } from './job-data';
import type { SparsitySchedule } from './magnitude';
import { defaultSchedule, MagnitudePruner, overallSparsity } from './magnitude';
import { QuantizationAwareTraining } from './qat';
import type { RecordedRange } from './qat-ranges';
import { runStructured } from './structured-run';
import { buildPrunedModel } from './surgery';

export interface MethodInput {
  original: LayersModel;
  data: CompressionData;
  spec: SpecOf<'compress'>;
  ctx: JobContext;
}

/** What a method made: the compressed model (the original itself for quantize) and its record. */
export interface MethodOutcome {
  compressed: LayersModel;
  fineTunes: FineTuneRecord[];
  notes: string[];
  structured?: CompressResult['structured'];
  magnitude?: CompressResult['magnitude'];
  quantization?: CompressResult['quantization'];
  /** QAT: the activation ranges recorded while fine-tuning, saved with the model for ONNX int8. */
  qatRanges?: Record<string, RecordedRange>;
}

export type MethodRunner = (input: MethodInput) => Promise<MethodOutcome>;

/** A trainable copy of a model (same topology, copied weights): graph surgery that removes nothing. */
export function cloneModel(model: LayersModel): Promise<LayersModel> {
  return buildPrunedModel(buildDependencyGraph(model), new Set());
}

/** Run `work` on a copy of the original; the copy is disposed if `work` fails. */
async function onCopy(original: LayersModel, work: (copy: LayersModel) => Promise<MethodOutcome>) {
  const copy = await cloneModel(original);
  try {
    return await work(copy);
  } catch (error) {
    copy.dispose();
    throw error;
  }
}

const runStructuredMethod: MethodRunner = async ({ original, data, spec, ctx }) => {
  const outcome = await runStructured(original, data, spec, ctx);
  return {
    compressed: outcome.model,
    fineTunes: outcome.fineTunes,
    notes: outcome.notes,
    structured: {
      criterion: spec.criterion,
      scope: spec.scope,
      steps: outcome.steps,
      unsupported: outcome.unsupported,
      ...(outcome.auto ? { auto: outcome.auto } : {}),
    },
  };
};

/** Magnitude pruning on a schedule during fine-tuning, or in one shot without it. */
async function pruneByMagnitude(
  { data, spec, ctx }: MethodInput,
  compressed: LayersModel,
  pruner: MagnitudePruner,
  sparsity: number,
): Promise<Omit<MethodOutcome, 'compressed' | 'magnitude'> & { schedule?: SparsitySchedule }> {
  const percent = (sparsity * 100).toFixed(0);
  if (spec.finetuneEpochs === 0) {
    stage(ctx, 'magnitude', `one shot to ${percent}% sparsity, no fine-tuning`);
    await pruner.prune(sparsity);
    await recalibrate(compressed, data, spec.seed, ctx);
    return { fineTunes: [], notes: [] };
  }
  stage(ctx, 'magnitude', `polynomial schedule to ${percent}% sparsity during fine-tuning`);
  let schedule: SparsitySchedule | undefined;
  const hooks = pruner.hooks((totalSteps) => (schedule = defaultSchedule(sparsity, totalSteps)));
  const record = await fineTune(compressed, data, spec, ctx, 'fine-tune', hooks);
  const notes: string[] = [];
  if (Math.abs(overallSparsity(await pruner.report()) - sparsity) > 0.005) {
    // Early stopping can end fine-tuning before the schedule reached its final sparsity.
    await pruner.prune(sparsity);
    notes.push(
      `fine-tuning ended before the schedule reached ${sparsity}; the final sparsity was applied after it`,
    );
  }
  return { fineTunes: record ? [record] : [], notes, ...(schedule ? { schedule } : {}) };
}

const runMagnitudeMethod: MethodRunner = (input) =>
  onCopy(input.original, async (compressed) => {
    const { spec } = input;
    const pruner = new MagnitudePruner(compressed, { scope: spec.scope, ignoredLayers: spec.ignoredLayers });
    const sparsity = spec.sparsity!;
    try {
      const { schedule, ...outcome } = await pruneByMagnitude(input, compressed, pruner, sparsity);
      const magnitude = {
        sparsity,
        scope: spec.scope,
        ...(schedule ? { schedule } : {}),
        layers: await pruner.report(),
      };
      return { compressed, ...outcome, magnitude };
    } finally {
      pruner.dispose();
    }
  });

/** Post-training quantization happens in the export: the model itself is not changed. */
const runQuantizeMethod: MethodRunner = async ({ original, spec }) => ({
  compressed: original,
  fineTunes: [],
  notes: [],
  quantization: { dtype: spec.dtype },
});

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

/**
 * Post-training quantization of the original, for comparison with QAT. The QAT model's BN
 * statistics are re-estimated after fine-tuning; so are the reference's, so that the comparison
 * is QAT against PTQ and not adaptive BN against none.
 */
async function ptqReference({ original, data, spec, ctx }: MethodInput): Promise<number> {
  stage(ctx, 'ptq-reference', 'post-training quantization of the original, for comparison');
  const reference = await cloneModel(original);
  try {
    await recalibrate(reference, data, spec.seed, ctx);
    return await quantizedAccuracy(reference, spec.dtype, data, spec.batchSize);
  } finally {
    reference.dispose();
  }
}

const runQatMethod: MethodRunner = (input) =>
  onCopy(input.original, async (compressed) => {
    const { data, spec, ctx } = input;
    const granularity = spec.granularity === 'tensor' ? 'per-tensor' : 'per-channel';
    stage(ctx, 'qat', `${granularity} ${spec.dtype} fake-quant on the weights`);
    const notes =
      spec.granularity === 'channel'
        ? [
            'per-channel QAT trains against one quantization range per output channel, but the TensorFlow.js weights manifest stores one range per tensor: the export re-quantizes per tensor (use --granularity tensor for QAT that matches the export exactly)',
          ]
        : [];
    const qat = new QuantizationAwareTraining(compressed, {
      dtype: spec.dtype,
      granularity: spec.granularity,
      recordActivations: true,
    });
    let record: FineTuneRecord | undefined;
    let qatRanges: Record<string, RecordedRange> | undefined;
    try {
      record = await fineTune(compressed, data, spec, ctx, 'fine-tune', qat.hooks());
      qatRanges = qat.activationRanges();
    } finally {
      qat.dispose();
    }
    const ptqAccuracy = await ptqReference(input);
    return {
      compressed,
      fineTunes: record ? [record] : [],
      notes,
      quantization: { dtype: spec.dtype, granularity: spec.granularity, ptqAccuracy },
      ...(qatRanges ? { qatRanges } : {}),
    };
  });

/** The runner of each method; structured+quantize prunes like structured and exports quantized. */
export const METHOD_RUNNERS: Readonly<Record<CompressionMethod, MethodRunner>> = {
  structured: runStructuredMethod,
  'structured+quantize': async (input) => ({
    ...(await runStructuredMethod(input)),
    quantization: { dtype: input.spec.dtype },
  }),
  magnitude: runMagnitudeMethod,
  quantize: runQuantizeMethod,
  qat: runQatMethod,
};
