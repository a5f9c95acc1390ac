/**
 * The job protocol: a JobSpec goes into a job process, a stream of JobEvents comes out.
 * Specs are validated with zod wherever they enter (CLI flags, IPC, HTTP); events are produced
 * by Pollard's own code and carry a sequence number so a consumer can spot gaps.
 */
import { z } from 'zod';
import type { SerializedError } from './errors';
import type { JobResult, ResultKind } from './job-results';
import { COMPRESSION_METHODS, INPUT_SCALINGS, QUANT_DTYPES } from './methods';
import type { liveEnergySchema, epochMetricsSchema } from './result-parts';
import type { BackendReport } from './types';

export {
  COMPRESSION_METHODS,
  INPUT_SCALINGS,
  QUANT_DTYPES,
  type CompressionMethod,
  type InputScaling,
  type QuantDtype,
} from './methods';

export const ARCHITECTURES = ['lenet', 'vgg-small', 'resnet20', 'mobilenet-small'] as const;
export type ArchitectureName = (typeof ARCHITECTURES)[number];

export const backendChoiceSchema = z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']);

/** Options every job accepts. */
export const commonOptionsSchema = z.object({
  backend: backendChoiceSchema.default('auto'),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(42),
  batchSize: z.number().int().min(1).max(65_536).default(64),
  /** CPU threads for the wasm and cpu backends (data-parallel replicas, kernels); absent: every core. */
  threads: z.number().int().min(1).max(1024).optional(),
  /** Use only the first N samples of each split. */
  limit: z.number().int().min(1).optional(),
  /** The CPU's power at full load (W), given by the user: replaces the TDP table in the CPU energy model. */
  cpuWatts: z.number().gt(0).max(100_000).optional(),
  verbose: z.boolean().default(false),
});

export const lrScheduleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }),
  z.object({ kind: z.literal('step'), stepEpochs: z.number().int().min(1), gamma: z.number().positive() }),
  z.object({ kind: z.literal('cosine'), minLearningRate: z.number().min(0).default(0) }),
]);
export type LrSchedule = z.infer<typeof lrScheduleSchema>;

/**
 * Training options with the given defaults for rate and schedule: a baseline trains from
 * scratch (a higher rate, annealed), fine-tuning starts from trained weights (a low, constant one).
 */
function trainingOptions(defaults: { learningRate: number; schedule: LrSchedule }) {
  return z.object({
    epochs: z.number().int().min(1).max(10_000).default(5),
    optimizer: z.enum(['adam', 'sgd']).default('adam'),
    learningRate: z.number().positive().default(defaults.learningRate),
    /** SGD momentum; ignored by Adam. */
    momentum: z.number().min(0).max(1).default(0.9),
    schedule: lrScheduleSchema.default(defaults.schedule),
    /** Decoupled L2 weight decay on kernels. */
    weightDecay: z.number().min(0).default(0),
    earlyStopping: z
      .object({ patience: z.number().int().min(1), minDelta: z.number().min(0).default(0) })
      .optional(),
    /** Fraction of the training split held out for validation. */
    validationSplit: z.number().min(0).max(0.5).default(0.1),
    /** Random crop with padding and horizontal flip (CIFAR-type data). */
    augment: z.boolean().default(false),
  });
}

/** Fine-tuning (compress): Adam at 0.001, constant. */
export const trainingOptionsSchema = trainingOptions({ learningRate: 0.001, schedule: { kind: 'constant' } });
/** Training a baseline from scratch (train): Adam at 0.003 with cosine annealing. */
export const baselineTrainingOptionsSchema = trainingOptions({
  learningRate: 0.003,
  schedule: { kind: 'cosine', minLearningRate: 0 },
});
export type TrainingOptions = z.infer<typeof trainingOptionsSchema>;

/**
 * Prune while training (Early-Bird tickets, You et al. 2020, with Network Slimming's BN-scale L1
 * penalty, Liu et al. 2017): train with the penalty, compare each epoch's channel masks for the
 * target with the previous epoch's, prune once they stop changing, train the small model on.
 */
