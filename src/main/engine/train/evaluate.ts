/** Evaluation: loss, top-1 (and top-5), per-class accuracy and the confusion matrix. */
import type { EvaluationResult } from '../../../shared/types';
import { batchCount, makeBatch, type Normalization } from '../data/pipeline';
import type { DatasetSplit } from '../data/types';
import type { JobContext } from '../job/context';
import { type LayersModel, tf } from '../tf';
import { crossEntropy, outputKind } from './loss';
import type { ReplicaPool } from './parallel/replica-pool';

export interface EvaluateOptions {
  batchSize: number;
  normalization?: Normalization | undefined;
  classNames: string[];
  /** false: loss and accuracy only (validation during training). */
  detailed?: boolean;
  /** Emit `progress` events under this stage name. */
  stage?: string;
  /** Replica workers (from training) that share each batch's forward pass. */
  replicas?: ReplicaPool;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function evaluateModel(
  model: LayersModel,
  split: DatasetSplit,
  shape: [number, number, number],
  classes: number,
  options: EvaluateOptions,
  ctx?: JobContext,
): Promise<EvaluationResult> {
  const kind = outputKind(model);
  const detailed = options.detailed ?? true;
  const topK = detailed && classes > 5 ? 5 : 0;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const pool = options.replicas;
  const batchSize = pool ? Math.min(options.batchSize, pool.capacity) : options.batchSize;
  const batches = batchCount(split.count, batchSize);
  let lossSum = 0;
  let correct = 0;
  let correctTop5 = 0;
  let lastProgress = 0;
  const indices = new Uint32Array(batchSize);

  for (let batch = 0; batch < batches; batch++) {
    await yieldToEventLoop();
    ctx?.throwIfCancelled();
    const start = batch * batchSize;
    const size = Math.min(batchSize, split.count - start);
    for (let i = 0; i < size; i++) indices[i] = start + i;
    const input = makeBatch(split, shape, indices.subarray(0, size), classes, {
      normalization: options.normalization,
    });
    const shared = pool ? tf.tensor2d(await pool.predict(input.x), [size, classes]) : undefined;
    const [lossTensor, predictedTensor, topTensor] = tf.tidy(() => {
      const output = shared ?? (model.predict(input.x, { batchSize: size }) as tf.Tensor2D);
      const loss = tf.mul(crossEntropy(kind, input.y, output), size);
      const predicted = tf.argMax(output, 1);
      const top = topK > 0 ? tf.topk(output, topK).indices : tf.zeros([0], 'int32');
      return [loss, predicted, top] as const;
    });
    try {
      const [lossValue, predicted, top] = await Promise.all([
        lossTensor.data(),
        predictedTensor.data(),
        topTensor.data(),
      ]);
      lossSum += lossValue[0] ?? 0;
      for (let i = 0; i < size; i++) {
        const actual = input.labels[i] ?? 0;
        const guess = predicted[i] ?? 0;
        if (guess === actual) correct += 1;
        const row = confusion[actual];
        if (row) row[guess] = (row[guess] ?? 0) + 1;
        if (topK > 0) {
          for (let k = 0; k < topK; k++) {
            if (top[i * topK + k] === actual) {
              correctTop5 += 1;
              break;
            }
          }
        }
      }
    } finally {
      tf.dispose([input.x, input.y, lossTensor, predictedTensor, topTensor]);
      shared?.dispose();
    }
    const now = performance.now();
    if (ctx && options.stage && (now - lastProgress > 250 || batch === batches - 1)) {
      lastProgress = now;
      ctx.emit({ type: 'progress', stage: options.stage, done: batch + 1, total: batches });
    }
  }

  const perClassAccuracy = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : (row[i] ?? 0) / total;
  });
  return {
    count: split.count,
    loss: lossSum / Math.max(split.count, 1),
    accuracy: correct / Math.max(split.count, 1),
    ...(topK > 0 ? { top5: correctTop5 / Math.max(split.count, 1) } : {}),
    classNames: options.classNames,
    perClassAccuracy,
    confusion,
  };
}
