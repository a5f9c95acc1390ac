/**
 * Core layers: InputLayer, Dense, Embedding, Masking.
 *
 *   Dense   MACs = positions · in · out   (positions: the non-batch dimensions before the last)
 */
import { KERNEL_PRODUCER } from './pruning-helpers';
import { dim, dimsProduct } from './macs-helpers';
import type { LayerKnowledge } from './types';

const GROUP = 'Core';

export const CORE_LAYERS: readonly LayerKnowledge[] = [
  // The graph treats InputLayer as the model input (role 'input'), whatever its entry says.
  { className: 'InputLayer', group: GROUP, shapes: (ctx) => [ctx.single()] },
  {
    className: 'Dense',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const units = ctx.positiveInt('units');
      ctx.addWeight('kernel', [ctx.lastDim(input), units]);
      if (ctx.flag('use_bias', true)) ctx.addWeight('bias', [units]);
      return [[...input.slice(0, -1), units]];
    },
    macs: ({ inputShapes, outputShapes }) => {
      const input = inputShapes[0]!;
      const output = outputShapes[0]!;
      return dimsProduct(input.slice(1, -1)) * dim(input[input.length - 1]) * dim(output[output.length - 1]);
    },
    pruning: KERNEL_PRODUCER,
  },
  {
    className: 'Embedding',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const inputDim = ctx.positiveInt('input_dim');
      const outputDim = ctx.positiveInt('output_dim');
      ctx.addWeight('embeddings', [inputDim, outputDim]);
      return [[...input, outputDim]];
    },
  },
  { className: 'Masking', group: GROUP, shapes: (ctx) => [ctx.single()] },
];