export const pruneWhileTrainingSchema = z
  .object({
    /** Fraction of MACs (or parameters) the pruned model sheds; exactly one of the two. */
    targetMacs: z.number().gt(0).lt(1).optional(),
    targetParams: z.number().gt(0).lt(1).optional(),
    /** λ of the penalty λ·Σ|γ| added to the mean loss (Network Slimming's 1e-4). */
    bnL1: z.number().min(0).max(1).default(1e-4),
    /** Masks count as stable while the fraction of channels that changed is below this. */
    maskThreshold: z.number().gt(0).lt(1).default(0.1),
    /** Consecutive stable epochs that trigger the prune; absent: 3, or 2 for runs under 20 epochs. */
    stableEpochs: z.number().int().min(1).max(100).optional(),
    /** Prune after this epoch whatever the masks do (with K steps: after epochs N, 2N, …). */
    pruneAtEpoch: z.number().int().min(1).optional(),
    /** Shrink in this many steps, each removing an equal share of the target (a progressive schedule). */
    pruneSteps: z.number().int().min(1).max(3).default(1),
    /** Keep every pruned layer's channel count a multiple of this (8 or 16 suit the CPU's SIMD kernels). */
    roundTo: z.number().int().min(1).max(256).default(1),
    /** Also train the dense model (same data, epochs, batch size, seed, backend) and compare. */
    compareDense: z.boolean().default(false),
    /** A finished dense train run with the same settings, compared with instead of training one (implies compareDense). */
    denseRun: z.string().min(1).optional(),
  })
  .refine((value) => (value.targetMacs === undefined) !== (value.targetParams === undefined), {
    message: 'give exactly one of --target-macs and --target-params',
    path: ['targetMacs'],
  });
export type PruneWhileTrainingOptions = z.infer<typeof pruneWhileTrainingSchema>;

export const trainSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('train'),
  data: z.string().min(1),
  arch: z.enum(ARCHITECTURES),
  out: z.string().min(1),
  training: baselineTrainingOptionsSchema.default(baselineTrainingOptionsSchema.parse({})),
  /** Continue the run in `out` from its last good checkpoint. */
  resume: z.boolean().default(false),
  pruneWhileTraining: pruneWhileTrainingSchema.optional(),
});

export const evaluateSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('evaluate'),
  model: z.string().min(1),
  data: z.string().min(1),
  /** How the model's input pixels are scaled; absent: what the model file says, else unit. */
  inputScaling: z.enum(INPUT_SCALINGS).optional(),
});

export const inspectSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('inspect'),
  model: z.string().min(1),
});

export const infoSpecSchema = commonOptionsSchema.extend({ kind: z.literal('info') });

export const datasetSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('dataset'),
  data: z.string().min(1),
  /** How many sample images per class to return as previews. */
  previews: z.number().int().min(0).max(64).default(0),
});

export const CRITERIA = ['l1', 'l2', 'bn', 'fpgm', 'taylor', 'random'] as const;
export type Criterion = (typeof CRITERIA)[number];

/** How much a compress run spends measuring energy (ENERGY.md protocol); defaults keep it to seconds. */
export const ENERGY_MODES = ['off', 'quick', 'full'] as const;

export const compressEnergyOptionsSchema = z.object({
  /** Measure training and inference energy (the op-count model is always computed). */
  measure: z.boolean().default(true),
  /**
   * `off`: no measurement (as `measure: false`); `quick` (default): no extra training passes, the
   * original's training energy only from its own train run; `full`: where there is none, mini-epochs
   * of the original are measured as well.
   */
  mode: z.enum(ENERGY_MODES).default('quick'),
  /**
   * Inference: measured runs of each model, alternated (≥ 3). Five, so that two identical models
   * look different by chance 1 time in 126 (with three: 1 in 10).
   */
  repetitions: z.number().int().min(3).max(100).default(5),
  /** Inference: unmeasured runs of each model first. */
  warmupRuns: z.number().int().min(0).max(20).default(1),
  /** Seconds of idle power recorded before the inference runs. */
  idleSeconds: z.number().min(0).max(600).default(2),
  /** Inference: seconds one run of the original model should take (sets the samples per run). */
  runSeconds: z.number().gt(0).max(600).default(1),
  /** Training, without a baseline run: batches of the original per measured mini-epoch. */
  trainingBatches: z.number().int().min(1).max(100_000).default(10),
  /** Training, without a baseline run: mini-epochs measured. */
  trainingRepetitions: z.number().int().min(1).max(100).default(3),
  /** A train run (folder with training.json) of the original model on the same data and batch size. */
  baselineRun: z.string().min(1).optional(),
});
export type CompressEnergyOptions = z.infer<typeof compressEnergyOptionsSchema>;

/** How channels (structured) or weights (magnitude) are ranked and kept: compress, plan and explore. */
const pruningFields = {
  criterion: z.enum(CRITERIA).default('l1'),
  /** Per-layer or global ranking of channels (structured) / weights (magnitude). */
  scope: z.enum(['global', 'layer']).default('layer'),
  roundTo: z.number().int().min(1).default(1),
  minChannels: z.number().int().min(1).default(1),
  ignoredLayers: z.array(z.string()).default([]),
};

