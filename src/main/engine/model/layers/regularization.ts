/** Regularization layers: identity at inference, so no MACs, and channels pass through. */
import { PASSTHROUGH } from './pruning-helpers';
import type { LayerKnowledge } from './types';

export const REGULARIZATION_LAYERS: readonly LayerKnowledge[] = [
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
].map((className) => ({
  className,
  group: 'Regularization (no effect at inference)',
  shapes: (ctx) => [ctx.single()],
  pruning: PASSTHROUGH,
}));
