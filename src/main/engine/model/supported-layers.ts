/**
 * The allow-lists: every `class_name` and every named function (activation, initializer, …) in
 * a model configuration must appear here before TensorFlow.js sees it. tfjs looks names up in
 * plain objects, so `constructor` or `toString` would otherwise reach Object.prototype and end
 * in a TypeError; a layer that tfjs does not have must be refused with its name, not guessed at.
 *
 * Layer classes are the layer table's (model/layers/registry.ts): each entry says whether the
 * class is allowed, and an allowed class has a shape rule, so it is sized before anything is
 * allocated. This file holds the other names: activations, initializers, constraints, dtypes.
 */
import {
  isSupportedLayer,
  refusedLayerHint,
  refusedLayers,
  supportedLayerGroups,
  supportedLayers,
} from './layers/registry';

/** Container classes: a model nested inside a model. */
export const MODEL_CLASSES: ReadonlySet<string> = new Set(
  supportedLayers()
    .filter((entry) => entry.container === true)
    .map((entry) => entry.className),
);

export { isSupportedLayer, refusedLayerHint };

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

/** The supported layers as Markdown, for docs/layers.md. */
export function supportedLayersMarkdown(): string {
  const lines = [
    '# Supported layers',
    '',
    'Generated from the layer table (`src/main/engine/model/layers/`); any other layer is refused with its name.',
    '',
  ];
  for (const group of supportedLayerGroups()) {
    lines.push(`- **${group.title}**: ${group.layers.map((l) => `\`${l}\``).join(', ')}`);
  }
  lines.push('', `Activations: ${[...SUPPORTED_ACTIVATIONS].map((a) => `\`${a}\``).join(', ')}.`, '');
  lines.push('## Refused on purpose', '');
  for (const [name, hint] of refusedLayers()) lines.push(`- \`${name}\`: ${hint}.`);
  return lines.join('\n') + '\n';
}
