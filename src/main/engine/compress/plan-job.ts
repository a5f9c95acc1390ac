/** The `plan` job: structured-pruning dry runs over a sweep of targets (no data, nothing written). */
import { requireSingleInputOutput } from '../model/single-io';
import type { SpecOf } from '../../../shared/jobs';
import { usageError } from '../../../shared/errors';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import { buildDependencyGraph } from './graph';
import { computeImportance } from './importance';
import { stage } from './job-common';
import type { LayerPlan, PrunePlan } from './pruner';
import { planFromImportance } from './pruner';
import { pruningOptions } from './job-data';

export type PlanPoint = {
  target: number;
  ratio: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  groups: { id: string; channelsBefore: number; channelsAfter: number }[];
  /** Every layer the plan changes: channels, parameters and MACs before and after (the Method step's table). */
  layers: LayerPlan[];
};

export type PlanJobResult = {
  kind: 'plan';
  by: 'macs' | 'params';
  criterion: string;
  points: PlanPoint[];
  notes: string[];
  unsupported: PrunePlan['unsupported'];
};

/** Structured-pruning dry runs over a sweep of targets (no data needed, nothing written). */
export async function runPlan(spec: SpecOf<'plan'>, ctx: JobContext): Promise<PlanJobResult> {
  if (spec.criterion === 'taylor') {
    throw usageError(
      'plan: the taylor criterion needs data (a calibration batch); choose l1, l2, bn, fpgm or random for a dry run',
    );
  }
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  try {
    requireSingleInputOutput(loaded.model, spec.model);
    const graph = buildDependencyGraph(loaded.model, { ignoredLayers: spec.ignoredLayers });
    const importance = await computeImportance(graph, { criterion: spec.criterion, seed: spec.seed });
    const options = pruningOptions(spec);
    const points: PlanPoint[] = [];
    const notes = [...importance.notes];
    const targets = [...spec.targets].sort((a, b) => a - b);
    for (const [i, target] of targets.entries()) {
      ctx.throwIfCancelled();
      let plan: PrunePlan;
      try {
        plan =
          target === 0
            ? planFromImportance(graph, importance, { ...options, ratio: 0 })
            : planFromImportance(graph, importance, {
                ...options,
                target: { metric: spec.by, fraction: target },
              });
      } catch (error) {
        notes.push(error instanceof Error ? error.message : String(error));
        break;
      }
      points.push({
        target,
        ratio: plan.ratio,
        ...plan.totals,
        groups: plan.groups.map((g) => ({
          id: g.id,
          channelsBefore: g.channelsBefore,
          channelsAfter: g.channelsAfter,
        })),
        layers: plan.layers,
      });
      ctx.emit({ type: 'progress', stage: 'plan', done: i + 1, total: targets.length });
    }
    for (const layer of graph.unsupported)
      notes.push(`${layer.name} (${layer.className}) left whole: ${layer.reason}`);
    return {
      kind: 'plan',
      by: spec.by,
      criterion: spec.criterion,
      points,
      notes,
      unsupported: graph.unsupported,
    };
  } finally {
    loaded.model.dispose();
  }
}
