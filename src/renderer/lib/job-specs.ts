/**
 * The job specs the wizard sends, built from its choices. Specs that write a run folder leave
 * `out` to the host, which puts a new folder under the runs directory (settings); the API type
 * still says `out: string`, so `hostRunFolder` marks the one place where it is left out.
 */
import type {
  ArchitectureName,
  CompressionMethod,
  Criterion,
  InputScaling,
  JobSpecInput,
  QuantDtype,
} from '../../shared/jobs';

type Spec<K extends JobSpecInput['kind']> = Extract<JobSpecInput, { kind: K }>;

function hostRunFolder<K extends JobSpecInput['kind']>(spec: Omit<Spec<K>, 'out'>): Spec<K> {
  return spec as Spec<K>;
}

export interface DataChoice {
  model: string;
  data: string;
  /** Only the first N samples of each split (quick trial runs). */
  limit?: number | null;
  /** A finished sensitivity run of this model: automatic mode reads its measurements instead of measuring again. */
  sensitivityRun?: string | null;
  /** How the model's input pixels are scaled; absent: what the model file stores, else unit. */
  inputScaling?: InputScaling | null;
}

export interface MethodChoice {
  method: CompressionMethod;
  /** Fraction of MACs or parameters (`targetBy`) to remove (structured). */
  target: number;
  /** What the structured target measures: MACs (speed) or parameters (size). */
  targetBy: 'macs' | 'params';
  /** Fraction of weights set to zero (magnitude). */
  sparsity: number;
  dtype: QuantDtype;
  criterion: Criterion;
  granularity: 'tensor' | 'channel';
  finetuneEpochs: number;
  // ---- advanced (structured pruning, fine-tuning) ----
  /** Rank channels within each layer, or across the whole network. */
  scope: 'layer' | 'global';
  /** Keep every pruned layer's channel count a multiple of this. */
  roundTo: number;
  /** Layers whose output channels are never pruned. */
  ignoredLayers: string[];
  /** Prune in this many steps, fine-tuning after each. */
  steps: number;
  /** Automatic mode: per-layer ratios from the measured sensitivity, within `accuracyBudget` points. */
  automatic: boolean;
  accuracyBudget: number;
  learningRate: number;
  batchSize: number;
}

/** The engine's defaults (compressSpecSchema) for the advanced options, as the Method step shows them. */
export const ADVANCED_DEFAULTS = {
  scope: 'layer',
  roundTo: 1,
  steps: 1,
  automatic: false,
  accuracyBudget: 1,
  learningRate: 0.001,
  batchSize: 64,
} as const satisfies Partial<MethodChoice>;

export interface MethodInfo {
  title: string;
  explanation: string;
  prunes: boolean;
  quantizes: boolean;
  finetunes: boolean;
  defaults: Partial<MethodChoice>;
}

export const METHODS: Record<CompressionMethod, MethodInfo> = {
  structured: {
    title: 'Structured pruning',
    explanation:
      'Removes whole filters and channels, so the model is genuinely smaller and faster on any backend; fine-tuning recovers the accuracy.',
    prunes: true,
    quantizes: false,
    finetunes: true,
    defaults: { target: 0.5, criterion: 'l1', finetuneEpochs: 2 },
  },
  magnitude: {
    title: 'Magnitude pruning',
    explanation:
      'Sets the smallest weights to zero: the file compresses far better, but dense kernels run no faster.',
    prunes: false,
    quantizes: false,
    finetunes: true,
    defaults: { sparsity: 0.8, finetuneEpochs: 2 },
  },
  quantize: {
    title: 'Quantization',
    explanation:
      'Stores the weights in 8 or 16 bits instead of 32: about 4× (uint8) or 2× smaller, no training.',
    prunes: false,
    quantizes: true,
    finetunes: false,
    defaults: { dtype: 'uint8' },
  },
  qat: {
    title: 'Quantization-aware training',
    explanation:
      'Fine-tunes with the 8-bit rounding in the loop, so less accuracy is lost than when quantizing afterwards.',
    prunes: false,
    quantizes: true,
    finetunes: true,
    defaults: { dtype: 'uint8', granularity: 'channel', finetuneEpochs: 2 },
  },
  'structured+quantize': {
    title: 'Prune + quantize',
    explanation:
      'Prunes channels, fine-tunes, then stores the weights in 8 bits: the smallest, fastest result.',
    prunes: true,
    quantizes: true,
    finetunes: true,
    defaults: { target: 0.5, criterion: 'l1', dtype: 'uint8', finetuneEpochs: 2 },
  },
};

