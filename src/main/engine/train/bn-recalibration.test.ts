import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../data';
import type { DatasetSplit } from '../data';
import { tf, tfl } from '../tf';
import type { Tensor } from '../tf';
import { Rng } from '../util/rng';
import { recalibrateBatchNorm } from './bn-recalibration';
import { buildDependencyGraph } from '../compress/graph';
import { residualNet, sequentialCnn } from '../compress/test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomSplit(count: number, shape: [number, number, number], seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const size = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(count * size).map(() => rng.nextInt(256));
  const labels = new Uint8Array(count).map(() => rng.nextInt(3));
  return { images, labels, count };
}

describe('recalibrateBatchNorm', () => {
  it('sets each BN to the exact inference-mode statistics of its input, BN by BN', async () => {
    const model = sequentialCnn();
    const split = randomSplit(40, [8, 8, 1], 1);
    const data = {
      split,
      shape: [8, 8, 1] as [number, number, number],
      classes: 3,
      normalization: { scale: 1, offset: 0 },
    };
    const groupsBefore = buildDependencyGraph(model).groups.map((g) => g.id);
    const scaleShift = (): number[][] =>
      model
        .getLayer('bn1')
        .getWeights()
        .slice(0, 2)
        .map((w) => Array.from(w.dataSync()));
    const gammaBeta = scaleShift();
    const result = await recalibrateBatchNorm(model, data, { samples: 40, batchSize: 16 });
    expect(result).toEqual({ layers: 2, samples: 40 });
    // Independently: bn2's input over all 40 samples, with bn1 already recalibrated.
    const x = makeBatch(
      split,
      [8, 8, 1],
      Array.from({ length: 40 }, (_, i) => i),
      3,
    ).x;
    const upToBn2 = tfl.model({
      inputs: model.inputs,
      outputs: model.getLayer('bn2').input as ReturnType<typeof tfl.input>,
    });
    const y = upToBn2.predict(x) as Tensor;
    const { mean, variance } = tf.moments(y, [0, 1, 2]);
    const [, , movingMean, movingVariance] = model.getLayer('bn2').getWeights();
    Array.from(movingMean!.dataSync()).forEach((v, c) => expect(v).toBeCloseTo(mean.dataSync()[c]!, 4));
    Array.from(movingVariance!.dataSync()).forEach((v, c) =>
      expect(v).toBeCloseTo(variance.dataSync()[c]!, 4),
    );
    // Gamma and beta untouched, and the model's graph unchanged (no new nodes on its layers).
    expect(scaleShift()).toEqual(gammaBeta);
    expect(buildDependencyGraph(model).groups.map((g) => g.id)).toEqual(groupsBefore);
  });

  it('after recalibration a BN normalises its input in inference mode (residual model)', async () => {
    const model = residualNet();
    const split = randomSplit(32, [8, 8, 3], 2);
    await recalibrateBatchNorm(
      model,
      { split, shape: [8, 8, 3], classes: 4, normalization: { scale: 2, offset: -1 } },
      { samples: 32 },
    );
    const x = makeBatch(
      split,
      [8, 8, 3],
      Array.from({ length: 32 }, (_, i) => i),
      4,
      { normalization: { scale: 2, offset: -1 } },
    ).x;
    const bn = model.getLayer('block3_bn2');
    const [gamma, beta] = bn.getWeights();
    const out = tfl
      .model({ inputs: model.inputs, outputs: bn.output as ReturnType<typeof tfl.input> })
      .predict(x) as Tensor;
    // (out − β) / γ has mean 0 and variance ≈ 1 (ε = 0.001) per channel.
    const normalised = tf.div(tf.sub(out, beta!), gamma!);
    const { mean, variance } = tf.moments(normalised, [0, 1, 2]);
    mean.dataSync().forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-4));
    variance.dataSync().forEach((v) => expect(v).toBeGreaterThan(0.95));
  });

  it('leaves a model without BN alone', async () => {
    const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [4], units: 2 })] });
    const split = { images: new Uint8Array(8), labels: new Uint8Array(2), count: 2 };
    expect(
      await recalibrateBatchNorm(model, {
        split,
        shape: [2, 2, 1],
        classes: 2,
        normalization: { scale: 1, offset: 0 },
      }),
    ).toEqual({
      layers: 0,
      samples: 0,
    });
  });
});
