/**
 * What each job kind returns, as one type and one zod schema: the engine's handlers are typed to
 * return `ResultOf<K>` and the job process checks its result against `jobResultSchemas[kind]`
 * before sending it; the job host, the CLI and the renderer read these types instead of guessing
 * keys. Parts of a result that no reader looks into (measurement protocols, schedules, per-step
 * records) are checked as present objects only (`detail`), and are typed `unknown` here.
 */
import { z } from 'zod';
import {
  backendNameSchema,
  energyFigureSchema,
  energyLabelSchema,
  epochMetricsSchema,
  evaluationSchema,
  modelSummarySchema,
  datasetInfoSchema,
} from './result-parts';
import { compressResultSchema, modelRecordSchema } from './compress-result';

export { compressResultSchema, modelRecordSchema };

/** A nested record that readers pass on or show whole: present and an object, not looked into. */
const detail = z.custom<unknown>(
  (value) => typeof value === 'object' && value !== null,
  'expected an object',
);

const splitSchema = z.enum(['test', 'validation']);

// ---- info, inspect, dataset, evaluate ---------------------------------------------------------

export const infoResultSchema = z.object({
  kind: z.literal('info'),
  backend: backendNameSchema,
  device: z.string(),
  pollardVersion: z.string(),
  versions: z.record(z.string(), z.string()),
  backends: z.array(
    z.object({
      name: backendNameSchema,
      status: z.enum(['used', 'available', 'unavailable', 'not-tried']),
      reason: z.string().optional(),
      device: z.string().optional(),
    }),
  ),
  energySources: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      kind: z.enum(['measured', 'modelled']),
      status: z.enum(['working', 'unavailable']),
      label: energyLabelSchema,
      detail: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
  system: z.object({
    os: z.string(),
    cpu: z.string(),
    cores: z.number(),
    threads: z.number(),
    nativeKernels: z.string(),
    memoryGiB: z.number(),
    samplePath: z.string(),
  }),
});

export const inspectResultSchema = modelSummarySchema.extend({
  kind: z.literal('inspect'),
  backend: backendNameSchema,
  runDir: z.null(),
});

export const samplePreviewSchema = z.object({
  label: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  channels: z.number().int(),
  /** PNG, base64 (no data: prefix). */
  pngBase64: z.string(),
});

export const datasetResultSchema = z.object({
  kind: z.literal('dataset'),
  backend: backendNameSchema,
  info: datasetInfoSchema,
  previews: z.array(samplePreviewSchema),
});

export const evaluateResultSchema = evaluationSchema.extend({
  kind: z.literal('evaluate'),
  backend: z.string(),
  device: z.string(),
  runDir: z.null(),
  model: z.string(),
  data: z.string(),
  split: z.enum(['test', 'train']),
  params: z.number(),
  macs: z.number(),
  sizeBytes: z.number(),
  sizeGzipBytes: z.number(),
});

// ---- train -----------------------------------------------------------------------------------

