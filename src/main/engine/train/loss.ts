/** Classification loss and accuracy, for models that end in softmax probabilities or in logits. */
import { unsupported } from '../../../shared/errors';
import { type LayersModel, tf } from '../tf';

export type OutputKind = 'probabilities' | 'logits';

/** Whether the model's output is already a softmax (Keras style) or raw logits. */
export function outputKind(model: LayersModel, source = model.name): OutputKind {
  if (model.outputs.length !== 1) {
    throw unsupported(
      source,
      `the model has ${model.outputs.length} outputs; Pollard trains single-output classifiers`,
    );
  }
  const last = model.layers[model.layers.length - 1];
  if (!last) throw unsupported(source, 'the model has no layers');
  const activation = (last.getConfig() as { activation?: unknown }).activation;
  if (last.getClassName() === 'Softmax' || activation === 'softmax') return 'probabilities';
  if (activation === undefined || activation === 'linear') return 'logits';
  throw unsupported(
    source,
    `the output layer "${last.name}" uses activation "${String(activation)}"; Pollard trains classifiers ending in softmax or linear logits`,
  );
}

const EPSILON = 1e-7;

/** Mean categorical cross-entropy, as Keras computes it (probabilities clipped to [ε, 1−ε]). */
export function crossEntropy(kind: OutputKind, oneHot: tf.Tensor2D, output: tf.Tensor2D): tf.Scalar {
  return tf.tidy((): tf.Scalar => {
    if (kind === 'logits') return tf.losses.softmaxCrossEntropy(oneHot, output) as tf.Scalar;
    const clipped = tf.clipByValue(output, EPSILON, 1 - EPSILON);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(clipped)), -1))) as tf.Scalar;
  });
}

/** Number of rows whose arg-max equals the label. */
export function correctCount(output: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(output, 1), labels), 'float32')));
}
