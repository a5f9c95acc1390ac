/**
 * Nested models: a Sequential or functional model used as a layer. infer-shapes.ts walks them
 * layer by layer, the summary sums their layers' MACs, and the pruner leaves them whole.
 */
import type { LayerKnowledge } from './types';

export const MODEL_LAYERS: readonly LayerKnowledge[] = ['Sequential', 'Model', 'Functional'].map(
  (className) => ({ className, group: 'Nested models', container: true }),
);
