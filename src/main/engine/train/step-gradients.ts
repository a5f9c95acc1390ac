/**
 * One batch's gradient as a single forward and backward pass (one replica, no micro-batches):
 * the training loop's path where the whole batch fits and no replica helps.
 */
import { type LayersModel, tf } from '../tf';
import { finiteProbe } from '../backend/gradient-bookkeeping';
import type { Batch } from '../data/pipeline';
import { correctCount, crossEntropy, type OutputKind } from './loss';

export interface StepGradients {
  /** Mean gradient over the batch, by variable name. */
  grads: tf.NamedTensorMap;
  /** Mean loss over the batch. */
  loss: number;
  correct: number;
  finite: boolean;
}

/** One batch as one forward and backward pass (one replica, no micro-batches). */
export async function directStep(
  model: LayersModel,
  variables: tf.Variable[],
  kind: OutputKind,
  input: Batch,
  labels: tf.Tensor1D,
): Promise<StepGradients> {
  let output: tf.Tensor2D | undefined;
  let summary: tf.Tensor | undefined;
  const result = tf.variableGrads(() => {
    const predicted = model.apply(input.x, { training: true }) as tf.Tensor2D;
    output = tf.keep(predicted);
    return crossEntropy(kind, input.y, predicted);
  }, variables);
  try {
    // One read per batch: [loss, correct, probe] — the probe is NaN iff a gradient is not finite.
    summary = tf.tidy(() => {
      const probe = finiteProbe(Object.values(result.grads));
      return tf.stack([result.value, correctCount(output!, labels), probe]);
    });
    const [loss, correct, probe] = Array.from(await summary.data()) as [number, number, number];
    return { grads: result.grads, loss, correct, finite: Number.isFinite(loss) && Number.isFinite(probe) };
  } catch (error) {
    tf.dispose(Object.values(result.grads));
    throw error;
  } finally {
    result.value.dispose();
    output?.dispose();
    summary?.dispose();
  }
}