export const compressSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('compress'),
  model: z.string().min(1),
  data: z.string().min(1),
  out: z.string().min(1),
  method: z.enum(COMPRESSION_METHODS),
  /** Fraction of MACs to remove (structured). */
  targetMacs: z.number().gt(0).lt(1).optional(),
  /** Fraction of parameters to remove (structured). */
  targetParams: z.number().gt(0).lt(1).optional(),
  /** Fraction of weights set to zero (magnitude). */
  sparsity: z.number().gt(0).lt(1).optional(),
  dtype: z.enum(QUANT_DTYPES).default('uint8'),
  /** How the model's input pixels are scaled; absent: what the model file says, else unit. */
  inputScaling: z.enum(INPUT_SCALINGS).optional(),
  ...pruningFields,
  /** Iterative schedule: prune in N steps, fine-tuning after each. */
  steps: z.number().int().min(1).max(100).default(1),
  /** Accuracy budget in points (0..100) for automatic mode: choose per-layer ratios from sensitivity. */
  accuracyBudget: z.number().min(0).max(100).optional(),
  /** Automatic mode: a finished sensitivity run (its sensitivity.json) of this model, used instead of measuring again. */
  sensitivityRun: z.string().min(1).optional(),
  /** Per-tensor or per-channel fake-quant for QAT. */
  granularity: z.enum(['tensor', 'channel']).default('channel'),
  finetuneEpochs: z.number().int().min(0).max(1000).default(2),
  training: trainingOptionsSchema.default(trainingOptionsSchema.parse({})),
  resume: z.boolean().default(false),
  /** Energy measurement settings; absent: the defaults of compressEnergyOptionsSchema. */
  energy: compressEnergyOptionsSchema.optional(),
});

export const sensitivitySpecSchema = commonOptionsSchema.extend({
  kind: z.literal('sensitivity'),
  model: z.string().min(1),
  data: z.string().min(1),
  out: z.string().min(1),
  criterion: z.enum(CRITERIA).default('l1'),
  ratios: z.array(z.number().gt(0).lt(1)).default([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]),
  /** Validation samples used per measurement. */
  samples: z.number().int().min(1).default(1000),
  /** How the model's input pixels are scaled; absent: what the model file says, else unit. */
  inputScaling: z.enum(INPUT_SCALINGS).optional(),
});

/** Dry run of structured pruning over a sweep of targets: what the app's target slider shows. */
export const planSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('plan'),
  model: z.string().min(1),
  /** Remove this fraction of MACs or of parameters. */
  by: z.enum(['macs', 'params']).default('macs'),
  targets: z
    .array(z.number().min(0).lt(1))
    .max(101)
    .default(Array.from({ length: 19 }, (_, i) => i * 0.05)),
  ...pruningFields,
});

/**
 * Explore: structured pruning at several targets, each measured (accuracy after pruning, optionally
 * after a brief fine-tuning, and latency), so the user picks a point on the curve (explore-job.ts).
 */
export const exploreSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('explore'),
  model: z.string().min(1),
  data: z.string().min(1),
  out: z.string().min(1),
  by: z.enum(['macs', 'params']).default('macs'),
  targets: z.array(z.number().gt(0).lt(1)).min(1).max(19).default([0.2, 0.4, 0.6, 0.8]),
  /** How the model's input pixels are scaled; absent: what the model file says, else unit. */
  inputScaling: z.enum(INPUT_SCALINGS).optional(),
  ...pruningFields,
  /** Brief fine-tuning of each point (0: accuracy right after pruning only). */
  finetuneEpochs: z.number().int().min(0).max(20).default(0),
  training: trainingOptionsSchema.default(trainingOptionsSchema.parse({})),
  /** Evaluation samples per point (the first of the test split, else of the validation hold-out). */
  samples: z.number().int().min(1).default(1000),
});

export type ExploreSpec = z.infer<typeof exploreSpecSchema>;

export const demoSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('demo'),
  out: z.string().min(1),
  epochs: z.number().int().min(1).default(3),
});

export const REPORT_FORMATS = ['html', 'pdf', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Grid intensity and PUE for carbon figures; absent fields come from POLLARD_GRID_* / POLLARD_PUE. */
export const gridOptionsSchema = z.object({
  region: z.string().min(1).max(64).optional(),
  year: z.number().int().min(2000).max(2100).optional(),
  intensity: z.number().min(0).max(10_000).optional(),
  pue: z.number().min(1).max(10).optional(),
});

/** The energy-savings report of a run folder (compress, demo or train). */
export const reportSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('report'),
  /** The run folder to report on. */
  run: z.string().min(1),
  formats: z.array(z.enum(REPORT_FORMATS)).min(1).default(['html']),
  /** A file (one format, matching extension) or a folder; default `<run>/report/`. */
  out: z.string().min(1).optional(),
  /** Paper size of the PDF. */
  paper: z.enum(['a4', 'letter']).default('a4'),
  grid: gridOptionsSchema.optional(),
});