export const trainResultSchema = z.object({
  kind: z.literal('train'),
  backend: z.string(),
  device: z.string(),
  runDir: z.string(),
  modelPath: z.string(),
  arch: z.string(),
  /** Top-1 on `evaluatedOn`, 0..1. */
  accuracy: z.number(),
  loss: z.number(),
  top5: z.number().optional(),
  evaluatedOn: splitSchema,
  params: z.number(),
  macs: z.number(),
  sizeBytes: z.number(),
  sizeGzipBytes: z.number(),
  samplesPerSecond: z.number(),
  /** Threads, data-parallel replicas and micro-batch size the steps ran with. */
  parallelism: z.object({
    threads: z.number(),
    replicas: z.number(),
    sliceSize: z.number(),
    microBatch: z.number(),
    kernelThreads: z.number(),
  }),
  epochs: z.number(),
  stoppedEarly: z.boolean(),
  history: z.array(epochMetricsSchema),
  evaluation: evaluationSchema,
  trainingEnergy: energyFigureSchema,
  datasetSha256: z.string(),
  modelSha256: z.string(),
  peakRssMiB: z.number(),
  wallSeconds: z.number(),
  cpuSeconds: z.number(),
  /** With --prune-while-training: when and why the model was pruned, and its cost before → after. */
  pruneWhileTraining: z
    .object({
      prunedAtEpoch: z.number().nullable(),
      reason: z.enum(['masks-stable', 'fixed-epoch', 'not-pruned']),
      detail: z.string(),
      maskDistances: z.array(z.number().nullable()),
      target: z.object({ metric: z.enum(['macs', 'params']), fraction: z.number() }),
      pruneSteps: z.number(),
      steps: z.array(detail),
      macsBefore: z.number(),
      macsAfter: z.number(),
      paramsBefore: z.number(),
      paramsAfter: z.number(),
    })
    .optional(),
  /** With --compare-dense: the dense run on the same data, epochs, batch size, seed and backend. */
  dense: z
    .object({
      source: z.string(),
      accuracy: z.number(),
      evaluatedOn: splitSchema,
      wallSeconds: z.number(),
      cpuSeconds: z.number().nullable(),
      trainingEnergy: energyFigureSchema,
      epochs: z.number(),
      macs: z.number(),
      params: z.number(),
    })
    .optional(),
  /** Dense ÷ pruned-while-training: above 1 means the pruned run was cheaper. */
  savings: z
    .object({
      wallTime: z.object({ ratio: z.number(), label: z.literal('measured:wall-clock') }),
      cpuTime: z.object({ ratio: z.number().nullable(), label: z.literal('measured:process-cpu-time') }),
      energy: z.object({
        ratio: z.number().nullable(),
        label: energyLabelSchema,
        source: z.string(),
        reason: z.string().optional(),
      }),
      partial: z.string().optional(),
    })
    .optional(),
});

// ---- sensitivity, plan -----------------------------------------------------------------------

export const sensitivityResultSchema = z.object({
  kind: z.literal('sensitivity'),
  backend: backendNameSchema,
  runDir: z.string(),
  samples: z.number().int(),
  files: z.object({ json: z.string(), csv: z.string() }),
  criterion: z.string(),
  ratios: z.array(z.number()),
  /** Accuracy (0..1) of the unpruned model on the same samples. */
  baselineAccuracy: z.number(),
  macs: z.number(),
  params: z.number(),
  /** One per prunable channel group; each array runs like `ratios`. */
  groups: z.array(
    z.object({
      id: z.string(),
      producers: z.array(z.string()),
      channels: z.number(),
      channelsAfter: z.array(z.number()),
      accuracy: z.array(z.number()),
      macsRemoved: z.array(z.number()),
      paramsRemoved: z.array(z.number()),
    }),
  ),
  notes: z.array(z.string()),
});

export const unsupportedLayerSchema = z.object({
  name: z.string(),
  className: z.string(),
  reason: z.string(),
});

export const planPointSchema = z.object({
  target: z.number(),
  ratio: z.number(),
  paramsBefore: z.number(),
  paramsAfter: z.number(),
  macsBefore: z.number(),
  macsAfter: z.number(),
  groups: z.array(z.object({ id: z.string(), channelsBefore: z.number(), channelsAfter: z.number() })),
  /** Every layer the plan changes: channels, parameters and MACs before and after (the Method step's table). */
  layers: z.array(
    z.object({
      name: z.string(),
      className: z.string(),
      inChannelsBefore: z.number(),
      inChannelsAfter: z.number(),
      outChannelsBefore: z.number(),
      outChannelsAfter: z.number(),
      paramsBefore: z.number(),
      paramsAfter: z.number(),
      macsBefore: z.number(),
      macsAfter: z.number(),
    }),
  ),
});

