/** Normalization: BatchNormalization, LayerNormalization. No MACs (docs/macs.md). */
import { channelwiseSlice, isLastAxis } from './pruning-helpers';
import type { LayerKnowledge } from './types';

const GROUP = 'Normalization';

export const NORM_LAYERS: readonly LayerKnowledge[] = [
  {
    className: 'BatchNormalization',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const axes = ctx.axes(ctx.config.axis ?? -1, input);
      if (axes.length !== 1) ctx.bad('BatchNormalization over several axes is not supported');
      const channels = input[axes[0]!] ?? null;
      if (ctx.flag('scale', true)) ctx.addWeight('gamma', [channels]);
      if (ctx.flag('center', true)) ctx.addWeight('beta', [channels]);
      ctx.addWeight('moving_mean', [channels]);
      ctx.addWeight('moving_variance', [channels]);
      return [input];
    },
    pruning: {
      role: 'channelwise',
      refuse: (config, inputShapes) =>
        isLastAxis(config.axis, (inputShapes[0]?.length ?? 0) + 1)
          ? undefined
          : `BatchNormalization over axis ${String(config.axis)}, not channels`,
      slice: channelwiseSlice,
    },
  },
  {
    className: 'LayerNormalization',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const shape = ctx.axes(ctx.config.axis ?? -1, input).map((a) => input[a] ?? null);
      if (ctx.flag('scale', true)) ctx.addWeight('gamma', shape);
      if (ctx.flag('center', true)) ctx.addWeight('beta', shape);
      return [input];
    },
  },
];
