/**
 * Prune while training: find the small network early and train only it.
 *  - Network Slimming (Liu et al., ICCV 2017): the loss gains λ·Σ|γ| over every BatchNormalization
 *    scale, so the channels the network can spare drift towards zero and the BN ranking separates.
 *    Its gradient λ·sign(γ) is added to each batch's mean gradient (`beforeApply`).
 *  - Early-Bird tickets (You et al., ICLR 2020): after each epoch, the channel masks the planner
 *    would choose for the target with the BN criterion (global scope) are compared with the
 *    previous epoch's; the distance is the fraction of channels whose keep/remove bit differs. Once
 *    it stays under the threshold for N consecutive epochs, the structure has emerged: the model is
 *    pruned with the ordinary planner and surgery and only the small one trains on (`afterEpoch`).
 * With `pruneSteps` K > 1 the network shrinks progressively (PruneTrain's idea, Lym et al. 2019):
 * step k removes k/K of the target fraction of the ORIGINAL cost, each step triggered anew by the
 * masks of the model as it then is (or, with `pruneAtEpoch` N, after epochs N, 2N, …).
 * The state (masks, distances, when and why it pruned) travels in the loop's checkpoints; the
 * pruned topology is saved beside them so that a resumed run rebuilds the pruned model.
 */
import path from 'node:path';
import type { PruneWhileTrainingOptions } from '../../../shared/jobs';
import type { JobContext } from '../job/context';
import { saveModel } from '../model/tfjs-layers-writer';
import { type LayersModel, tf } from '../tf';
import { applyPrunePlan, planPruning, type PrunePlan } from '../compress/pruner';
import type { EpochMetrics, TrainHooks } from './loop';
import { type WeightSelections, weightSelections } from './optimizer-carry';

/** Per channel group: its channel count and the indices the plan removes. */
export type ChannelMasks = Record<string, { channels: number; removed: number[] }>;

export type PruneReason = 'masks-stable' | 'fixed-epoch' | 'not-pruned';

export interface PruneStep {
  /** The epoch (1-based) after which this step pruned. */
  epoch: number;
  reason: Exclude<PruneReason, 'not-pruned'>;
  detail: string;
  macsBefore: number;
  macsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
}

export interface PruneWhileTrainingRecord {
  /** The epoch (1-based) after which the model was pruned; null when it never was. */
  prunedAtEpoch: number | null;
  reason: PruneReason;
  /** Human-readable why, e.g. "mask distance under 0.1 for 2 epochs (0.06, 0.04)". */
  detail: string;
  /** Per finished epoch up to the prune: distance to the previous epoch's masks (null for the first). */
  maskDistances: (number | null)[];
  target: { metric: 'macs' | 'params'; fraction: number };
  bnL1: number;
  maskThreshold: number;
  stableEpochs: number;
  /** Shrink steps asked for, and each one taken. */
  pruneSteps: number;
  steps: PruneStep[];
  /** Adam's (or SGD's) slots are sliced like the weights they belong to and training goes on with them. */
  optimizerState: 'carried over the prune';
  macsBefore: number;
  macsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
}

interface HookState {
  masks: ChannelMasks | null;
  maskDistances: (number | null)[];
  prunedAtEpoch: number | null;
  reason: PruneReason;
  detail: string;
  totals: PrunePlan['totals'] | null;
  steps: PruneStep[];
  /** Index into `maskDistances` where the current model's history starts (after the last step). */
  sinceIndex: number;
  /** The dense model's cost (the schedule's reference), from the first epoch's plan. */
  original: { macs: number; params: number } | null;
}

/** Fraction of channels whose keep/remove bit differs between two mask sets of the same model. */
export function maskDistance(a: ChannelMasks, b: ChannelMasks): number {
  let channels = 0;
  let differing = 0;
  for (const [id, group] of Object.entries(a)) {
    const other = b[id];
    if (!other || other.channels !== group.channels) {
      throw new Error(`mask distance: group ${id} differs in shape between the two mask sets`);
    }
    const left = new Set(group.removed);
    const right = new Set(other.removed);
    for (const index of left) if (!right.has(index)) differing += 1;
    for (const index of right) if (!left.has(index)) differing += 1;
    channels += group.channels;
  }
  if (Object.keys(b).length !== Object.keys(a).length) {
    throw new Error('mask distance: the two mask sets hold different groups');
  }
  return channels > 0 ? differing / channels : 0;
}

