/**
 * The gradient of one slice of a batch, accumulated over micro-batches: the same function runs
 * on the job process's own slice and inside every replica worker, so all ranks compute alike.
 *
 * Gradients are returned as SUMS over the slice's samples (mean gradient × samples), so that the
 * ranks' results add up to the whole batch's sum and one division by the batch size gives the
 * mean gradient of the whole batch, whatever the division into replicas and micro-batches.
 * (BatchNormalization normalises each micro-batch with its own statistics, as PyTorch DDP does
 * per replica without SyncBN; every other layer gives the whole batch's gradient.)
 */
import { type LayersModel, tf } from '../../tf';
import { correctCount, crossEntropy, type OutputKind } from '../loss';
import { microBatches, type Slice } from './partition';

export interface SliceGradients {
  /** Σ over the slice's samples of each trainable variable's gradient, in `variables` order. */
  sums: tf.Tensor[];
  /** Σ of the per-sample losses. */
  lossSum: number;
  correct: number;
  /** false when a loss or a gradient was NaN or Inf. */
  finite: boolean;
}

/**
 * Gradients of the samples [slice.start, slice.start + slice.size) of `x`/`y`/`labels`, taken
 * `microBatch` samples at a time. The caller owns the returned tensors.
 */
export async function sliceGradients(
  model: LayersModel,
  variables: tf.Variable[],
  kind: OutputKind,
  batch: { x: tf.Tensor4D; y: tf.Tensor2D; labels: tf.Tensor1D },
  slice: Slice,
  microBatch: number,
): Promise<SliceGradients> {
  let sums: tf.Tensor[] | undefined;
  const summaries: tf.Tensor[] = [];
  try {
    for (const part of microBatches(slice, microBatch)) {
      const whole = part.start === 0 && part.size === batch.x.shape[0];
      const x = whole ? batch.x : tf.slice(batch.x, part.start, part.size);
      const y = whole ? batch.y : tf.slice(batch.y, part.start, part.size);
      const labels = whole ? batch.labels : tf.slice(batch.labels, part.start, part.size);
      let output: tf.Tensor2D | undefined;
      let step: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
      try {
        step = tf.variableGrads(() => {
          const predicted = model.apply(x, { training: true }) as tf.Tensor2D;
          output = tf.keep(predicted);
          return crossEntropy(kind, y, predicted);
        }, variables);
        const grads = step.grads;
        const value = step.value;
        const previous = sums;
        sums = tf.tidy(() =>
          variables.map((variable, i) => {
            const scaled = tf.mul(grads[variable.name]!, part.size);
            return previous ? tf.add(previous[i]!, scaled) : scaled;
          }),
        );
        if (previous) tf.dispose(previous);
        // [Σ loss, correct, Σ 0·g]: the last is NaN iff a gradient is not finite.
        summaries.push(
          tf.tidy(() => {
            const probe = tf.addN(Object.values(grads).map((g) => tf.sum(tf.mul(g, 0))));
            return tf.stack([tf.mul(value, part.size), correctCount(output!, labels), probe]);
          }),
        );
      } finally {
        if (!whole) tf.dispose([x, y, labels]);
        output?.dispose();
        if (step) {
          step.value.dispose();
          tf.dispose(Object.values(step.grads));
        }
      }
    }
    const totals = tf.tidy(() => tf.sum(tf.stack(summaries), 0));
    const [lossSum, correct, probe] = Array.from(await totals.data()) as [number, number, number];
    totals.dispose();
    const result = {
      sums: sums ?? [],
      lossSum,
      correct,
      finite: Number.isFinite(lossSum) && Number.isFinite(probe),
    };
    sums = undefined;
    return result;
  } finally {
    tf.dispose(summaries);
    if (sums) tf.dispose(sums);
  }
}
