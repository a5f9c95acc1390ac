/**
 * One training run of a `train` job: train (from the newest checkpoint when resuming), re-estimate
 * BatchNormalization statistics from the final weights, evaluate on the test split (else validation).
 * The pruned-while-training run and its dense comparison are both one of these.
 */
import type { SpecOf } from '../../../shared/jobs';
import type { EnergyFigure, EvaluationResult } from '../../../shared/types';
import { DEFAULT_NORMALIZATION } from '../data';
import type { DatasetSplit } from '../data/types';
import { EnergyMeter } from '../energy/meter';
import type { JobContext } from '../job/context';
import type { LayersModel } from '../tf';
import { recalibrateFinished } from './bn-recalibration';
import { evaluateModel } from './evaluate';
import { type TrainData, type TrainHooks, type TrainOutcome, trainModel } from './loop';

export interface TrainedRun {
  /** The model at the end (a pruned one where a hook replaced it). */
  model: LayersModel;
  outcome: TrainOutcome;
  trainingEnergy: EnergyFigure;
  wallSeconds: number;
  /**
   * CPU seconds the job process (all its threads, replica workers included) spent in the loop: on a
   * machine shared with other work, a steadier measure of the compute a run needed than wall time.
   */
  cpuSeconds: number;
  evaluation: EvaluationResult;
  evaluatedOn: 'test' | 'validation';
}

export interface TrainJobData {
  data: TrainData;
  test?: DatasetSplit;
  classNames: string[];
}

/** Train (from a checkpoint where resuming), re-estimate BN statistics, evaluate: one run of a train job. */
export async function trainAndEvaluate(
  spec: SpecOf<'train'>,
  model: LayersModel,
  input: TrainJobData,
  run: { checkpointDir: string; stage: string; hooks?: TrainHooks },
  ctx: JobContext,
): Promise<TrainedRun> {
  const { data } = input;
  const normalization = DEFAULT_NORMALIZATION;
  const meter = await EnergyMeter.start();
  let trained = model;
  try {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const outcome = await trainModel(
      model,
      data,
      {
        training: spec.training,
        batchSize: spec.batchSize,
        seed: spec.seed,
        normalization,
        checkpointDir: run.checkpointDir,
        resume: spec.resume,
        stage: run.stage,
        energy: meter,
        ...(run.hooks ? { hooks: run.hooks } : {}),
      },
      ctx,
    );
    const wallSeconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    trained = outcome.replacedModel ?? model;
    const energyWindow = await meter.stop();
    // The saved model carries BN statistics estimated from the final weights, not moving averages
    // that trail them (see bn-recalibration.ts).
    await recalibrateFinished(
      trained,
      { split: data.train, shape: data.shape, classes: data.classes, normalization },
      spec.seed,
      ctx,
    );
    const evaluatedOn = input.test && input.test.count > 0 ? 'test' : 'validation';
    const evaluationSplit = evaluatedOn === 'test' ? input.test! : (data.validation ?? data.train);
    ctx.emit({ type: 'stage', stage: 'evaluate', detail: `${evaluationSplit.count} ${evaluatedOn} samples` });
    const evaluation = await evaluateModel(
      trained,
      evaluationSplit,
      data.shape,
      data.classes,
      { batchSize: spec.batchSize, normalization, classNames: input.classNames, stage: 'evaluate' },
      ctx,
    );
    return {
      model: trained,
      outcome,
      trainingEnergy: energyWindow.total,
      wallSeconds,
      cpuSeconds,
      evaluation,
      evaluatedOn,
    };
  } catch (error) {
    if (trained !== model) trained.dispose();
    throw error;
  } finally {
    await meter.stop();
  }
}
