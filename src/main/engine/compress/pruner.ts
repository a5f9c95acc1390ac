/**
 * Structured pruning in Torch-Pruning's vocabulary: DependencyGraph → groups → Importance →
 * `planPruning` (the dry run: which channels go, channels/params/MACs before → after) →
 * `applyPrunePlan` (graph surgery: a new, smaller model).
 *
 * How many units a group loses:
 *  - scope `layer`: every group loses ⌊ratio · units⌋ (or its own entry in `ratios`);
 *  - scope `global`: units of all groups are ranked together by their score divided by their
 *    group's mean score, and the lowest ⌊ratio · all units⌋ go;
 *  - a `target` (fraction of MACs or params to remove) searches the smallest ratio that reaches it.
 * Then per group: at least `minChannels` channels stay (and never zero), and the number kept is
 * rounded UP to a multiple of `roundTo` (so rounding never prunes more than asked).
 */
import type { Criterion } from '../../../shared/jobs';
import { PollardError, usageError } from '../../../shared/errors';
import type { LayersModel } from '../tf';
import { modelCost } from './cost';
import type { ChannelGroup, DependencyGraph, UnsupportedLayer } from './graph';
import { buildDependencyGraph } from './graph';
import type { Calibration, Importance } from './importance';
import { computeImportance } from './importance';
import { buildPrunedModel } from './surgery';

export interface PruneOptions {
  criterion: Criterion;
  scope: 'layer' | 'global';
  /** Fraction of units to remove (0 ≤ ratio < 1); ignored when `target` is given. */
  ratio?: number;
  /** Per-group ratios (group id → ratio), e.g. from automatic mode; overrides `ratio` for those groups. */
  ratios?: Record<string, number>;
  /** Remove at least this fraction of the model's MACs or parameters. */
  target?: { metric: 'macs' | 'params'; fraction: number };
  roundTo?: number;
  minChannels?: number;
  ignoredLayers?: string[];
  seed?: number;
  calibration?: Calibration;
}

export interface GroupPlan {
  id: string;
  producers: string[];
  members: string[];
  channelsBefore: number;
  channelsAfter: number;
  /** Indices into the group's units (ordered like the first producer's channels) that are removed. */
  removed: number[];
  /** The model's totals if only this group were pruned. */
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
}

export interface LayerPlan {
  name: string;
  className: string;
  inChannelsBefore: number;
  inChannelsAfter: number;
  outChannelsBefore: number;
  outChannelsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
}

export interface PrunePlan {
  criterion: Criterion;
  scope: 'layer' | 'global';
  /** The ratio that was used (searched when a target was given). */
  ratio: number;
  target?: { metric: 'macs' | 'params'; fraction: number };
  roundTo: number;
  minChannels: number;
  ignoredLayers: string[];
  groups: GroupPlan[];
  layers: LayerPlan[];
  totals: { paramsBefore: number; paramsAfter: number; macsBefore: number; macsAfter: number };
  /** Layers whose channels stay whole because the pruner cannot reason about them. */
  unsupported: UnsupportedLayer[];
  notes: string[];
}

interface Constraints {
  roundTo: number;
  minChannels: number;
}

/** Units kept in a group that was asked to lose `remove` of them. */
function keptAfterConstraints(group: ChannelGroup, remove: number, constraints: Constraints): number {
  const prunable = group.units.length;
  const total = prunable + group.fixedUnits;
  let keepTotal = total - Math.min(Math.max(remove, 0), prunable);
  keepTotal = Math.ceil(keepTotal / constraints.roundTo) * constraints.roundTo;
  keepTotal = Math.max(keepTotal, constraints.minChannels, 1);
  return Math.min(Math.max(keepTotal - group.fixedUnits, 0), prunable);
}

/** Lowest-scoring `count` unit indices of a group. */
function lowest(scores: Float64Array, count: number): number[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b);
  return order.slice(0, count).sort((a, b) => a - b);
}

