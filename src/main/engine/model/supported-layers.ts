/**
 * The allow-lists: every `class_name` and every named function (activation, initializer, …) in
 * a model configuration must appear here before TensorFlow.js sees it. tfjs looks names up in
 * plain objects, so `constructor` or `toString` would otherwise reach Object.prototype and end
 * in a TypeError; a layer that tfjs does not have must be refused with its name, not guessed at.
 *
 * Every layer listed here is one that `infer-shapes.ts` can size before anything is allocated.
 */

export interface LayerGroup {
  title: string;
  layers: readonly string[];
}

/** Supported layers, grouped for the documentation (docs/layers.md is generated from this). */
export const SUPPORTED_LAYER_GROUPS: readonly LayerGroup[] = [
  {
    title: 'Core',
    layers: [
      'InputLayer',
      'Dense',
      'Activation',
      'Flatten',
      'Reshape',
      'Permute',
      'RepeatVector',
      'Embedding',
      'Masking',
    ],
  },
  {
    title: 'Convolution',
    layers: [
      'Conv1D',
      'Conv2D',
      'Conv2DTranspose',
      'DepthwiseConv2D',
      'SeparableConv2D',
      'ZeroPadding2D',
      'Cropping2D',
      'UpSampling2D',
    ],
  },
  {
    title: 'Pooling',
    layers: [
      'MaxPooling1D',
      'MaxPooling2D',
      'AveragePooling1D',
      'AveragePooling2D',
      'GlobalMaxPooling1D',
      'GlobalMaxPooling2D',
      'GlobalAveragePooling1D',
      'GlobalAveragePooling2D',
    ],
  },
  { title: 'Normalization', layers: ['BatchNormalization', 'LayerNormalization'] },
  {
    title: 'Activation layers',
    layers: ['ReLU', 'LeakyReLU', 'PReLU', 'ELU', 'ThresholdedReLU', 'Softmax'],
  },
  {
    title: 'Regularization (no effect at inference)',
    layers: ['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout'],
  },
  { title: 'Merging', layers: ['Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate'] },
  { title: 'Recurrent', layers: ['SimpleRNN', 'GRU', 'LSTM', 'Bidirectional', 'TimeDistributed'] },
  { title: 'Preprocessing', layers: ['Rescaling', 'CenterCrop', 'Resizing'] },
  { title: 'Nested models', layers: ['Sequential', 'Model', 'Functional'] },
];

/** Container classes: a model nested inside a model. */
export const MODEL_CLASSES: ReadonlySet<string> = new Set(['Sequential', 'Model', 'Functional']);

export const SUPPORTED_LAYERS: ReadonlySet<string> = new Set(SUPPORTED_LAYER_GROUPS.flatMap((g) => g.layers));