/** The Early-Bird trigger: the last `stableEpochs` distances are all below `threshold`. */
export function earlyBirdFires(
  distances: readonly (number | null)[],
  threshold: number,
  stableEpochs: number,
): boolean {
  if (distances.length < stableEpochs) return false;
  return distances.slice(-stableEpochs).every((d) => d !== null && d < threshold);
}

/** Consecutive stable epochs required when none were given: 3, or 2 for a run under 20 epochs. */
export function defaultStableEpochs(epochs: number): number {
  return epochs >= 20 ? 3 : 2;
}

export function masksOf(plan: PrunePlan): ChannelMasks {
  return Object.fromEntries(
    plan.groups.map((g) => [g.id, { channels: g.channelsBefore, removed: [...g.removed] }]),
  );
}

/** Where the pruned model's topology (and its weights at the prune) is kept beside the checkpoints. */
export function prunedModelDir(checkpointDir: string): string {
  return path.join(checkpointDir, 'pruned-model');
}

export class PruneWhileTraining {
  private state: HookState = {
    masks: null,
    maskDistances: [],
    prunedAtEpoch: null,
    reason: 'not-pruned',
    detail: 'the masks never stayed stable long enough',
    totals: null,
    steps: [],
    sinceIndex: 0,
    original: null,
  };
  readonly pruneSteps: number;
  /** The last model this object built; the one before it is disposed when a later step replaces it. */
  private latest: LayersModel | undefined;
  /** What the last prune kept of each weight, for the loop to slice the optimizer's slots alike. */
  private selections: WeightSelections | undefined;
  readonly target: { metric: 'macs' | 'params'; fraction: number };
  readonly stableEpochs: number;

  constructor(
    private readonly options: PruneWhileTrainingOptions,
    private readonly epochs: number,
    private readonly checkpointDir: string | undefined,
    private readonly ctx: JobContext,
  ) {
    this.target =
      options.targetMacs !== undefined
        ? { metric: 'macs', fraction: options.targetMacs }
        : { metric: 'params', fraction: options.targetParams! };
    this.stableEpochs = options.stableEpochs ?? defaultStableEpochs(epochs);
    this.pruneSteps = options.pruneSteps;
  }

  /** Every shrink step taken: no more masks, no more penalty. */
  private get done(): boolean {
    return this.state.steps.length >= this.pruneSteps;
  }

  get pruned(): boolean {
    return this.state.prunedAtEpoch !== null;
  }

  hooks(): TrainHooks {
    return {
      beforeApply: (model, grads) => this.addBnPenalty(model, grads),
      afterEpoch: (model, metrics) => this.afterEpoch(model, metrics),
      saveState: () => structuredClone(this.state),
      restoreState: (saved) => this.restore(saved),
      weightSelections: () => this.selections,
    };
  }

  restore(saved: unknown): void {
    this.state = structuredClone(saved as HookState);
  }

  /** Network Slimming's subgradient: ∂(λ·Σ|γ|)/∂γ = λ·sign(γ), until the prune. */
  private addBnPenalty(model: LayersModel, grads: tf.NamedTensorMap | undefined): void {
    if (!grads || this.done || this.options.bnL1 === 0) return;
    for (const weight of model.trainableWeights) {
      if (!/gamma$/.test(weight.originalName)) continue;
      const variable = weight.read();
      const name = (variable as tf.Variable).name;
      const grad = grads[name];
      if (!grad) continue;
      grads[name] = tf.tidy(() => tf.add(grad, tf.mul(tf.sign(variable), this.options.bnL1)));
      grad.dispose();
    }
  }

