/** Pooling, local and global, 1-D and 2-D: no MACs, channels pass through. */
import { PASSTHROUGH } from './pruning-helpers';
import { convOutputLength } from './shape-context';
import type { ShapeContext } from './shape-context';
import type { LayerKnowledge, Shape } from './types';

const GROUP = 'Pooling';

function pool1dShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 3);
  const [pool] = ctx.intTuple('pool_size', 1, [2]) as [number];
  const [stride] = ctx.strides(1, [pool]) as [number];
  const padding = ctx.padding();
  const channelsFirst = ctx.channelsFirst();
  const length = convOutputLength(channelsFirst ? input[2]! : input[1]!, pool, padding, stride, 1);
  return [channelsFirst ? [input[0]!, input[1]!, length] : [input[0]!, length, input[2]!]];
}

function pool2dShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 4);
  const [ph, pw] = ctx.intTuple('pool_size', 2, [2, 2]) as [number, number];
  const [sh, sw] = ctx.strides(2, [ph, pw]) as [number, number];
  const padding = ctx.padding();
  const channelsFirst = ctx.channelsFirst();
  const [h, w] = channelsFirst ? [input[2]!, input[3]!] : [input[1]!, input[2]!];
  const oh = convOutputLength(h, ph, padding, sh, 1);
  const ow = convOutputLength(w, pw, padding, sw, 1);
  return [channelsFirst ? [input[0]!, input[1]!, oh, ow] : [input[0]!, oh, ow, input[3]!]];
}

/** Global pooling over a rank-`rank` input: [batch, channels]. */
const globalShapes =
  (rank: number) =>
  (ctx: ShapeContext): Shape[] => {
    const input = ctx.single();
    ctx.rank(input, rank);
    return [[input[0]!, ctx.channelsFirst() ? input[1]! : input[rank - 1]!]];
  };

const pooling = (className: string, shapes: (ctx: ShapeContext) => Shape[]): LayerKnowledge => ({
  className,
  group: GROUP,
  shapes,
  pruning: PASSTHROUGH,
});

export const POOLING_LAYERS: readonly LayerKnowledge[] = [
  pooling('MaxPooling1D', pool1dShapes),
  pooling('MaxPooling2D', pool2dShapes),
  pooling('AveragePooling1D', pool1dShapes),
  pooling('AveragePooling2D', pool2dShapes),
  pooling('GlobalMaxPooling1D', globalShapes(3)),
  pooling('GlobalMaxPooling2D', globalShapes(4)),
  pooling('GlobalAveragePooling1D', globalShapes(3)),
  pooling('GlobalAveragePooling2D', globalShapes(4)),
];
