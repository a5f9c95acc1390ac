/**
 * The data a compression job works on, prepared once:
 *  - fine-tuning trains on the training split minus a stratified validation hold-out;
 *  - sensitivity, automatic mode and the Taylor calibration batch use only training-side data
 *    (the hold-out, or training samples), never the test split, so the test split stays unseen
 *    until the before/after comparison;
 *  - before/after accuracy is measured on the test split when the dataset has one, else on the
 *    hold-out (and the result says which).
 */
import { badInput } from '../../../shared/errors';
import type { ExploreSpec } from '../../../shared/jobs';
import { DEFAULT_NORMALIZATION, gatherSplit, makeBatch, openDataset, splitValidation } from '../data';
import type { DatasetSplit, Normalization } from '../data';
import type { JobContext } from '../job/context';
import type { LayersModel } from '../tf';
import { evaluateModel } from '../train/evaluate';
import { Rng } from '../util/rng';
import type { Calibration } from './importance';

export interface CompressionData {
  source: string;
  shape: [number, number, number];
  classes: number;
  classNames: string[];
  normalization: Normalization;
  train: DatasetSplit;
  validation: DatasetSplit;
  evaluation: DatasetSplit;
  evaluationSplit: 'test' | 'validation';
}

/** Open the dataset and check it fits the model (input shape and class count). */
export async function prepareCompressionData(
  dataPath: string,
  model: LayersModel,
  options: { limit?: number; validationSplit: number; seed: number; normalization?: Normalization },
): Promise<CompressionData> {
  const dataset = await openDataset(dataPath, options.limit !== undefined ? { limit: options.limit } : {});
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const [h, w, c] = dataset.shape;
  if (input.length !== 3 || input[0] !== h || input[1] !== w || input[2] !== c) {
    throw badInput(
      dataPath,
      `the dataset's images are ${h}×${w}×${c} but the model expects [${input.map(String).join(', ')}]`,
    );
  }
  const output = model.outputs[0]!.shape;
  const units = output[output.length - 1];
  if (units !== dataset.classNames.length) {
    throw badInput(
      dataPath,
      `the dataset has ${dataset.classNames.length} classes but the model has ${String(units)} outputs`,
    );
  }
  const fraction = options.validationSplit > 0 ? options.validationSplit : 0.1;
  const { train, validation } = splitValidation(dataset.train, fraction, options.seed);
  const hasTest = dataset.test !== undefined && dataset.test.count > 0;
  if (!hasTest && validation.count === 0) {
    throw badInput(
      dataPath,
      `has no test samples and too few training samples (${dataset.train.count}) to hold out for validation: accuracy cannot be measured on 0 samples`,
    );
  }
  return {
    source: dataPath,
    shape: dataset.shape,
    classes: dataset.classNames.length,
    classNames: dataset.classNames,
    normalization: options.normalization ?? DEFAULT_NORMALIZATION,
    train,
    validation,
    evaluation: dataset.test && dataset.test.count > 0 ? dataset.test : validation,
    evaluationSplit: dataset.test && dataset.test.count > 0 ? 'test' : 'validation',
  };
}

/** The first `count` samples of a split (the validation hold-out is already class-balanced). */
export function firstSamples(split: DatasetSplit, count: number): DatasetSplit {
  if (count >= split.count) return split;
  return gatherSplit(
    split,
    Array.from({ length: count }, (_, i) => i),
  );
}

/** A seeded batch of training samples for the Taylor criterion. */
export function calibrationBatch(data: CompressionData, count: number, seed: number): Calibration {
  const rng = new Rng(seed ^ 0x5eed);
  const size = Math.min(count, data.train.count);
  const indices = Array.from({ length: size }, () => rng.nextInt(data.train.count));
  const batch = makeBatch(data.train, data.shape, indices, data.classes, {
    normalization: data.normalization,
  });
  batch.y.dispose();
  return { x: batch.x, labels: batch.labels };
}

/** Top-1 accuracy (0..1) of a model on a split. */
export async function accuracyOn(
  model: LayersModel,
  split: DatasetSplit,
  data: CompressionData,
  batchSize: number,
  ctx?: JobContext,
  stage?: string,
): Promise<number> {
  const result = await evaluateModel(
    model,
    split,
    data.shape,
    data.classes,
    {
      batchSize,
      normalization: data.normalization,
      classNames: data.classNames,
      detailed: false,
      ...(stage ? { stage } : {}),
    },
    ctx,
  );
  return result.accuracy;
}

type PruningSpec = Pick<ExploreSpec, 'criterion' | 'scope' | 'roundTo' | 'minChannels' | 'ignoredLayers'>;

/** The ranking and keeping options a compress, plan or explore spec gives the pruner. */
export function pruningOptions(spec: PruningSpec): PruningSpec {
  const { criterion, scope, roundTo, minChannels, ignoredLayers } = spec;
  return { criterion, scope, roundTo, minChannels, ignoredLayers };
}