/** Which unit indices each group loses at a given ratio. */
export function selectUnits(
  graph: DependencyGraph,
  importance: Importance,
  options: { scope: 'layer' | 'global'; ratio: number; ratios?: Record<string, number> } & Constraints,
): Map<string, number[]> {
  const selection = new Map<string, number[]>();
  const requested = new Map<string, number>();
  if (options.scope === 'global') {
    const all: { group: string; score: number }[] = [];
    for (const group of graph.groups) {
      if (options.ratios?.[group.id] !== undefined) continue;
      const scores = importance.scores.get(group.id)!;
      const mean = scores.reduce((a, b) => a + b, 0) / Math.max(scores.length, 1);
      for (const score of scores) all.push({ group: group.id, score: mean > 0 ? score / mean : score });
    }
    all.sort((a, b) => a.score - b.score);
    for (const entry of all.slice(0, Math.floor(options.ratio * all.length + 1e-9))) {
      requested.set(entry.group, (requested.get(entry.group) ?? 0) + 1);
    }
  }
  for (const group of graph.groups) {
    const ratio = options.ratios?.[group.id];
    const remove =
      ratio !== undefined || options.scope === 'layer'
        ? Math.floor((ratio ?? options.ratio) * group.units.length + 1e-9)
        : (requested.get(group.id) ?? 0);
    const keep = keptAfterConstraints(group, remove, options);
    selection.set(group.id, lowest(importance.scores.get(group.id)!, group.units.length - keep));
  }
  return selection;
}

/** The unit roots a selection removes. */
export function removedUnits(graph: DependencyGraph, selection: Map<string, number[]>): Set<number> {
  const removed = new Set<number>();
  for (const group of graph.groups)
    for (const index of selection.get(group.id) ?? []) removed.add(group.units[index]!);
  return removed;
}

function validateOptions(options: PruneOptions): void {
  const check = (name: string, value: number): void => {
    if (!(value >= 0 && value < 1)) throw usageError(`${name} must be at least 0 and below 1, got ${value}`);
  };
  if (options.ratio !== undefined) check('ratio', options.ratio);
  for (const [id, value] of Object.entries(options.ratios ?? {})) check(`ratio of ${id}`, value);
  if (options.target && !(options.target.fraction > 0 && options.target.fraction < 1)) {
    throw usageError(`the target must be a fraction between 0 and 1, got ${options.target.fraction}`);
  }
  if (options.ratio === undefined && options.target === undefined && options.ratios === undefined) {
    throw usageError('give a pruning ratio, per-group ratios or a MACs/params target');
  }
}

/** A plan that removes more than the target by this fraction says so in its notes. */
const OVERSHOOT_NOTE_ABOVE = 0.02;

/** The dry run: what would be pruned, and what it would cost before → after. */
export async function planPruning(model: LayersModel, options: PruneOptions): Promise<PrunePlan> {
  validateOptions(options);
  const graph = buildDependencyGraph(model, { ignoredLayers: options.ignoredLayers });
  const importance = await computeImportance(graph, {
    criterion: options.criterion,
    seed: options.seed,
    calibration: options.calibration,
  });
  return planFromImportance(graph, importance, options);
}