export const planResultSchema = z.object({
  kind: z.literal('plan'),
  by: z.enum(['macs', 'params']),
  criterion: z.string(),
  points: z.array(planPointSchema),
  notes: z.array(z.string()),
  unsupported: z.array(unsupportedLayerSchema),
});

export const explorePointSchema = z.object({
  /** The fraction of MACs (or parameters) asked for; 0 is the original. */
  target: z.number(),
  params: z.number(),
  macs: z.number(),
  /** 1 − MACs after ÷ MACs before: what the plan achieved (rounding may overshoot the target). */
  macsRemoved: z.number(),
  paramsRemoved: z.number(),
  /** Top-1 accuracy (0..1) right after pruning, BN statistics re-estimated, no fine-tuning. */
  accuracyPruned: z.number(),
  /** After the brief fine-tuning; absent when none was asked for. */
  accuracyFineTuned: z.number().optional(),
  /** Warm median at batch 32 on the job's backend, ms, measured alternately with every other point. */
  latencyMs: z.number(),
  /** No other point is at least as accurate with fewer MACs (or as cheap and more accurate). */
  pareto: z.boolean(),
});

export const exploreResultSchema = z.object({
  kind: z.literal('explore'),
  runDir: z.string(),
  by: z.enum(['macs', 'params']),
  criterion: z.string(),
  finetuneEpochs: z.number(),
  evaluation: z.object({ split: splitSchema, samples: z.number() }),
  /** The original first (target 0), then one point per target reached, in target order. */
  points: z.array(explorePointSchema),
  notes: z.array(z.string()),
  files: z.object({ json: z.string(), csv: z.string() }),
});

// ---- demo, report, export-model --------------------------------------------------------------

const reportFilesSchema = z.partialRecord(z.enum(['html', 'pdf', 'json', 'csv']), z.string());

export const demoResultSchema = z.object({
  kind: z.literal('demo'),
  backend: z.string(),
  device: z.string(),
  runDir: z.string(),
  data: z.string(),
  accuracy: z.number(),
  params: z.number(),
  macs: z.number(),
  sizeBytes: z.number(),
  sizeGzipBytes: z.number(),
  modelPath: z.string(),
  before: modelRecordSchema,
  after: modelRecordSchema,
  baseline: trainResultSchema.pick({
    accuracy: true,
    epochs: true,
    samplesPerSecond: true,
    params: true,
    macs: true,
    sizeBytes: true,
    runDir: true,
    trainingEnergy: true,
  }),
  compression: compressResultSchema,
  /** The HTML energy-savings report. */
  report: z.string(),
  reportFiles: reportFilesSchema,
});

export const reportResultSchema = z.object({
  kind: z.literal('report'),
  runDir: z.string(),
  /** The HTML report where written, else the first file written. */
  report: z.string(),
  files: reportFilesSchema,
  schemaVersion: z.number(),
  title: z.string(),
  summary: detail.nullable(),
  /** The energy section in plain text (report/energy-text.ts), as the CLI prints it. */
  energy: z.object({
    headline: z.object({ title: z.string(), text: z.string() }),
    rows: z.array(z.tuple([z.string(), z.string(), z.string(), z.string()])),
  }),
});

const latencyPairSchema = z.object({ batch1: z.number(), batch32: z.number() });

export const onnxExportSummarySchema = z.object({
  opset: z.number(),
  layout: z.enum(['nchw', 'nhwc']),
  inputShape: z.array(z.number()),
  foldedBatchNorms: z.number(),
  /** float32 graph in ONNX Runtime vs TensorFlow.js on the same inputs. */
  verification: z.object({
    samples: z.number(),
    maxAbsDiffOutput: z.number(),
    maxAbsDiffLogits: z.number().optional(),
    inputs: z.enum(['dataset', 'synthetic']),
  }),
  int8: z
    .object({
      runtime: z.string(),
      calibration: z.object({ samples: z.number(), method: z.enum(['minmax', 'percentile']) }),
      activationRanges: z.object({ fromQat: z.number(), calibrated: z.number() }),
      quantizedNodes: z.number(),
      quantizedActivations: z.number(),
      accuracy: z.object({
        split: z.enum(['test', 'train']),
        samples: z.number(),
        float32: z.number(),
        int8: z.number(),
        agreement: z.number(),
      }),
      latencyMs: z.object({ float32: latencyPairSchema, int8: latencyPairSchema }),
      speedup: latencyPairSchema,
      sizeBytes: z.object({ float32: z.number(), int8: z.number() }),
    })
    .optional(),
});

