/**
 * Layers refused on purpose, each with a hint the user can act on. Any class with no entry at
 * all is refused too, with the generic hint of registry.ts.
 */
import type { LayerKnowledge } from './types';

const REFUSED: Readonly<Record<string, string>> = {
  Lambda:
    'a Lambda layer holds Python code, which Pollard never runs; rebuild the model with standard layers',
  TFOpLambda: 'a TFOpLambda layer wraps a raw TensorFlow op; rebuild the model with standard Keras layers',
  SlicingOpLambda:
    'a SlicingOpLambda layer wraps tensor slicing; rebuild the model with standard Keras layers',
  Subtract: 'TensorFlow.js has no Subtract layer; rebuild the model without it',
  Dot: 'Dot layers are not supported yet',
  Conv3D: '3-D convolutions are not supported',
  Conv3DTranspose: '3-D convolutions are not supported',
  MaxPooling3D: '3-D pooling is not supported',
  AveragePooling3D: '3-D pooling is not supported',
  ConvLSTM2D: 'ConvLSTM2D is not supported',
  MultiHeadAttention: 'attention layers are not supported',
  RNN: 'generic RNN layers with custom cells are not supported; use SimpleRNN, GRU or LSTM',
};

export const REFUSED_LAYERS: readonly LayerKnowledge[] = Object.entries(REFUSED).map(
  ([className, refused]) => ({
    className,
    group: 'Refused on purpose',
    refused,
  }),
);