export const MODEL_FORMATS_OUT = ['tfjs', 'keras-h5', 'onnx'] as const;
/** float32: undo a quantized model's stored type (tfjs export otherwise keeps the model's own). */
export const EXPORT_QUANT_DTYPES = [...QUANT_DTYPES, 'float32', 'int8'] as const;
export const ONNX_LAYOUTS = ['nchw', 'nhwc'] as const;
export const CALIBRATION_METHODS = ['minmax', 'percentile'] as const;

/** Write a model in another format: tfjs layers (optionally weight-quantized), Keras 2 .h5 or ONNX. */
export const exportModelSpecSchema = commonOptionsSchema.extend({
  kind: z.literal('export-model'),
  model: z.string().min(1),
  format: z.enum(MODEL_FORMATS_OUT),
  /** A folder (tfjs) or a file (keras-h5, onnx; a folder gets `model.h5` / `model.onnx` inside it). */
  to: z.string().min(1),
  /** tfjs: weight quantization in the manifest; onnx: `int8`, static QDQ quantization. */
  quantize: z.enum(EXPORT_QUANT_DTYPES).optional(),
  /** onnx: the input's layout. */
  layout: z.enum(ONNX_LAYOUTS).default('nchw'),
  /** onnx int8: the dataset whose training split calibrates activations (its test split measures accuracy). */
  data: z.string().min(1).optional(),
  /** onnx int8: training samples that calibrate the activation ranges. */
  calibration: z.number().int().min(1).max(65_536).default(256),
  calibrationMethod: z.enum(CALIBRATION_METHODS).default('minmax'),
});

export const jobSpecSchema = z.discriminatedUnion('kind', [
  trainSpecSchema,
  evaluateSpecSchema,
  inspectSpecSchema,
  infoSpecSchema,
  datasetSpecSchema,
  compressSpecSchema,
  sensitivitySpecSchema,
  planSpecSchema,
  exploreSpecSchema,
  demoSpecSchema,
  reportSpecSchema,
  exportModelSpecSchema,
]);
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type JobKind = JobSpec['kind'];
export type SpecOf<K extends JobKind> = Extract<JobSpec, { kind: K }>;

// Every job kind has a result schema (job-results.ts), and every result schema a job kind.
type KindsMatch = [JobKind] extends [ResultKind] ? ([ResultKind] extends [JobKind] ? true : false) : false;
const _everyKindHasAResult: KindsMatch = true;

/** Live power and energy where measured; figures carry their labels. */
export type LiveEnergy = z.infer<typeof liveEnergySchema>;

/** One finished epoch, as the training loop reports it and training.json records it. */
export type EpochMetrics = z.infer<typeof epochMetricsSchema>;

/** Pruned while training: the structure was found after `epoch` and the network shrank (step of steps). */
export interface PrunedEvent {
  type: 'pruned';
  epoch: number;
  step: number;
  steps: number;
  /** The last mask distance before the prune; null where there was none (a fixed epoch 1). */
  maskDistance: number | null;
  detail: string;
  macsBefore: number;
  macsAfter: number;
}

export type JobEventBody =
  | {
      type: 'started';
      kind: JobKind;
      backend: BackendReport;
      runDir?: string;
      pid: number;
      /** node, tfjs-core, tfjs-layers, and the backend package. */
      versions: Record<string, string>;
    }
  | { type: 'stage'; stage: string; detail?: string }
  | { type: 'progress'; stage: string; done: number; total: number; etaSeconds?: number }
  | {
      type: 'batch';
      epoch: number;
      epochs: number;
      batch: number;
      batches: number;
      loss: number;
      accuracy: number;
      samplesPerSecond: number;
      etaSeconds: number;
      energy?: LiveEnergy;
    }
  | ({ type: 'epoch'; epochs: number } & EpochMetrics)
  | { type: 'checkpoint'; epoch: number; path: string }
  | PrunedEvent
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'result'; result: JobResult }
  | { type: 'error'; error: SerializedError }
  | { type: 'cancelled'; epoch?: number; batch?: number };

export type JobEvent = JobEventBody & { seq: number; time: number };

/** Messages from the job host to the job process. */
export type JobCommand = { type: 'start'; spec: JobSpec } | { type: 'cancel' };