export const exportModelResultSchema = z.object({
  kind: z.literal('export-model'),
  backend: z.string(),
  format: z.enum(['tfjs', 'keras-h5', 'onnx']),
  files: z.array(z.object({ path: z.string(), bytes: z.number() })),
  /** ONNX only: verification against TensorFlow.js and, for int8, accuracy and latency. */
  onnx: onnxExportSummarySchema.optional(),
});

// ---- the map -----------------------------------------------------------------------------------

export const jobResultSchemas = {
  info: infoResultSchema,
  inspect: inspectResultSchema,
  dataset: datasetResultSchema,
  train: trainResultSchema,
  evaluate: evaluateResultSchema,
  compress: compressResultSchema,
  sensitivity: sensitivityResultSchema,
  plan: planResultSchema,
  explore: exploreResultSchema,
  demo: demoResultSchema,
  report: reportResultSchema,
  'export-model': exportModelResultSchema,
};

/** The job kinds (jobs.ts checks that they are exactly its JobKind). */
export type ResultKind = keyof typeof jobResultSchemas;
export type ResultOf<K extends ResultKind> = z.infer<(typeof jobResultSchemas)[K]>;
/** Any job's result. */
export type JobResult = ResultOf<ResultKind>;

export type InfoResult = ResultOf<'info'>;
export type InspectResult = ResultOf<'inspect'>;
export type DatasetResult = ResultOf<'dataset'>;
export type TrainResult = ResultOf<'train'>;
export type EvaluateResult = ResultOf<'evaluate'>;
export type CompressResult = ResultOf<'compress'>;
export type SensitivityResult = ResultOf<'sensitivity'>;
export type PlanResult = ResultOf<'plan'>;
export type PlanPoint = z.infer<typeof planPointSchema>;
export type ExploreResult = ResultOf<'explore'>;
export type ExplorePoint = z.infer<typeof explorePointSchema>;
export type DemoResult = ResultOf<'demo'>;
export type ReportResult = ResultOf<'report'>;
export type ExportModelResult = ResultOf<'export-model'>;

/** The result as kind K's, where it is one. */
export function resultOfKind<K extends ResultKind>(kind: K, result: JobResult): ResultOf<K> | undefined {
  return result.kind === kind ? (result as ResultOf<K>) : undefined;
}

/** The run folder a result names, where its job wrote one. */
export function runDirOfResult(result: JobResult): string | undefined {
  return 'runDir' in result && typeof result.runDir === 'string' ? result.runDir : undefined;
}

/**
 * Checks a job's result against its kind's schema; throws naming the kind, the first bad field and
 * the problem. Returns the value as given (the schemas strip keys they do not name; the sender's
 * extra detail travels on).
 */
export function checkJobResult<K extends ResultKind>(kind: K, value: unknown): ResultOf<K> {
  const parsed = jobResultSchemas[kind].safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the result';
    throw new Error(
      `the ${kind} job's result does not match its schema: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return value as ResultOf<K>;
}

/** A stored or received result read as kind K's, or undefined where it is not one (an older run's, say). */
export function readJobResult<K extends ResultKind>(kind: K, value: unknown): ResultOf<K> | undefined {
  const parsed = jobResultSchemas[kind].safeParse(value);
  return parsed.success ? (parsed.data as ResultOf<K>) : undefined;
}