/** Why some well-known layers are refused: a hint the user can act on. */
export const REFUSED_LAYER_HINTS: Readonly<Record<string, string>> = {
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

/** Activation functions by their Keras (snake_case) and TensorFlow.js (camelCase) names. */
export const SUPPORTED_ACTIVATIONS: ReadonlySet<string> = new Set([
  'linear',
  'relu',
  'relu6',
  'elu',
  'selu',
  'sigmoid',
  'hard_sigmoid',
  'hardSigmoid',
  'softmax',
  'log_softmax',
  'logSoftmax',
  'softplus',
  'softsign',
  'tanh',
  'swish',
  'mish',
  'gelu',
]);

/**
 * Initializer class names tfjs knows, plus Keras spellings mapped to them. Initial values never
 * matter when weights are loaded, but tfjs resolves every initializer while it builds a layer.
 */
export const INITIALIZER_ALIASES: Readonly<Record<string, string>> = {
  Zeros: 'Zeros',
  zeros: 'Zeros',
  Ones: 'Ones',
  ones: 'Ones',
  Constant: 'Constant',
  constant: 'Constant',
  RandomNormal: 'RandomNormal',
  random_normal: 'RandomNormal',
  randomNormal: 'RandomNormal',
  RandomUniform: 'RandomUniform',
  random_uniform: 'RandomUniform',
  randomUniform: 'RandomUniform',
  TruncatedNormal: 'TruncatedNormal',
  truncated_normal: 'TruncatedNormal',
  truncatedNormal: 'TruncatedNormal',
  VarianceScaling: 'VarianceScaling',
  variance_scaling: 'VarianceScaling',
  varianceScaling: 'VarianceScaling',
  GlorotUniform: 'GlorotUniform',
  glorot_uniform: 'GlorotUniform',
  glorotUniform: 'GlorotUniform',
  GlorotNormal: 'GlorotNormal',
  glorot_normal: 'GlorotNormal',
  glorotNormal: 'GlorotNormal',
  HeNormal: 'HeNormal',
  he_normal: 'HeNormal',
  heNormal: 'HeNormal',
  HeUniform: 'HeUniform',
  he_uniform: 'HeUniform',
  heUniform: 'HeUniform',
  LeCunNormal: 'LeCunNormal',
  LecunNormal: 'LeCunNormal',
  lecun_normal: 'LeCunNormal',
  leCunNormal: 'LeCunNormal',
  LeCunUniform: 'LeCunUniform',
  LecunUniform: 'LeCunUniform',
  lecun_uniform: 'LeCunUniform',
  leCunUniform: 'LeCunUniform',
  Orthogonal: 'Orthogonal',
  orthogonal: 'Orthogonal',
  Identity: 'Identity',
  identity: 'Identity',
};

/** Constraint class names tfjs knows, plus Keras spellings. */
export const CONSTRAINT_ALIASES: Readonly<Record<string, string>> = {
  MaxNorm: 'MaxNorm',
  max_norm: 'MaxNorm',
  maxNorm: 'MaxNorm',
  MinMaxNorm: 'MinMaxNorm',
  min_max_norm: 'MinMaxNorm',
  minMaxNorm: 'MinMaxNorm',
  NonNeg: 'NonNeg',
  non_neg: 'NonNeg',
  nonNeg: 'NonNeg',
  UnitNorm: 'UnitNorm',
  unit_norm: 'UnitNorm',
  unitNorm: 'UnitNorm',
};

/** tfjs has only L1L2; Keras's L1 and L2 are the same function with one term zero. */
export const REGULARIZER_CLASSES: ReadonlySet<string> = new Set([
  'L1L2',
  'L1',
  'L2',
  'l1',
  'l2',
  'l1_l2',
  'l1l2',
]);

/** Layer dtypes tfjs can compute in. */
export const SUPPORTED_LAYER_DTYPES: ReadonlySet<string> = new Set(['float32', 'int32', 'bool']);

/** A hint for a refused layer class. */
export function refusedLayerHint(className: string): string {
  // hasOwn: a lookup must never reach Object.prototype (class_name "constructor").
  return Object.hasOwn(REFUSED_LAYER_HINTS, className)
    ? REFUSED_LAYER_HINTS[className]!
    : 'custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens';
}

/** The supported layers as Markdown, for docs/layers.md. */
export function supportedLayersMarkdown(): string {
  const lines = [
    '# Supported layers',
    '',
    'Generated from `src/main/engine/model/supported-layers.ts`; any other layer is refused with its name.',
    '',
  ];
  for (const group of SUPPORTED_LAYER_GROUPS) {
    lines.push(`- **${group.title}**: ${group.layers.map((l) => `\`${l}\``).join(', ')}`);
  }
  lines.push('', `Activations: ${[...SUPPORTED_ACTIVATIONS].map((a) => `\`${a}\``).join(', ')}.`, '');
  lines.push('## Refused on purpose', '');
  for (const [name, hint] of Object.entries(REFUSED_LAYER_HINTS)) lines.push(`- \`${name}\`: ${hint}.`);
  return lines.join('\n') + '\n';
}
