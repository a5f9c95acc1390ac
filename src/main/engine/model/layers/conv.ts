/**
 * Convolutions: Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.
 *
 *   Conv1D / Conv2D     MACs = out_positions · C_out · K · C_in            (groups is always 1 in tfjs)
 *   Conv2DTranspose     MACs = in_positions · C_in · K · C_out             (each input value meets the whole kernel)
 *   DepthwiseConv2D     MACs = out_positions · C_in · multiplier · K
 *   SeparableConv2D     MACs = depthwise + out_positions · C_in · multiplier · C_out
 */
import { KERNEL_PRODUCER, expand, trailing, withBias } from './pruning-helpers';
import { kernelSize, numberField, splitChannels } from './macs-helpers';
import { convOutputLength, deconvLength } from './shape-context';
import type { ShapeContext } from './shape-context';
import type { Layer, LayerKnowledge, MacsInput, Shape } from './types';

const GROUP = 'Convolution';

function conv1dShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 3);
  const filters = ctx.positiveInt('filters');
  const [k] = ctx.intTuple('kernel_size', 1) as [number];
  const [stride] = ctx.intTuple('strides', 1, [1]) as [number];
  const [dilation] = ctx.intTuple('dilation_rate', 1, [1]) as [number];
  const padding = ctx.padding();
  const channelsFirst = ctx.channelsFirst();
  ctx.addWeight('kernel', [k, channelsFirst ? input[1]! : input[2]!, filters]);
  if (ctx.flag('use_bias', true)) ctx.addWeight('bias', [filters]);
  const length = convOutputLength(channelsFirst ? input[2]! : input[1]!, k, padding, stride, dilation);
  return [channelsFirst ? [input[0]!, filters, length] : [input[0]!, length, filters]];
}

/** The weights of a 2-D convolution on `c` input channels; returns its output channels. */
function conv2dWeights(ctx: ShapeContext, kh: number, kw: number, c: number | null): number | null {
  switch (ctx.className) {
    case 'Conv2D': {
      const filters = ctx.positiveInt('filters');
      ctx.addWeight('kernel', [kh, kw, c, filters]);
      return filters;
    }
    case 'Conv2DTranspose': {
      const filters = ctx.positiveInt('filters');
      ctx.addWeight('kernel', [kh, kw, filters, c]);
      return filters;
    }
    default: {
      const multiplier = ctx.positiveInt('depth_multiplier', 1);
      ctx.addWeight('depthwise_kernel', [kh, kw, c, multiplier]);
      if (ctx.className === 'DepthwiseConv2D') return c === null ? null : c * multiplier;
      const filters = ctx.positiveInt('filters');
      ctx.addWeight('pointwise_kernel', [1, 1, c === null ? null : c * multiplier, filters]);
      return filters;
    }
  }
}

function conv2dShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 4);
  const channelsFirst = ctx.channelsFirst();
  const [h, w, c] = channelsFirst ? [input[2]!, input[3]!, input[1]!] : [input[1]!, input[2]!, input[3]!];
  const [kh, kw] = ctx.intTuple('kernel_size', 2) as [number, number];
  const [sh, sw] = ctx.intTuple('strides', 2, [1, 1]) as [number, number];
  const [dh, dw] = ctx.intTuple('dilation_rate', 2, [1, 1]) as [number, number];
  const padding = ctx.padding();
  const bias = ctx.flag('use_bias', true);
  const outChannels = conv2dWeights(ctx, kh, kw, c);
  if (bias) ctx.addWeight('bias', [outChannels]);
  let oh: number | null;
  let ow: number | null;
  if (ctx.className === 'Conv2DTranspose') {
    if (padding === 'causal') ctx.bad('causal padding is not valid for Conv2DTranspose');
    oh = deconvLength(h, sh, kh, padding);
    ow = deconvLength(w, sw, kw, padding);
  } else {
    oh = convOutputLength(h, kh, padding, sh, dh);
    ow = convOutputLength(w, kw, padding, sw, dw);
  }
  return [channelsFirst ? [input[0]!, outChannels, oh, ow] : [input[0]!, oh, ow, outChannels]];
}

function convMacs({ config, inputShapes, outputShapes }: MacsInput): number {
  const [outPositions, outChannels] = splitChannels(outputShapes[0]!, config);
  const [, inChannels] = splitChannels(inputShapes[0]!, config);
  return outPositions * outChannels * kernelSize(config) * inChannels;
}

/** tfjs's SeparableConv2D.getConfig omits depthMultiplier; the depthwise kernel [kh, kw, in, m] has it. */
function separableMultiplier(layer: Layer): number {
  const depthwise = layer.weights.find((w) => w.originalName.endsWith('depthwise_kernel'));
  return depthwise?.shape[3] ?? 1;
}

export const CONV_LAYERS: readonly LayerKnowledge[] = [
  { className: 'Conv1D', group: GROUP, shapes: conv1dShapes, macs: convMacs, pruning: KERNEL_PRODUCER },
  { className: 'Conv2D', group: GROUP, shapes: conv2dShapes, macs: convMacs, pruning: KERNEL_PRODUCER },
  {
    className: 'Conv2DTranspose',
    group: GROUP,
    shapes: conv2dShapes,
    // Opaque to the pruner: its kernel is [kh, kw, out, in].
    macs: ({ config, inputShapes, outputShapes }) => {
      const [inPositions, inChannels] = splitChannels(inputShapes[0]!, config);
      const [, outChannels] = splitChannels(outputShapes[0]!, config);
      return inPositions * inChannels * kernelSize(config) * outChannels;
    },
  },
  {
    className: 'DepthwiseConv2D',
    group: GROUP,
    shapes: conv2dShapes,
    macs: ({ config, outputShapes }) => {
      // outChannels = C_in · multiplier.
      const [outPositions, outChannels] = splitChannels(outputShapes[0]!, config);
      return outPositions * outChannels * kernelSize(config);
    },
    pruning: {
      role: 'depthwise',
      depthMultiplier: (layer) => Number((layer.getConfig() as Record<string, unknown>).depthMultiplier ?? 1),
      slice: (args) => withBias(args, new Map([['depthwise_kernel', trailing(4, [args.keptIn, null])]])),
    },
  },
  {
    className: 'SeparableConv2D',
    group: GROUP,
    shapes: conv2dShapes,
    configOf: (layer) => ({
      ...(layer.getConfig() as Record<string, unknown>),
      depthMultiplier: separableMultiplier(layer),
    }),
    macs: ({ config, inputShapes, outputShapes }) => {
      const [outPositions, outChannels] = splitChannels(outputShapes[0]!, config);
      const [, inChannels] = splitChannels(inputShapes[0]!, config);
      const multiplier = numberField(config, 'depthMultiplier', 'depth_multiplier', 1);
      const depthwise = outPositions * inChannels * multiplier * kernelSize(config);
      return depthwise + outPositions * inChannels * multiplier * outChannels;
    },
    pruning: {
      role: 'producer',
      outputKernel: 'pointwise_kernel',
      depthMultiplier: separableMultiplier,
      slice: (args) =>
        withBias(
          args,
          new Map([
            ['depthwise_kernel', trailing(4, [args.keptIn, null])],
            ['pointwise_kernel', trailing(4, [expand(args.keptIn, args.depthMultiplier), args.keptOut])],
          ]),
        ),
      resize: (config, outChannels, depthMultiplier) => {
        config.filters = outChannels;
        // tfjs's toJSON drops depth_multiplier (its constructor reads it).
        config.depth_multiplier = depthMultiplier;
      },
    },
  },
];
