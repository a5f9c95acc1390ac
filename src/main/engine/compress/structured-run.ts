/**
 * The structured-pruning part of a compress job: a MACs/params target reached in N steps (step k
 * removes k/N of the requested fraction of the ORIGINAL model's cost, then fine-tunes), or
 * automatic mode (sensitivity → per-group ratios within an accuracy budget). An iterative run
 * records each finished step in `<out>/progress.json` and `<out>/steps/step-k/` so `--resume`
 * continues after it (plans are deterministic, so an interrupted step's fine-tuning resumes from
 * its checkpoint on an identical architecture).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SpecOf } from '../../../shared/jobs';
import { writeJsonAtomic } from '../../util/atomic';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import { saveModel } from '../model/tfjs-layers-writer';
import type { LayersModel } from '../tf';
import type { AutoChoice } from './auto';
import { chooseRatios } from './auto';
import { countModel } from './compare';
import { buildDependencyGraph } from './graph';
import type { Calibration } from './importance';
import { computeImportance } from './importance';
import type { FineTuneRecord } from './job-common';
import { fineTune, recalibrate, stage, writeSensitivityFiles } from './job-common';
import type { CompressionData } from './job-data';
import { accuracyOn, calibrationBatch, firstSamples, pruningOptions } from './job-data';
import type { PrunePlan } from './pruner';
import { applyPrunePlan, planFromImportance, planPruning } from './pruner';
import { analyzeSensitivity, type SensitivityResult } from './sensitivity';
import { readSensitivityRun } from './sensitivity-run';

const PROGRESS_FILE = 'progress.json';

export type StructuredStep = {
  step: number;
  ratio: number;
  target?: { metric: 'macs' | 'params'; fraction: number };
  groups: { id: string; channelsBefore: number; channelsAfter: number }[];
  totals: PrunePlan['totals'];
  /** Accuracy on the evaluation split right after pruning, before fine-tuning. */
  accuracyPruned: number;
  fineTune?: FineTuneRecord;
};

export interface StructuredOutcome {
  model: LayersModel;
  steps: StructuredStep[];
  unsupported: PrunePlan['unsupported'];
  notes: string[];
  fineTunes: FineTuneRecord[];
  auto?: AutoChoice & { budgetPoints: number; budgetMet: boolean; sensitivityFile: string };
}

interface Progress {
  completedSteps: number;
  steps: StructuredStep[];
}

async function readProgress(out: string): Promise<Progress | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(out, PROGRESS_FILE), 'utf8')) as Progress;
  } catch {
    return undefined;
  }
}

function stepSummary(step: number, plan: PrunePlan, accuracyPruned: number): StructuredStep {
  return {
    step,
    ratio: plan.ratio,
    ...(plan.target ? { target: plan.target } : {}),
    groups: plan.groups.map((g) => ({
      id: g.id,
      channelsBefore: g.channelsBefore,
      channelsAfter: g.channelsAfter,
    })),
    totals: plan.totals,
    accuracyPruned,
  };
}