/** A plan from precomputed importance (sensitivity analysis reuses one importance for many plans). */
export function planFromImportance(
  graph: DependencyGraph,
  importance: Importance,
  options: PruneOptions,
): PrunePlan {
  const constraints = {
    roundTo: Math.max(1, options.roundTo ?? 1),
    minChannels: Math.max(1, options.minChannels ?? 1),
  };
  const notes = [...importance.notes];
  const selectAt = (ratio: number): Map<string, number[]> =>
    selectUnits(graph, importance, { scope: options.scope, ratio, ratios: options.ratios, ...constraints });

  let ratio = options.ratio ?? 0;
  if (options.target) {
    const { metric, fraction } = options.target;
    const removedFraction = (r: number): number => {
      const cost = modelCost(graph, removedUnits(graph, selectAt(r)));
      return 1 - cost.after[metric] / Math.max(cost.before[metric], 1);
    };
    const most = removedFraction(0.999);
    if (most < fraction) {
      throw usageError(
        `cannot remove ${(fraction * 100).toFixed(1)}% of the ${metric === 'macs' ? 'MACs' : 'parameters'}: ` +
          `at most ${(most * 100).toFixed(1)}% with min channels ${constraints.minChannels}, round to ${constraints.roundTo}` +
          (graph.unsupported.length > 0 ? ` and ${graph.unsupported.length} layers left whole` : ''),
      );
    }
    let low = 0;
    let high = 0.999;
    for (let i = 0; i < 30; i++) {
      const mid = (low + high) / 2;
      if (removedFraction(mid) >= fraction) high = mid;
      else low = mid;
    }
    ratio = high;
  }

  const selection = selectAt(ratio);
  const removed = removedUnits(graph, selection);
  const cost = modelCost(graph, removed);
  const groups: GroupPlan[] = graph.groups.map((group) => {
    const own = selection.get(group.id) ?? [];
    const alone = modelCost(graph, new Set(own.map((index) => group.units[index]!)));
    return {
      id: group.id,
      producers: group.producers,
      members: group.members,
      channelsBefore: group.units.length + group.fixedUnits,
      channelsAfter: group.units.length + group.fixedUnits - own.length,
      removed: own,
      paramsBefore: alone.before.params,
      paramsAfter: alone.after.params,
      macsBefore: alone.before.macs,
      macsAfter: alone.after.macs,
    };
  });
  const layers: LayerPlan[] = graph.nodes
    .filter((node) => node.layer.weights.length > 0)
    .map((node) => {
      const entry = cost.layers.get(node.name)!;
      return {
        name: node.name,
        className: node.className,
        inChannelsBefore: node.inputMaps[0]?.length ?? 0,
        inChannelsAfter: entry.slice.keptIn[0]?.length ?? 0,
        outChannelsBefore: node.outputMap.length,
        outChannelsAfter: entry.slice.keptOut.length,
        paramsBefore: entry.before.params,
        paramsAfter: entry.after.params,
        macsBefore: entry.before.macs,
        macsAfter: entry.after.macs,
      };
    });
  if (options.target) {
    const { metric, fraction } = options.target;
    const achieved = 1 - cost.after[metric] / Math.max(cost.before[metric], 1);
    if (achieved - fraction > OVERSHOOT_NOTE_ABOVE) {
      const what = metric === 'macs' ? 'MACs' : 'parameters';
      notes.push(
        `asked for ${(fraction * 100).toFixed(1)}% fewer ${what}; the smallest plan that reaches it removes ` +
          `${(achieved * 100).toFixed(1)}%, because whole blocks of channels go at once` +
          (constraints.roundTo > 1
            ? ` (kept counts are multiples of ${constraints.roundTo}; a smaller --round-to fits closer)`
            : ''),
      );
    }
  }
  for (const layer of graph.unsupported)
    notes.push(`${layer.name} (${layer.className}) left whole: ${layer.reason}`);
  return {
    criterion: importance.criterion,
    scope: options.scope,
    ratio,
    ...(options.target ? { target: options.target } : {}),
    roundTo: constraints.roundTo,
    minChannels: constraints.minChannels,
    ignoredLayers: options.ignoredLayers ?? [],
    groups,
    layers,
    totals: {
      paramsBefore: cost.before.params,
      paramsAfter: cost.after.params,
      macsBefore: cost.before.macs,
      macsAfter: cost.after.macs,
    },
    unsupported: graph.unsupported,
    notes,
  };
}

/** Build the pruned model a plan describes. The plan must come from this model. */
export async function applyPrunePlan(model: LayersModel, plan: PrunePlan): Promise<LayersModel> {
  const graph = buildDependencyGraph(model, { ignoredLayers: plan.ignoredLayers });
  return buildPrunedModel(graph, planRemovedUnits(graph, plan));
}

/** The graph's units a plan removes. The plan must come from the graph's model. */
export function planRemovedUnits(graph: DependencyGraph, plan: PrunePlan): Set<number> {
  const removed = new Set<number>();
  for (const groupPlan of plan.groups) {
    const group = graph.groups.find((g) => g.id === groupPlan.id);
    if (!group || group.units.length + group.fixedUnits !== groupPlan.channelsBefore) {
      throw new PollardError('internal', `the pruning plan does not match the model (group ${groupPlan.id})`);
    }
    for (const index of groupPlan.removed) removed.add(group.units[index]!);
  }
  return removed;
}

/** Torch-Pruning's shape: configure once, `plan()` for the dry run, `step()` for a smaller model. */
export class StructuredPruner {
  constructor(private readonly options: PruneOptions) {}

  plan(model: LayersModel): Promise<PrunePlan> {
    return planPruning(model, this.options);
  }

  async step(model: LayersModel): Promise<{ model: LayersModel; plan: PrunePlan }> {
    const plan = await this.plan(model);
    return { model: await applyPrunePlan(model, plan), plan };
  }
}
