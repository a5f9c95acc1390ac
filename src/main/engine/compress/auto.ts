/**
 * Automatic mode: choose per-group pruning ratios from a sensitivity analysis, given an accuracy
 * budget (points) and optionally a MACs target.
 *
 * Greedy: start from nothing pruned; at each step, consider advancing each group to its next
 * measured ratio, and take the move that removes the most MACs per point of predicted accuracy
 * drop, as long as the predicted total drop stays within the budget. Stop when the MACs target is
 * reached (or, without a target, when no move fits the budget). The predicted drop adds the
 * groups' measured drops (no fine-tuning) — a pessimistic estimate, since fine-tuning recovers
 * much of it; the MACs are computed jointly for the chosen ratios, not added up.
 */
import { modelCost } from './cost';
import type { DependencyGraph } from './graph';
import type { Importance } from './importance';
import { removedUnits, selectUnits } from './pruner';
import type { SensitivityResult } from './sensitivity';

export interface AutoOptions {
  /** Accuracy points (0..100) the prediction may lose. */
  budgetPoints: number;
  /** Fraction of MACs to remove; without it, remove as much as the budget allows. */
  macsTarget?: number;
  roundTo?: number;
  minChannels?: number;
}

export interface AutoChoice {
  /** Group id → ratio (groups left out are not pruned). */
  ratios: Record<string, number>;
  predictedDropPoints: number;
  macsRemoved: number;
  paramsRemoved: number;
  reachedTarget: boolean;
  /** The moves taken, in order, for the report. */
  steps: { group: string; ratio: number; predictedDropPoints: number; macsRemoved: number }[];
}

export function chooseRatios(
  graph: DependencyGraph,
  importance: Importance,
  sensitivity: SensitivityResult,
  options: AutoOptions,
): AutoChoice {
  const constraints = {
    roundTo: Math.max(1, options.roundTo ?? 1),
    minChannels: Math.max(1, options.minChannels ?? 1),
  };
  const drop = (group: string, level: number): number => {
    if (level < 0) return 0;
    const entry = sensitivity.groups.find((g) => g.id === group)!;
    return Math.max(0, (sensitivity.baselineAccuracy - entry.accuracy[level]!) * 100);
  };
  const groups = graph.groups.filter((g) => sensitivity.groups.some((s) => s.id === g.id)).map((g) => g.id);
  const level = new Map(groups.map((id) => [id, -1]));
  const ratiosOf = (levels: Map<string, number>): Record<string, number> =>
    Object.fromEntries(
      [...levels]
        .filter(([, l]) => l >= 0)
        .map(([id, l]) => [id, sensitivity.ratios[l]!] as [string, number]),
    );
  const removedAt = (ratios: Record<string, number>): { macs: number; params: number } => {
    const selection = selectUnits(graph, importance, { scope: 'layer', ratio: 0, ratios, ...constraints });
    const cost = modelCost(graph, removedUnits(graph, selection));
    return {
      macs: 1 - cost.after.macs / Math.max(cost.before.macs, 1),
      params: 1 - cost.after.params / Math.max(cost.before.params, 1),
    };
  };
  const totalDrop = (levels: Map<string, number>): number =>
    [...levels].reduce((sum, [id, l]) => sum + drop(id, l), 0);

  let current = { macs: 0, params: 0 };
  const steps: AutoChoice['steps'] = [];
  const target = options.macsTarget;
  while (target === undefined || current.macs < target) {
    let best:
      { id: string; gain: number; removed: { macs: number; params: number }; drop: number } | undefined;
    for (const id of groups) {
      const next = level.get(id)! + 1;
      if (next >= sensitivity.ratios.length) continue;
      const trial = new Map(level).set(id, next);
      const predicted = totalDrop(trial);
      if (predicted > options.budgetPoints + 1e-9) continue;
      const removed = removedAt(ratiosOf(trial));
      const saved = removed.macs - current.macs;
      if (saved <= 0) continue;
      // MACs saved per point lost; a free move (no measured loss) wins by its MACs alone.
      const gain = saved / Math.max(predicted - totalDrop(level), 1e-3);
      if (!best || gain > best.gain) best = { id, gain, removed, drop: predicted };
    }
    if (!best) break;
    level.set(best.id, level.get(best.id)! + 1);
    current = best.removed;
    steps.push({
      group: best.id,
      ratio: sensitivity.ratios[level.get(best.id)!]!,
      predictedDropPoints: best.drop,
      macsRemoved: best.removed.macs,
    });
  }
  return {
    ratios: ratiosOf(level),
    predictedDropPoints: totalDrop(level),
    macsRemoved: current.macs,
    paramsRemoved: current.params,
    reachedTarget: target === undefined || current.macs >= target,
    steps,
  };
}
