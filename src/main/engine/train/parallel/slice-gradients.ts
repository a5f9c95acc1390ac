/**
 * The gradient of one slice of a batch, accumulated over micro-batches: the same function runs
 * on the job process's own slice and inside every replica worker, so all ranks compute alike.
 *
 * Gradients are returned as SHARES of the whole batch's mean gradient (Σ over the slice's
 * samples ÷ the batch's size), so that the ranks' results add up to the mean gradient of the
 * whole batch, whatever the division into replicas and micro-batches. Each micro-batch's mean
 * loss is scaled by its share of the batch (micro-batch size ÷ batch size) before the backward
 * pass, so the gradients come out already scaled: no multiply per variable, and no division
 * once the shares are summed. (BatchNormalization normalises each micro-batch with its own
 * statistics, as PyTorch DDP does per replica without SyncBN; every other layer gives the whole
 * batch's gradient.)
 */
import { type LayersModel, tf } from '../../tf';
import { finiteProbe } from '../../backend/gradient-bookkeeping';
import { correctCount, crossEntropy, type OutputKind } from '../loss';
import { microBatches, type Slice } from './partition';

export interface SliceGradients {
  /** Σ over the slice's samples of each trainable variable's gradient ÷ the batch size, in `variables` order. */
  grads: tf.Tensor[];
  /** Σ of the per-sample losses. */
  lossSum: number;
  correct: number;
  /** false when a loss or a gradient was NaN or Inf. */
  finite: boolean;
}

/**
 * Gradients of the samples [slice.start, slice.start + slice.size) of `x`/`y`/`labels`, taken
 * `microBatch` samples at a time, as shares of a batch of `batchSize` samples. The caller owns
 * the returned tensors.
 */
export async function sliceGradients(
  model: LayersModel,
  variables: tf.Variable[],
  kind: OutputKind,
  batch: { x: tf.Tensor4D; y: tf.Tensor2D; labels: tf.Tensor1D },
  slice: Slice,
  microBatch: number,
  batchSize: number,
): Promise<SliceGradients> {
  let shares: tf.Tensor[] | undefined;
  const summaries: tf.Tensor[] = [];
  try {
    for (const part of microBatches(slice, microBatch)) {
      const whole = part.start === 0 && part.size === batch.x.shape[0];
      const x = whole ? batch.x : tf.slice(batch.x, part.start, part.size);
      const y = whole ? batch.y : tf.slice(batch.y, part.start, part.size);
      const labels = whole ? batch.labels : tf.slice(batch.labels, part.start, part.size);
      const share = part.size / batchSize;
      let output: tf.Tensor2D | undefined;
      let step: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
      try {
        step = tf.variableGrads(() => {
          const predicted = model.apply(x, { training: true }) as tf.Tensor2D;
          output = tf.keep(predicted);
          const loss = crossEntropy(kind, y, predicted);
          return share === 1 ? loss : tf.mul(loss, share);
        }, variables);
        const grads = variables.map((variable) => step!.grads[variable.name]!);
        // [Σ loss ÷ batch size, correct, probe]: the probe is NaN iff a gradient is not finite.
        const value = step.value;
        summaries.push(tf.tidy(() => tf.stack([value, correctCount(output!, labels), finiteProbe(grads)])));
        if (shares === undefined) {
          shares = grads;
        } else {
          const previous = shares;
          shares = tf.tidy(() => previous.map((share, i) => tf.add(share, grads[i]!)));
          tf.dispose(previous);
          tf.dispose(grads);
        }
        step = { value, grads: {} };
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
    const [lossShare, correct, probe] = Array.from(await totals.data()) as [number, number, number];
    totals.dispose();
    const lossSum = lossShare * batchSize;
    const result = {
      grads: shares ?? [],
      lossSum,
      correct,
      finite: Number.isFinite(lossSum) && Number.isFinite(probe),
    };
    shares = undefined;
    return result;
  } finally {
    tf.dispose(summaries);
    if (shares) tf.dispose(shares);
  }
}