  private async afterEpoch(model: LayersModel, metrics: EpochMetrics): Promise<LayersModel | void> {
    if (this.done) return;
    const step = this.state.steps.length + 1;
    const current = (await planPruning(model, { criterion: 'bn', scope: 'global', ratio: 0 })).totals;
    const metric = this.target.metric;
    this.state.original ??= { macs: current.macsBefore, params: current.paramsBefore };
    // Step k removes k/K of the target fraction of the original cost.
    const goal = this.state.original[metric] * (1 - (this.target.fraction * step) / this.pruneSteps);
    const now = metric === 'macs' ? current.macsBefore : current.paramsBefore;
    const fraction = 1 - goal / Math.max(now, 1);
    if (!(fraction > 0 && fraction < 1)) return;
    const plan = await planPruning(model, {
      criterion: 'bn',
      scope: 'global',
      target: { metric, fraction },
      roundTo: this.options.roundTo,
    });
    const masks = masksOf(plan);
    const distance = this.state.masks ? maskDistance(this.state.masks, masks) : null;
    this.state.masks = masks;
    this.state.maskDistances.push(distance);
    this.ctx.log(
      'info',
      `epoch ${metrics.epoch}: mask distance ${distance === null ? '(first epoch of this model)' : distance.toFixed(4)}`,
    );
    const fixed = this.options.pruneAtEpoch;
    const since = this.state.maskDistances.slice(this.state.sinceIndex);
    let reason: PruneStep['reason'] | undefined;
    if (fixed !== undefined) {
      if (metrics.epoch >= fixed * step) reason = 'fixed-epoch';
    } else if (earlyBirdFires(since, this.options.maskThreshold, this.stableEpochs)) {
      reason = 'masks-stable';
    }
    if (reason && metrics.epoch >= this.epochs) {
      if (step === 1) {
        this.state.detail =
          reason === 'fixed-epoch'
            ? `--prune-at-epoch ${fixed} is the last epoch: pruning then saves nothing`
            : 'the masks became stable only at the last epoch: pruning then saves nothing';
      }
      return;
    }
    // Pruning after the last epoch saves nothing.
    if (!reason) return;

    this.selections = weightSelections(model, plan);
    const pruned = await applyPrunePlan(model, plan);
    // An earlier step's model is ours to dispose (its weights are copied); the caller's is not.
    if (this.latest === model) model.dispose();
    this.latest = pruned;
    if (this.checkpointDir) await saveModel(pruned, prunedModelDir(this.checkpointDir));
    const recent = since.slice(-this.stableEpochs).map((d) => (d === null ? '-' : d.toFixed(3)));
    const detail =
      reason === 'fixed-epoch'
        ? `--prune-at-epoch ${fixed}${this.pruneSteps > 1 ? ` (step ${step} of ${this.pruneSteps})` : ''}`
        : `mask distance under ${this.options.maskThreshold} for ${this.stableEpochs} epoch${this.stableEpochs === 1 ? '' : 's'} (${recent.join(', ')})`;
    const totals = plan.totals;
    this.state.steps.push({ epoch: metrics.epoch, reason, detail, ...totals });
    if (step === 1) {
      this.state.prunedAtEpoch = metrics.epoch;
      this.state.reason = reason;
      this.state.detail = detail;
    }
    this.state.totals = {
      macsBefore: this.state.steps[0]!.macsBefore,
      paramsBefore: this.state.steps[0]!.paramsBefore,
      macsAfter: totals.macsAfter,
      paramsAfter: totals.paramsAfter,
    };
    // The next step compares masks of the pruned model only.
    this.state.masks = null;
    this.state.sinceIndex = this.state.maskDistances.length;
    const label = this.pruneSteps > 1 ? `prune ${step}/${this.pruneSteps}` : 'prune';
    this.ctx.emit({
      type: 'pruned',
      epoch: metrics.epoch,
      step,
      steps: this.pruneSteps,
      maskDistance: distance,
      detail,
      macsBefore: totals.macsBefore,
      macsAfter: totals.macsAfter,
    });
    this.ctx.emit({
      type: 'stage',
      stage: label,
      detail: `after epoch ${metrics.epoch} (${detail}): ${(100 * (1 - totals.macsAfter / Math.max(totals.macsBefore, 1))).toFixed(1)}% fewer MACs`,
    });
    return pruned;
  }

  /** Disposes the last model built here unless it is `kept` (the run failed or was cancelled after a prune). */
  release(kept: LayersModel): void {
    if (this.latest && this.latest !== kept) this.latest.dispose();
    this.latest = undefined;
  }

  /** The record for training.json; `model` gives the totals when the run never pruned. */
  record(totals: { macs: number; params: number }): PruneWhileTrainingRecord {
    const t = this.state.totals;
    return {
      prunedAtEpoch: this.state.prunedAtEpoch,
      reason: this.state.reason,
      detail: this.state.detail,
      maskDistances: this.state.maskDistances,
      target: this.target,
      bnL1: this.options.bnL1,
      maskThreshold: this.options.maskThreshold,
      stableEpochs: this.stableEpochs,
      pruneSteps: this.pruneSteps,
      steps: this.state.steps,
      optimizerState: 'carried over the prune',
      macsBefore: t?.macsBefore ?? totals.macs,
      macsAfter: t?.macsAfter ?? totals.macs,
      paramsBefore: t?.paramsBefore ?? totals.params,
      paramsAfter: t?.paramsAfter ?? totals.params,
    };
  }
}