export async function runStructured(
  original: LayersModel,
  data: CompressionData,
  spec: SpecOf<'compress'>,
  ctx: JobContext,
): Promise<StructuredOutcome> {
  const notes: string[] = [];
  const calibration: Calibration | undefined =
    spec.criterion === 'taylor' ? calibrationBatch(data, 256, spec.seed) : undefined;
  const common = {
    ...pruningOptions(spec),
    seed: spec.seed,
    ...(calibration ? { calibration } : {}),
  };
  try {
    if (spec.accuracyBudget !== undefined) {
      if (spec.steps > 1) notes.push('automatic mode prunes in one step; --steps was ignored');
      const graph = buildDependencyGraph(original, { ignoredLayers: spec.ignoredLayers });
      const measure = async (): Promise<SensitivityResult> => {
        stage(ctx, 'sensitivity', 'accuracy of each group pruned alone, 10% … 90%, no fine-tuning');
        const validation = firstSamples(data.validation, 1000);
        return analyzeSensitivity(original, (m) => accuracyOn(m, validation, data, spec.batchSize), {
          ...common,
          ratios: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
          onProgress: (done, total) => {
            ctx.throwIfCancelled();
            ctx.emit({ type: 'progress', stage: 'sensitivity', done, total });
          },
        });
      };
      let sensitivity: SensitivityResult;
      if (spec.sensitivityRun !== undefined) {
        stage(ctx, 'sensitivity', `read from ${spec.sensitivityRun}`);
        sensitivity = await readSensitivityRun(spec.sensitivityRun, graph, spec.criterion);
        notes.push(`automatic mode used the sensitivity measured in ${spec.sensitivityRun}`);
      } else {
        sensitivity = await measure();
      }
      const sensitivityFile = await writeSensitivityFiles(spec.out, sensitivity);
      const importance = await computeImportance(graph, common);
      const choice = chooseRatios(graph, importance, sensitivity, {
        budgetPoints: spec.accuracyBudget,
        ...(spec.targetMacs !== undefined ? { macsTarget: spec.targetMacs } : {}),
        roundTo: spec.roundTo,
        minChannels: spec.minChannels,
      });
      if (!choice.reachedTarget) {
        notes.push(
          `automatic mode: the MACs target was not reached within the budget (predicted ${choice.predictedDropPoints.toFixed(2)} points for ${(choice.macsRemoved * 100).toFixed(1)}% fewer MACs)`,
        );
      }
      const plan = planFromImportance(graph, importance, { ...common, ratio: 0, ratios: choice.ratios });
      stage(
        ctx,
        'prune',
        `${(100 * (1 - plan.totals.macsAfter / plan.totals.macsBefore)).toFixed(1)}% fewer MACs`,
      );
      const model = await applyPrunePlan(original, plan);
      await recalibrate(model, data, spec.seed, ctx);
      const step = stepSummary(1, plan, await accuracyOn(model, data.evaluation, data, spec.batchSize, ctx));
      const record = await fineTune(model, data, spec, ctx, 'fine-tune');
      if (record) step.fineTune = record;
      return {
        model,
        steps: [step],
        unsupported: plan.unsupported,
        notes: [...notes, ...plan.notes],
        fineTunes: record ? [record] : [],
        auto: { ...choice, budgetPoints: spec.accuracyBudget, budgetMet: false, sensitivityFile },
      };
    }

    const metric = spec.targetMacs !== undefined ? 'macs' : 'params';
    const fraction = (spec.targetMacs ?? spec.targetParams)!;
    const start = countModel(original)[metric];
    let current = original;
    let steps: StructuredStep[] = [];
    let first = 1;
    const progress = spec.resume ? await readProgress(spec.out) : undefined;
    if (progress && progress.completedSteps > 0) {
      current = (await openModel(path.join(spec.out, 'steps', `step-${progress.completedSteps}`))).model;
      steps = progress.steps;
      first = progress.completedSteps + 1;
      ctx.log('info', `resuming after pruning step ${progress.completedSteps} of ${spec.steps}`);
    }
    let unsupported: PrunePlan['unsupported'] = [];
    const fineTunes = steps.flatMap((s) => (s.fineTune ? [s.fineTune] : []));
    for (let k = first; k <= spec.steps; k++) {
      // Step k removes k/N of the requested fraction of the ORIGINAL model's cost.
      const goal = start * (1 - (fraction * k) / spec.steps);
      const relative = 1 - goal / Math.max(countModel(current)[metric], 1);
      const label = spec.steps > 1 ? ` ${k}/${spec.steps}` : '';
      stage(
        ctx,
        `prune${label}`,
        `${(fraction * (k / spec.steps) * 100).toFixed(1)}% fewer ${metric === 'macs' ? 'MACs' : 'parameters'} than the original`,
      );
      const plan =
        relative > 1e-9
          ? await planPruning(current, { ...common, target: { metric, fraction: relative } })
          : await planPruning(current, { ...common, ratio: 0 });
      unsupported = plan.unsupported;
      for (const note of plan.notes) if (!notes.includes(note)) notes.push(note);
      const pruned = await applyPrunePlan(current, plan);
      if (current !== original) current.dispose();
      current = pruned;
      // What reaches each BN after a pruned layer changed: re-estimate before measuring.
      await recalibrate(current, data, spec.seed, ctx);
      const step = stepSummary(
        k,
        plan,
        await accuracyOn(current, data.evaluation, data, spec.batchSize, ctx),
      );
      const record = await fineTune(
        current,
        data,
        spec,
        ctx,
        `fine-tune${label}`,
        undefined,
        spec.steps > 1 ? `fine-tune-${k}` : 'fine-tune',
      );
      if (record) {
        step.fineTune = record;
        fineTunes.push(record);
      }
      steps.push(step);
      if (spec.steps > 1 && k < spec.steps) {
        await saveModel(current, path.join(spec.out, 'steps', `step-${k}`));
        await writeJsonAtomic(path.join(spec.out, PROGRESS_FILE), {
          completedSteps: k,
          steps,
        } satisfies Progress);
      }
    }
    return { model: current, steps, unsupported, notes, fineTunes };
  } finally {
    calibration?.x.dispose();
  }
}
