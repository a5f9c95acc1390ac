/**
 * Sensitivity analysis: for each prunable group on its own, the accuracy after removing 10%, 20% …
 * 90% of its channels, without fine-tuning (the other groups untouched). Each measurement builds
 * the genuinely pruned model and evaluates it, so what is measured is what a user would get.
 */
import type { Criterion } from '../../../shared/jobs';
import type { LayersModel } from '../tf';
import { modelCost } from './cost';
import { buildDependencyGraph } from './graph';
import type { Calibration } from './importance';
import { computeImportance } from './importance';
import { planFromImportance } from './pruner';
import { applyPrunePlan } from './pruner';

export interface SensitivityOptions {
  criterion: Criterion;
  ratios: number[];
  roundTo?: number;
  minChannels?: number;
  ignoredLayers?: string[];
  seed?: number;
  calibration?: Calibration;
  /** Called after each measurement (for progress events and cancellation). */
  onProgress?(done: number, total: number): void | Promise<void>;
}

export interface GroupSensitivity {
  id: string;
  producers: string[];
  channels: number;
  /** Per ratio (same order as `ratios`): */
  channelsAfter: number[];
  accuracy: number[];
  /** Fraction of the whole model's MACs removed by pruning only this group at that ratio. */
  macsRemoved: number[];
  paramsRemoved: number[];
}

export interface SensitivityResult {
  criterion: Criterion;
  ratios: number[];
  baselineAccuracy: number;
  macs: number;
  params: number;
  groups: GroupSensitivity[];
  notes: string[];
}

/**
 * `evaluate` returns the accuracy (0..1) of a model on the validation subset; the caller owns the
 * data. Models built here are disposed after their measurement.
 */
export async function analyzeSensitivity(
  model: LayersModel,
  evaluate: (model: LayersModel) => Promise<number>,
  options: SensitivityOptions,
): Promise<SensitivityResult> {
  const graph = buildDependencyGraph(model, { ignoredLayers: options.ignoredLayers });
  const importance = await computeImportance(graph, {
    criterion: options.criterion,
    seed: options.seed,
    calibration: options.calibration,
  });
  const baselineAccuracy = await evaluate(model);
  const total = modelCost(graph, new Set()).before;
  const groups: GroupSensitivity[] = [];
  const measurements = graph.groups.length * options.ratios.length;
  let done = 0;
  for (const group of graph.groups) {
    const entry: GroupSensitivity = {
      id: group.id,
      producers: group.producers,
      channels: group.units.length + group.fixedUnits,
      channelsAfter: [],
      accuracy: [],
      macsRemoved: [],
      paramsRemoved: [],
    };
    for (const ratio of options.ratios) {
      const plan = planFromImportance(graph, importance, {
        criterion: options.criterion,
        scope: 'layer',
        ratio: 0,
        ratios: { [group.id]: ratio },
        roundTo: options.roundTo,
        minChannels: options.minChannels,
        ignoredLayers: options.ignoredLayers,
      });
      const pruned = await applyPrunePlan(model, plan);
      try {
        entry.accuracy.push(await evaluate(pruned));
      } finally {
        pruned.dispose();
      }
      entry.channelsAfter.push(plan.groups.find((g) => g.id === group.id)!.channelsAfter);
      entry.macsRemoved.push(1 - plan.totals.macsAfter / Math.max(total.macs, 1));
      entry.paramsRemoved.push(1 - plan.totals.paramsAfter / Math.max(total.params, 1));
      done += 1;
      await options.onProgress?.(done, measurements);
    }
    groups.push(entry);
  }
  const notes = [
    ...importance.notes,
    ...graph.unsupported.map((layer) => `${layer.name} (${layer.className}) left whole: ${layer.reason}`),
  ];
  return {
    criterion: options.criterion,
    ratios: options.ratios,
    baselineAccuracy,
    macs: total.macs,
    params: total.params,
    groups,
    notes,
  };
}

function csvField(value: string | number): string {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per group and ratio. */
export function sensitivityCsv(result: SensitivityResult): string {
  const rows: (string | number)[][] = [
    [
      'group',
      'producers',
      'channels',
      'ratio',
      'channels_after',
      'accuracy',
      'accuracy_drop_points',
      'macs_removed',
      'params_removed',
    ],
  ];
  for (const group of result.groups) {
    result.ratios.forEach((ratio, i) => {
      rows.push([
        group.id,
        group.producers.join(' '),
        group.channels,
        ratio,
        group.channelsAfter[i]!,
        group.accuracy[i]!.toFixed(6),
        ((result.baselineAccuracy - group.accuracy[i]!) * 100).toFixed(4),
        group.macsRemoved[i]!.toFixed(6),
        group.paramsRemoved[i]!.toFixed(6),
      ]);
    });
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}
