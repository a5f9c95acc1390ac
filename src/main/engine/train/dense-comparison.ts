/**
 * `--compare-dense`: after a prune-while-training run, the same job trains the dense model on the
 * same data, epochs, batch size, seed (so the same initial weights and batch order) and backend,
 * and compares whole-run wall time and training energy; or `--dense-run R` names a finished dense
 * train run with those same settings instead. An energy ratio is only given between figures
 * obtained the same way (ENERGY.md): same label and same source, neither unavailable.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { usageError } from '../../../shared/errors';
import type { EpochMetrics, SpecOf } from '../../../shared/jobs';
import type { EnergyFigure, EnergyLabel } from '../../../shared/types';
import { sha256OfPath } from '../util/hash';
import { countModel } from '../compress/compare';
import type { JobContext } from '../job/context';
import { buildArchitecture } from '../model/architectures';
import { trainAndEvaluate, type TrainedRun, type TrainJobData } from './train-run';

export interface DenseComparison {
  dense: {
    /** "trained in this job", or the run folder named with --dense-run. */
    source: string;
    accuracy: number;
    evaluatedOn: 'test' | 'validation';
    wallSeconds: number;
    /** null for a reference run recorded before CPU time was. */
    cpuSeconds: number | null;
    trainingEnergy: EnergyFigure;
    epochs: number;
    macs: number;
    params: number;
    /** Its epochs (accuracy, time, cumulative energy of its own meter), for the report's curves. */
    history?: EpochMetrics[];
  };
  /** Dense ÷ pruned-while-training: above 1 means the pruned run was cheaper. */
  savings: {
    wallTime: { ratio: number; label: 'measured:wall-clock' };
    /** The job process's CPU time in the two loops: steadier than wall time where other work shares the cores. */
    cpuTime: { ratio: number | null; label: 'measured:process-cpu-time' };
    energy: { ratio: number | null; label: EnergyLabel; source: string; reason?: string };
    /** Set where either run was resumed: its times and energy then cover only this process's part. */
    partial?: string;
  };
}

/** Dense ÷ pruned energy, or null with the reason where the two were not obtained the same way. */
export function energySaving(
  dense: EnergyFigure,
  pruned: EnergyFigure,
): DenseComparison['savings']['energy'] {
  const label = pruned.label;
  const source = pruned.source;
  if (dense.joules === null || pruned.joules === null || pruned.joules <= 0) {
    return {
      ratio: null,
      label: 'unavailable',
      source,
      reason: 'no training energy was measured for both runs',
    };
  }
  if (dense.label !== pruned.label || dense.source !== pruned.source) {
    return {
      ratio: null,
      label: 'unavailable',
      source,
      reason: `the two runs were measured differently (${dense.label} ${dense.source} vs ${pruned.label} ${pruned.source})`,
    };
  }
  return { ratio: dense.joules / pruned.joules, label, source };
}

export type DenseFigures = DenseComparison['dense'] & { resumed: boolean };

function compare(dense: DenseFigures, pruned: TrainedRun): DenseComparison {
  const { resumed, ...record } = dense;
  const partial = resumed || pruned.outcome.resumedFrom !== undefined;
  return {
    dense: record,
    savings: {
      wallTime: {
        ratio: dense.wallSeconds / Math.max(pruned.wallSeconds, 1e-9),
        label: 'measured:wall-clock',
      },
      cpuTime: {
        ratio: dense.cpuSeconds === null ? null : dense.cpuSeconds / Math.max(pruned.cpuSeconds, 1e-9),
        label: 'measured:process-cpu-time',
      },
      energy: energySaving(dense.trainingEnergy, pruned.trainingEnergy),
      ...(partial
        ? {
            partial:
              'a run was resumed from a checkpoint: its wall time, CPU time and energy cover only the epochs trained after the resume, so the ratios are not whole-run savings',
          }
        : {}),
    },
  };
}

