/**
 * What the compression jobs share: stage events (with a cancellation check at each boundary),
 * fine-tuning through the engine's training loop (events, checkpoints, cancellation, resume,
 * energy per epoch), and the sensitivity files.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SpecOf } from '../../../shared/jobs';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic';
import { EnergyMeter } from '../energy/meter';
import type { JobContext } from '../job/context';
import type { LayersModel } from '../tf';
import type { EpochMetrics, TrainHooks } from '../train/loop';
import { trainModel } from '../train/loop';
import { recalibrateFinished } from '../train/bn-recalibration';
import type { CompressionData } from './job-data';
import type { SensitivityResult } from './sensitivity';
import { sensitivityCsv } from './sensitivity';

export type FineTuneRecord = { stage: string; epochs: number; history: EpochMetrics[] };

/** Announce a stage; a requested cancel stops the job here. */
export function stage(ctx: JobContext, name: string, detail?: string): void {
  ctx.throwIfCancelled();
  ctx.emit({ type: 'stage', stage: name, ...(detail ? { detail } : {}) });
}

export { RECALIBRATION_SAMPLES } from '../train/bn-recalibration';

/** Re-estimate the model's BN statistics on training samples (see bn-recalibration.ts). */
export async function recalibrate(
  model: LayersModel,
  data: CompressionData,
  seed: number,
  ctx: JobContext,
): Promise<void> {
  await recalibrateFinished(
    model,
    { split: data.train, shape: data.shape, classes: data.classes, normalization: data.normalization },
    seed,
    ctx,
  );
}

/** What fine-tuning reads of a job's spec (compress, explore). */
export type FineTuneSpec = Pick<
  SpecOf<'compress'>,
  'finetuneEpochs' | 'energy' | 'training' | 'batchSize' | 'seed' | 'out' | 'resume'
>;

/**
 * Fine-tune with the spec's training options (none when `finetuneEpochs` is 0), then re-estimate
 * the BN statistics, which a short fine-tuning leaves behind the weights.
 */
export async function fineTune(
  model: LayersModel,
  data: CompressionData,
  spec: FineTuneSpec,
  ctx: JobContext,
  name: string,
  hooks?: TrainHooks,
  checkpointName = name,
): Promise<FineTuneRecord | undefined> {
  if (spec.finetuneEpochs === 0) return undefined;
  // Each stage under its own meter: every epoch's metrics carry the energy since the stage began.
  const energyOff = spec.energy?.measure === false || spec.energy?.mode === 'off';
  const meter = energyOff ? undefined : await EnergyMeter.start();
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
    await recalibrate(model, data, spec.seed, ctx);
    return { stage: name, epochs: outcome.epochsCompleted, history: outcome.history };
  } finally {
    await meter?.stop();
  }
}

/** `<out>/sensitivity.json` and `<out>/sensitivity.csv`; returns the JSON path. */
export async function writeSensitivityFiles(out: string, result: SensitivityResult): Promise<string> {
  await fs.mkdir(out, { recursive: true });
  const json = path.join(out, 'sensitivity.json');
  await writeJsonAtomic(json, result);
  await writeFileAtomic(path.join(out, 'sensitivity.csv'), sensitivityCsv(result));
  return json;
}
