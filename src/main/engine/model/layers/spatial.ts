/**
 * Spatial resampling: ZeroPadding2D, Cropping2D, UpSampling2D, and the preprocessing layers
 * Rescaling, CenterCrop, Resizing. No MACs; channels pass through.
 */
import { PASSTHROUGH } from './pruning-helpers';
import type { ShapeContext } from './shape-context';
import type { LayerKnowledge, Shape } from './types';

/** ZeroPadding2D grows the height and width, Cropping2D shrinks them. */
const padOrCrop =
  (key: 'padding' | 'cropping', sign: 1 | -1) =>
  (ctx: ShapeContext): Shape[] => {
    const input = ctx.single();
    ctx.rank(input, 4);
    const [[top, bottom], [left, right]] = ctx.padPairs(key, sign === 1 ? 1 : 0);
    const hi = ctx.channelsFirst() ? 2 : 1;
    const out = [...input];
    const h = input[hi]!;
    const w = input[hi + 1]!;
    out[hi] = h === null ? null : h + sign * (top + bottom);
    out[hi + 1] = w === null ? null : w + sign * (left + right);
    return [out];
  };

function upSamplingShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 4);
  const [sh, sw] = ctx.intTuple('size', 2, [2, 2]) as [number, number];
  const hi = ctx.channelsFirst() ? 2 : 1;
  const out = [...input];
  out[hi] = input[hi] === null ? null : input[hi]! * sh;
  out[hi + 1] = input[hi + 1] === null ? null : input[hi + 1]! * sw;
  return [out];
}

function resizedShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  ctx.rank(input, 4);
  const height = ctx.positiveInt('height');
  const width = ctx.positiveInt('width');
  return [[input[0]!, height, width, input[3]!]];
}

const spatial = (
  className: string,
  group: string,
  shapes: (ctx: ShapeContext) => Shape[],
): LayerKnowledge => ({
  className,
  group,
  shapes,
  pruning: PASSTHROUGH,
});

export const SPATIAL_LAYERS: readonly LayerKnowledge[] = [
  spatial('ZeroPadding2D', 'Convolution', padOrCrop('padding', 1)),
  spatial('Cropping2D', 'Convolution', padOrCrop('cropping', -1)),
  spatial('UpSampling2D', 'Convolution', upSamplingShapes),
  spatial('Rescaling', 'Preprocessing', (ctx) => [ctx.single()]),
  spatial('CenterCrop', 'Preprocessing', resizedShapes),
  spatial('Resizing', 'Preprocessing', resizedShapes),
];