export const DEFAULT_METHOD_CHOICE: MethodChoice = {
  method: 'structured',
  target: 0.5,
  targetBy: 'macs',
  sparsity: 0.8,
  dtype: 'uint8',
  criterion: 'l1',
  granularity: 'channel',
  finetuneEpochs: 2,
  ...ADVANCED_DEFAULTS,
  ignoredLayers: [],
};

/** The choice with the method's defaults applied (switching methods resets its own options). */
export function withMethodDefaults(choice: MethodChoice, method: CompressionMethod): MethodChoice {
  return { ...choice, ...METHODS[method].defaults, method };
}

const limitOf = (limit: number | null | undefined): { limit?: number } =>
  limit !== null && limit !== undefined && limit > 0 ? { limit: Math.floor(limit) } : {};
const scalingOf = (data: DataChoice): { inputScaling?: InputScaling } =>
  data.inputScaling ? { inputScaling: data.inputScaling } : {};

/** The pruning options a plan and a compress run share; each is sent only where it differs from the default. */
function pruningShape(choice: Pick<MethodChoice, 'scope' | 'roundTo' | 'ignoredLayers'>): {
  scope?: 'layer' | 'global';
  roundTo?: number;
  ignoredLayers?: string[];
} {
  return {
    ...(choice.scope !== ADVANCED_DEFAULTS.scope ? { scope: choice.scope } : {}),
    ...(choice.roundTo > 1 ? { roundTo: Math.floor(choice.roundTo) } : {}),
    ...(choice.ignoredLayers.length > 0 ? { ignoredLayers: [...choice.ignoredLayers] } : {}),
  };
}

/** Automatic mode needs a MACs target (the engine refuses a parameter target) and the user's sensitivity run. */
export function automaticReady(choice: MethodChoice, sensitivityRun: string | null | undefined): boolean {
  return choice.automatic && METHODS[choice.method].prunes && !!sensitivityRun;
}

export function compressSpec(choice: MethodChoice, data: DataChoice): Spec<'compress'> {
  const info = METHODS[choice.method];
  const automatic = automaticReady(choice, data.sensitivityRun);
  const targetBy = automatic ? 'macs' : choice.targetBy;
  const training = choice.learningRate !== ADVANCED_DEFAULTS.learningRate && info.finetunes;
  return hostRunFolder<'compress'>({
    kind: 'compress',
    model: data.model,
    data: data.data,
    method: choice.method,
    ...(info.prunes
      ? {
          ...(targetBy === 'params' ? { targetParams: choice.target } : { targetMacs: choice.target }),
          criterion: choice.criterion,
          ...pruningShape(choice),
          ...(automatic
            ? { accuracyBudget: choice.accuracyBudget, sensitivityRun: data.sensitivityRun! }
            : choice.steps > 1
              ? { steps: Math.floor(choice.steps) }
              : {}),
        }
      : {}),
    ...(choice.method === 'magnitude' ? { sparsity: choice.sparsity } : {}),
    ...(info.quantizes ? { dtype: choice.dtype } : {}),
    ...(choice.method === 'qat' ? { granularity: choice.granularity } : {}),
    finetuneEpochs: info.finetunes ? choice.finetuneEpochs : 0,
    ...(training ? { training: { learningRate: choice.learningRate } } : {}),
    ...(choice.batchSize !== ADVANCED_DEFAULTS.batchSize ? { batchSize: Math.floor(choice.batchSize) } : {}),
    ...scalingOf(data),
    ...limitOf(data.limit),
  });
}

