/**
 * Re-estimate BatchNormalization statistics ("adaptive BN", Li et al. 2020, EagleEye).
 *
 * Pruning changes what reaches every BN after a pruned layer (a convolution that lost input
 * channels produces a different distribution), and a short fine-tuning leaves the moving averages
 * behind the weights (momentum 0.99 needs hundreds of steps; a small dataset gives few). In both
 * cases inference-mode accuracy suffers although the weights are fine. This pass sets each BN's
 * moving mean and variance to the exact population statistics of its input in inference mode,
 * over a sample of training data, BN by BN in model order (so each sees the already corrected
 * BNs before it). Scale and shift (γ, β) are untouched.
 */
import type { DatasetSplit, Normalization } from '../data';
import type { JobContext } from '../job/context';
import { makeBatch } from '../data';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import { Rng } from '../util/rng';

export interface RecalibrationData {
  split: DatasetSplit;
  shape: [number, number, number];
  classes: number;
  normalization?: Normalization | undefined;
}

export interface RecalibrationOptions {
  /** Training samples to estimate from (drawn with a seeded shuffle). Default 1024. */
  samples?: number;
  batchSize?: number;
  seed?: number;
}

type SymbolicTensor = ReturnType<typeof tfl.input>;

/** The last segment of a weight's name: "moving_mean" for "block1_bn/moving_mean". */
const weightKey = (originalName: string): string => originalName.slice(originalName.lastIndexOf('/') + 1);

/** Whether the model has any BatchNormalization layer (whose statistics could be re-estimated). */
export function hasBatchNorm(model: LayersModel): boolean {
  return model.layers.some((layer) => layer.getClassName() === 'BatchNormalization');
}

/** Per-channel mean and population variance of `sub`'s output over the batches. */
async function channelMoments(
  sub: LayersModel,
  batches: tf.Tensor[],
): Promise<{ mean: Float32Array; variance: Float32Array }> {
  let sum: Float64Array | undefined;
  let squares: Float64Array | undefined;
  let count = 0;
  for (const x of batches) {
    const [s, q, n] = tf.tidy(() => {
      const y = sub.predict(x) as tf.Tensor;
      const axes = Array.from({ length: y.rank - 1 }, (_, i) => i);
      const positions = y.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      return [tf.sum(y, axes), tf.sum(tf.square(y), axes), positions] as const;
    });
    // Read asynchronously: the webgpu backend cannot read synchronously in Node.
    const [sData, qData] = await Promise.all([s.data(), q.data()]);
    sum ??= new Float64Array(sData.length);
    squares ??= new Float64Array(qData.length);
    for (let c = 0; c < sData.length; c++) {
      sum[c]! += sData[c]!;
      squares[c]! += qData[c]!;
    }
    count += n;
    tf.dispose([s, q]);
  }
  const mean = new Float32Array(sum!.length);
  const variance = new Float32Array(sum!.length);
  for (let c = 0; c < mean.length; c++) {
    const m = sum![c]! / count;
    mean[c] = m;
    variance[c] = Math.max(squares![c]! / count - m * m, 0);
  }
  return { mean, variance };
}

/** Returns how many BN layers were re-estimated. Models without BN are left as they are. */
export async function recalibrateBatchNorm(
  model: LayersModel,
  data: RecalibrationData,
  options: RecalibrationOptions = {},
): Promise<{ layers: number; samples: number }> {
  const batchNorms = model.layers.filter(
    (layer) => layer.getClassName() === 'BatchNormalization' && layer.inboundNodes.length === 1,
  );
  if (batchNorms.length === 0 || data.split.count === 0) return { layers: 0, samples: 0 };
  const count = Math.min(options.samples ?? 1024, data.split.count);
  const batchSize = options.batchSize ?? 64;
  const rng = new Rng((options.seed ?? 0) ^ 0xb4);
  const order = Array.from({ length: data.split.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const batches: tf.Tensor[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const indices = order.slice(start, Math.min(start + batchSize, count));
    const batch = makeBatch(data.split, data.shape, indices, data.classes, {
      normalization: data.normalization,
    });
    batch.y.dispose();
    batches.push(batch.x);
  }
  try {
    let updated = 0;
    for (const layer of batchNorms) {
      const axis = (layer.getConfig() as { axis?: unknown }).axis;
      const rank = (layer.inputSpec?.[0]?.ndim ?? (layer.input as SymbolicTensor).shape.length) as number;
      if (axis !== -1 && axis !== rank - 1) continue;
      // The model up to this BN's input; it shares the layers (and weights) of `model`.
      const sub = tfl.model({ inputs: model.inputs, outputs: layer.input as SymbolicTensor });
      const { mean, variance } = await channelMoments(sub, batches);
      const values = layer.weights.map((weight) => {
        const key = weightKey(weight.originalName);
        if (key === 'moving_mean') return tf.tensor(mean, weight.shape as number[]);
        if (key === 'moving_variance') return tf.tensor(variance, weight.shape as number[]);
        return tf.clone(weight.read());
      });
      layer.setWeights(values);
      tf.dispose(values);
      updated += 1;
    }
    return { layers: updated, samples: count };
  } finally {
    tf.dispose(batches);
  }
}

/** Training samples from which a finished model's BN statistics are re-estimated. */
export const RECALIBRATION_SAMPLES = 1024;

/**
 * Re-estimate a finished model's BN statistics (after training, pruning or fine-tuning) on
 * RECALIBRATION_SAMPLES training samples, and say so in the job's log.
 */
export async function recalibrateFinished(
  model: LayersModel,
  data: RecalibrationData,
  seed: number,
  ctx: Pick<JobContext, 'log'>,
): Promise<void> {
  const { layers, samples } = await recalibrateBatchNorm(model, data, {
    samples: RECALIBRATION_SAMPLES,
    seed,
  });
  if (layers > 0)
    ctx.log(
      'debug',
      `BatchNormalization statistics of ${layers} layers re-estimated on ${samples} training samples`,
    );
}
