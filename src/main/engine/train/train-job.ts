/**
 * `train` job: a baseline from a built-in architecture. Writes into the run folder:
 *   checkpoints/   every epoch (resume continues from here)
 *   model/         the trained model (tfjs layers format, with class names and normalisation)
 *   training.json  history, evaluation on the test split, dataset and model SHA-256, energy
 */
import path from 'node:path';
import type { SpecOf } from '../../../shared/jobs';
import type { EnergyFigure, EvaluationResult } from '../../../shared/types';
import { writeJsonAtomic } from '../../util/atomic';
import { DEFAULT_NORMALIZATION, describeDataset, openDataset, splitValidation } from '../data';
import type { JobContext } from '../job/context';
import { buildArchitecture } from '../model/architectures';
import { measureModelFiles, modelSha256 } from '../model/model-files';
import { openModel } from '../model/registry';
import { summarizeModel } from '../model/summary';
import { saveModel } from '../model/tfjs-layers-writer';
import { sha256OfPath } from '../util/hash';
import { countModel } from '../compress/compare';
import { checkpointHookState, type EpochMetrics, type Parallelism } from './loop';
import { type DenseComparison, compareWithDense, denseRunFigures } from './dense-comparison';
import { trainAndEvaluate, type TrainJobData } from './train-run';
import { PruneWhileTraining, type PruneWhileTrainingRecord, prunedModelDir } from './prune-while-training';

export interface TrainResult {
  kind: 'train';
  backend: string;
  device: string;
  runDir: string;
  modelPath: string;
  arch: string;
  /** Top-1 on `evaluatedOn`, 0..1. */
  accuracy: number;
  loss: number;
  top5?: number;
  evaluatedOn: 'test' | 'validation';
  params: number;
  macs: number;
  sizeBytes: number;
  sizeGzipBytes: number;
  /** Training throughput over this process's epochs. */
  samplesPerSecond: number;
  /** Threads, data-parallel replicas and micro-batch size the steps ran with. */
  parallelism: Parallelism;
  epochs: number;
  stoppedEarly: boolean;
  history: EpochMetrics[];
  evaluation: EvaluationResult;
  trainingEnergy: EnergyFigure;
  datasetSha256: string;
  modelSha256: string;
  /** Peak resident memory of the job process so far, MiB. */
  peakRssMiB: number;
  /** Seconds the training loop ran in this process (the prune included). */
  wallSeconds: number;
  /** CPU seconds of the job process (every thread) in the training loop. */
  cpuSeconds: number;
  /** With --prune-while-training: when and why the model was pruned, and its cost before → after. */
  pruneWhileTraining?: PruneWhileTrainingRecord;
  /** With --compare-dense: the dense run on the same data, epochs, batch size, seed and backend. */
  dense?: DenseComparison['dense'];
  savings?: DenseComparison['savings'];
}

export const TRAINING_FILE = 'training.json';

export async function runTrainJob(spec: SpecOf<'train'>, ctx: JobContext): Promise<TrainResult> {
  ctx.emit({ type: 'stage', stage: 'open dataset', detail: spec.data });
  const dataset = await openDataset(spec.data, spec.limit !== undefined ? { limit: spec.limit } : {});
  const info = describeDataset(dataset);
  for (const note of dataset.notes) ctx.log('info', note);
  const { train, validation } =
    spec.training.validationSplit > 0
      ? splitValidation(dataset.train, spec.training.validationSplit, spec.seed)
      : { train: dataset.train, validation: undefined };
  const classes = dataset.classNames.length;
  const normalization = DEFAULT_NORMALIZATION;
  const checkpointDir = path.join(spec.out, 'checkpoints');
  const input: TrainJobData = {
    data: { train, ...(validation ? { validation } : {}), shape: dataset.shape, classes },
    ...(dataset.test ? { test: dataset.test } : {}),
    classNames: dataset.classNames,
  };
  const pwt = spec.pruneWhileTraining;
  const pruner = pwt ? new PruneWhileTraining(pwt, spec.training.epochs, checkpointDir, ctx) : undefined;
  // A named dense reference is checked before training, so that a mismatch costs no training.
  const reference =
    pwt?.denseRun !== undefined ? await denseRunFigures(pwt.denseRun, spec, ctx.backend.used) : undefined;
  let model = buildArchitecture(spec.arch, dataset.shape, classes, spec.seed);
  if (pruner && spec.resume) {
    // A checkpoint taken after the prune holds the pruned model's weights: rebuild its topology.
    const saved = await checkpointHookState(checkpointDir);
    if (saved !== undefined) pruner.restore(saved);
    if (pruner.pruned) {
      model.dispose();
      model = (await openModel(prunedModelDir(checkpointDir))).model;
      ctx.log('info', 'resuming the pruned model (pruned while training)');
    }
  }
  const denseCounts = pruner ? countModel(model) : undefined;
  try {
    const run = await trainAndEvaluate(
      spec,
      model,
      input,
      { checkpointDir, stage: 'train', ...(pruner ? { hooks: pruner.hooks() } : {}) },
      ctx,
    );
    if (run.model !== model) {
      model.dispose();
      model = run.model;
    }
    const { outcome, evaluation, evaluatedOn } = run;

    ctx.emit({ type: 'stage', stage: 'save model' });
    const modelDir = path.join(spec.out, 'model');
    const saved = await saveModel(model, modelDir, {
      metadata: {
        classNames: dataset.classNames,
        normalization,
        producedBy: { kind: 'train', arch: spec.arch, dataset: spec.data, seed: spec.seed },
      },
    });
    const sizes = await measureModelFiles(saved.files);
    const summary = summarizeModel(model, { sizes });
    const [datasetSha256, modelHash] = await Promise.all([sha256OfPath(spec.data), modelSha256(saved.files)]);
    const result: TrainResult = {
      kind: 'train',
      backend: ctx.backend.used,
      device: ctx.backend.device,
      runDir: spec.out,
      modelPath: modelDir,
      arch: spec.arch,
      accuracy: evaluation.accuracy,
      loss: evaluation.loss,
      ...(evaluation.top5 !== undefined ? { top5: evaluation.top5 } : {}),
      evaluatedOn,
      params: summary.params,
      macs: summary.macs,
      sizeBytes: sizes.bytes,
      sizeGzipBytes: sizes.gzipBytes,
      samplesPerSecond: outcome.samplesPerSecond,
      parallelism: outcome.parallelism,
      epochs: outcome.epochsCompleted,
      stoppedEarly: outcome.stoppedEarly,
      history: outcome.history,
      evaluation,
      trainingEnergy: run.trainingEnergy,
      datasetSha256,
      modelSha256: modelHash,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      wallSeconds: run.wallSeconds,
      cpuSeconds: run.cpuSeconds,
      ...(pruner && denseCounts ? { pruneWhileTraining: pruner.record(denseCounts) } : {}),
    };
    if (pwt?.compareDense || pwt?.denseRun !== undefined) {
      Object.assign(result, await compareWithDense(spec, dataset.shape, input, run, ctx, reference));
      result.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    }
    await writeJsonAtomic(path.join(spec.out, TRAINING_FILE), {
      ...result,
      dataset: info,
      layers: summary.layers,
    });
    return result;
  } finally {
    pruner?.release(model);
    model.dispose();
  }
}
