/** Slice rules shared by the layer families (see types.ts `PruningKnowledge.slice`). */
import type { AxisSelection, PruningKnowledge, SliceArgs } from './types';

/** A selection over a weight's last axes, the leading ones untouched. */
export function trailing(rank: number, selections: (number[] | null)[]): AxisSelection {
  const axes: AxisSelection = new Array<number[] | null>(rank).fill(null);
  selections.forEach((selection, i) => (axes[rank - selections.length + i] = selection));
  return axes;
}

/** Channel positions of an input, expanded to the positions `c·m + k` of a depth multiplier m. */
export function expand(positions: number[], multiplier: number): number[] {
  const out: number[] = [];
  for (const c of positions) for (let k = 0; k < multiplier; k++) out.push(c * multiplier + k);
  return out;
}

/** Bias along the output channels, where the layer has one. */
export function withBias(args: SliceArgs, weights: Map<string, AxisSelection>): Map<string, AxisSelection> {
  if (args.weightShapes.has('bias')) weights.set('bias', [args.keptOut]);
  return weights;
}

/** Writes the new width into `filters` or `units`, whichever the configuration has. */
function resizeWidth(config: Record<string, unknown>, outChannels: number): void {
  if ('filters' in config) config.filters = outChannels;
  else if ('units' in config) config.units = outChannels;
}

/** A layer whose `kernel` maps input channels (second-last axis) to output channels (last axis). */
export const KERNEL_PRODUCER: PruningKnowledge = {
  role: 'producer',
  outputKernel: 'kernel',
  slice: (args) => {
    const rank = args.weightShapes.get('kernel')?.length ?? 0;
    return withBias(args, new Map([['kernel', trailing(rank, [args.keptIn, args.keptOut])]]));
  },
  resize: resizeWidth,
};

/** Activations, pooling, padding, dropout: channels pass one to one, no weights. */
export const PASSTHROUGH: PruningKnowledge = { role: 'passthrough' };

/** One weight entry per channel (BatchNormalization): every weight sliced like the channels. */
export function channelwiseSlice(args: SliceArgs): Map<string, AxisSelection> {
  return new Map([...args.weightShapes.keys()].map((key) => [key, [args.keptOut]]));
}

/** An axis given as -1 or as the last axis of a tensor of the given rank (batch included). */
export function isLastAxis(axis: unknown, rank: number): boolean {
  return (
    axis === -1 ||
    axis === rank - 1 ||
    (Array.isArray(axis) && axis.length === 1 && isLastAxis(axis[0], rank))
  );
}