/**
 * Explore: the Method step's pruning shape at several targets, each measured (optionally after a
 * brief fine-tuning) to pick one. Automatic mode and steps are compress's alone.
 */
export function exploreSpec(
  choice: MethodChoice,
  data: DataChoice,
  options: { targets: readonly number[]; finetuneEpochs: number },
): Spec<'explore'> {
  const tunes = options.finetuneEpochs > 0;
  return hostRunFolder<'explore'>({
    kind: 'explore',
    model: data.model,
    data: data.data,
    by: choice.targetBy,
    targets: [...options.targets].sort((a, b) => a - b),
    criterion: choice.criterion,
    ...pruningShape(choice),
    finetuneEpochs: Math.floor(options.finetuneEpochs),
    ...(tunes && choice.learningRate !== ADVANCED_DEFAULTS.learningRate
      ? { training: { learningRate: choice.learningRate } }
      : {}),
    ...(choice.batchSize !== ADVANCED_DEFAULTS.batchSize ? { batchSize: Math.floor(choice.batchSize) } : {}),
    ...scalingOf(data),
    ...limitOf(data.limit),
  });
}

export function trainSpec(options: {
  data: string;
  arch: ArchitectureName;
  epochs: number;
  limit?: number | null;
  /** Train a smaller network: prune once the structure is found (or after `pruneAtEpoch`). */
  prune?: { targetMacs: number; compareDense: boolean; pruneAtEpoch?: number } | null;
}): Spec<'train'> {
  const prune = options.prune;
  return hostRunFolder<'train'>({
    kind: 'train',
    data: options.data,
    arch: options.arch,
    training: { epochs: options.epochs },
    ...limitOf(options.limit),
    ...(prune
      ? {
          pruneWhileTraining: {
            targetMacs: prune.targetMacs,
            compareDense: prune.compareDense,
            ...(prune.pruneAtEpoch !== undefined ? { pruneAtEpoch: prune.pruneAtEpoch } : {}),
          },
        }
      : {}),
  });
}

export function evaluateSpec(data: DataChoice): Spec<'evaluate'> {
  return { kind: 'evaluate', model: data.model, data: data.data, ...scalingOf(data), ...limitOf(data.limit) };
}

/** The criterion a dry run can use: Taylor needs a calibration batch, which a plan has no data for. */
export function planCriterion(criterion: Criterion): Criterion {
  return criterion === 'taylor' ? 'l1' : criterion;
}

export function planSpec(
  model: string,
  criterion: Criterion,
  by: 'macs' | 'params' = 'macs',
  shape: Pick<MethodChoice, 'scope' | 'roundTo' | 'ignoredLayers'> = DEFAULT_METHOD_CHOICE,
): Spec<'plan'> {
  return { kind: 'plan', model, by, criterion: planCriterion(criterion), ...pruningShape(shape) };
}

/** What a plan depends on: a new plan is computed when this changes. */
export function planKey(model: string, choice: MethodChoice): string {
  return JSON.stringify([
    model,
    planCriterion(choice.criterion),
    choice.targetBy,
    choice.scope,
    choice.roundTo,
    [...choice.ignoredLayers].sort(),
  ]);
}

export function sensitivitySpec(data: DataChoice, criterion: Criterion): Spec<'sensitivity'> {
  return hostRunFolder<'sensitivity'>({
    kind: 'sensitivity',
    model: data.model,
    data: data.data,
    criterion,
    // A sensitivity sweep evaluates the model ~9× per layer: keep each evaluation small.
    samples: Math.min(500, data.limit ?? 500),
    ...scalingOf(data),
    ...limitOf(data.limit),
  });
}