export async function compareWithDense(
  spec: SpecOf<'train'>,
  shape: [number, number, number],
  input: TrainJobData,
  pruned: TrainedRun,
  ctx: JobContext,
  /** A finished dense run's figures (`denseRunFigures`, read before training so a mismatch fails early). */
  reference?: DenseFigures,
): Promise<DenseComparison> {
  if (reference) return compare(reference, pruned);
  ctx.emit({
    type: 'stage',
    stage: 'dense',
    detail: 'the dense model, same data, epochs, batch size and seed',
  });
  const model = buildArchitecture(spec.arch, shape, input.data.classes, spec.seed);
  try {
    const run = await trainAndEvaluate(
      spec,
      model,
      input,
      { checkpointDir: path.join(spec.out, 'dense', 'checkpoints'), stage: 'train dense' },
      ctx,
    );
    const counts = countModel(run.model);
    return compare(
      {
        source: 'trained in this job',
        accuracy: run.evaluation.accuracy,
        evaluatedOn: run.evaluatedOn,
        wallSeconds: run.wallSeconds,
        cpuSeconds: run.cpuSeconds,
        trainingEnergy: run.trainingEnergy,
        epochs: run.outcome.epochsCompleted,
        macs: counts.macs,
        params: counts.params,
        history: run.outcome.history,
        resumed: run.outcome.resumedFrom !== undefined,
      },
      pruned,
    );
  } finally {
    model.dispose();
  }
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw usageError(
      `--dense-run: cannot read ${file} (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/** The figures of a finished dense train run, refused unless it matches this run's settings. */
export async function denseRunFigures(
  runDir: string,
  spec: SpecOf<'train'>,
  backend: string,
): Promise<DenseFigures> {
  const run = await readJson(path.join(runDir, 'run.json'));
  const training = await readJson(path.join(runDir, 'training.json'));
  const other = (run.spec ?? {}) as Record<string, unknown>;
  const mismatch = (what: string, theirs: unknown, ours: unknown): never => {
    throw usageError(
      `--dense-run ${runDir}: ${what} differs (${JSON.stringify(theirs)} there, ${JSON.stringify(ours)} here); train the dense run with the same settings or use --compare-dense alone`,
    );
  };
  if (run.status !== 'completed' || other.kind !== 'train')
    mismatch('not a completed train run: status', run.status, 'completed');
  if (other.pruneWhileTraining !== undefined) mismatch('pruning while training', 'on', 'off in a dense run');
  const same: [string, unknown, unknown][] = [
    ['the architecture', other.arch, spec.arch],
    ['the batch size', other.batchSize, spec.batchSize],
    ['the seed', other.seed, spec.seed],
    ['--limit', other.limit ?? null, spec.limit ?? null],
    ['the training options', other.training, spec.training],
    ['the backend', training.backend, backend],
    ['the dataset (SHA-256)', training.datasetSha256, await sha256OfPath(spec.data)],
  ];
  for (const [what, theirs, ours] of same) {
    if (JSON.stringify(theirs) !== JSON.stringify(ours)) mismatch(what, theirs, ours);
  }
  if (typeof training.wallSeconds !== 'number') {
    throw usageError(
      `--dense-run ${runDir}: the run records no wallSeconds (made by an older Pollard); use --compare-dense alone`,
    );
  }
  return {
    source: runDir,
    accuracy: training.accuracy as number,
    evaluatedOn: training.evaluatedOn as 'test' | 'validation',
    wallSeconds: training.wallSeconds,
    cpuSeconds: typeof training.cpuSeconds === 'number' ? training.cpuSeconds : null,
    trainingEnergy: training.trainingEnergy as EnergyFigure,
    epochs: training.epochs as number,
    macs: training.macs as number,
    params: training.params as number,
    ...(Array.isArray(training.history) ? { history: training.history as EpochMetrics[] } : {}),
    resumed: typeof run.resumes === 'number' && run.resumes > 0,
  };
}
