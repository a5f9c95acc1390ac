/**
 * `--compare-dense`: after a prune-while-training run, the same job trains the dense model on the
 * same data, epochs, batch size, seed (so the same initial weights and batch order) and backend,
 * and compares whole-run wall time and training energy. An energy ratio is only given between
 * figures obtained the same way (ENERGY.md): same label and same source, neither unavailable.
 */
import path from 'node:path';
import type { SpecOf } from '../../../shared/jobs';
import type { EnergyFigure, EnergyLabel } from '../../../shared/types';
import { countModel } from '../compress/compare';
import type { JobContext } from '../job/context';
import { buildArchitecture } from '../model/architectures';
import { trainAndEvaluate, type TrainedRun, type TrainJobData } from './train-run';

export interface DenseComparison {
  dense: {
    accuracy: number;
    evaluatedOn: 'test' | 'validation';
    wallSeconds: number;
    cpuSeconds: number;
    trainingEnergy: EnergyFigure;
    epochs: number;
    macs: number;
    params: number;
  };
  /** Dense ÷ pruned-while-training: above 1 means the pruned run was cheaper. */
  savings: {
    wallTime: { ratio: number; label: 'measured:wall-clock' };
    /** The job process's CPU time in the two loops: steadier than wall time where other work shares the cores. */
    cpuTime: { ratio: number; label: 'measured:process-cpu-time' };
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

export async function compareWithDense(
  spec: SpecOf<'train'>,
  shape: [number, number, number],
  input: TrainJobData,
  pruned: TrainedRun,
  ctx: JobContext,
): Promise<DenseComparison> {
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
    const resumed = [pruned, run].filter((r) => r.outcome.resumedFrom).length > 0;
    return {
      dense: {
        accuracy: run.evaluation.accuracy,
        evaluatedOn: run.evaluatedOn,
        wallSeconds: run.wallSeconds,
        cpuSeconds: run.cpuSeconds,
        trainingEnergy: run.trainingEnergy,
        epochs: run.outcome.epochsCompleted,
        macs: counts.macs,
        params: counts.params,
      },
      savings: {
        wallTime: {
          ratio: run.wallSeconds / Math.max(pruned.wallSeconds, 1e-9),
          label: 'measured:wall-clock',
        },
        cpuTime: {
          ratio: run.cpuSeconds / Math.max(pruned.cpuSeconds, 1e-9),
          label: 'measured:process-cpu-time',
        },
        energy: energySaving(run.trainingEnergy, pruned.trainingEnergy),
        ...(resumed
          ? {
              partial:
                'a run was resumed from a checkpoint: its wall time, CPU time and energy cover only the epochs trained after the resume, so the ratios are not whole-run savings',
            }
          : {}),
      },
    };
  } finally {
    model.dispose();
  }
}
