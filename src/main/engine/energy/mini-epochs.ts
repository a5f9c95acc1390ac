/**
 * The original's training energy per epoch measured here (`--energy full` without a baseline
 * run): mini-epochs of the first N batches of the training split plus the same share of the
 * validation split, each scaled to a whole epoch (an epoch's energy is proportional to its work).
 */
import type { SpecOf } from '../../../shared/jobs';
import type { EnergyFigure } from '../../../shared/types';
import type { CompressionData } from '../compress/job-data';
import { firstSamples } from '../compress/job-data';
import type { JobContext } from '../job/context';
import type { LayersModel } from '../tf';
import type { TrainHooks } from '../train/loop';
import { trainModel } from '../train/loop';
import { EnergyMeter } from './meter';
import { summariseFigures } from './stats';
import type { TrainingEnergySide } from './training-energy';
import type { Clock, EnergySource } from './types';

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
