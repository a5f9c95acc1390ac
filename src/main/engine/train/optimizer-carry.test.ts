import { describe, expect, it } from 'vitest';
import { applyPrunePlan, planPruning } from '../compress/pruner';
import { tf, tfl } from '../tf';
import { FusedAdamOptimizer } from './fused-adam';
import { carryOptimizerState, weightSelections } from './optimizer-carry';

function smallNet(): tfl.LayersModel {
  const input = tfl.input({ shape: [4, 4, 1] });
  let x = tfl.layers
    .conv2d({ name: 'c1', filters: 4, kernelSize: 3, padding: 'same', useBias: false })
    .apply(input);
  x = tfl.layers.batchNormalization({ name: 'bn1' }).apply(x);
  x = tfl.layers.reLU().apply(x);
  x = tfl.layers.flatten().apply(x);
  const out = tfl.layers.dense({ name: 'd', units: 2 }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out });
}

/** Deterministic weights: BN scales 0.9, 0.1, 0.8, 0.2 so channels 1 and 3 are the ones to go. */
function setWeights(model: tfl.LayersModel): void {
  model.setWeights(
    model.weights.map((w, i) => {
      const size = w.shape.reduce((a, b) => (a ?? 1) * (b ?? 1), 1) as number;
      if (w.originalName === 'bn1/gamma')
        return tf.tensor(new Float32Array([0.9, 0.1, 0.8, 0.2]), w.shape as number[]);
      if (w.originalName.endsWith('moving_variance')) return tf.ones(w.shape as number[]);
      return tf.tensor(
        Float32Array.from({ length: size }, (_, k) => Math.sin(k + i)),
        w.shape as number[],
      );
    }),
  );
}

async function oneStep(model: tfl.LayersModel, optimizer: tf.Optimizer): Promise<void> {
  const x = tf.tensor4d(
    Float32Array.from({ length: 2 * 16 }, (_, k) => Math.cos(k)),
    [2, 4, 4, 1],
  );
  const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2);
  optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  await Promise.resolve();
  tf.dispose([x, y]);
}

describe('carryOptimizerState', () => {
  it("slices Adam's m and v like the weights, keeps the step count, and training goes on", async () => {
    const model = smallNet();
    setWeights(model);
    const adam = new FusedAdamOptimizer(0.01);
    await oneStep(model, adam);
    await oneStep(model, adam);
    const before = await adam.getWeights();
    const slot = (suffix: string, original: string): number[] => {
      const name = (model.weights.find((w) => w.originalName === original)!.read() as tf.Variable).name;
      return Array.from(before.find((w) => w.name === `${name}/${suffix}`)!.tensor.dataSync());
    };
    const gammaM = slot('m', 'bn1/gamma');
    const kernelV = slot('v', 'c1/kernel');
    const denseM = slot('m', 'd/kernel');

    const plan = await planPruning(model, { criterion: 'bn', scope: 'global', ratio: 0.5 });
    expect(plan.groups[0]!.removed).toEqual([1, 3]);
    const selections = weightSelections(model, plan);
    const pruned = await applyPrunePlan(model, plan);
    const next = new FusedAdamOptimizer(0.01);
    expect(await carryOptimizerState(adam, next, selections, pruned)).toBe(10);
    // m and v of c1/kernel, bn1/gamma, bn1/beta, d/kernel, d/bias.

    const after = await next.getWeights();
    expect(after[0]!.name).toBe('iter');
    expect(after[0]!.tensor.dataSync()[0]).toBe(2);
    const sliced = (suffix: string, original: string): number[] => {
      const name = (pruned.weights.find((w) => w.originalName === original)!.read() as tf.Variable).name;
      return Array.from(after.find((w) => w.name === `${name}/${suffix}`)!.tensor.dataSync());
    };
    // BN: channels 0 and 2 survive.
    expect(sliced('m', 'bn1/gamma')).toEqual([gammaM[0], gammaM[2]]);
    // Conv kernel [3,3,1,4]: the last axis keeps 0 and 2.
    const keptKernel = kernelV.filter((_, k) => k % 4 === 0 || k % 4 === 2);
    expect(sliced('v', 'c1/kernel')).toEqual(keptKernel);
    expect(keptKernel).toHaveLength(18);
    // Dense kernel [16*4, 2] after flatten: input rows of channels 0 and 2 at each of 16 positions.
    const keptRows = denseM.filter((_, k) => Math.floor(k / 2) % 4 === 0 || Math.floor(k / 2) % 4 === 2);
    expect(sliced('m', 'd/kernel')).toEqual(keptRows);
    expect(keptRows).toHaveLength(64);

    // Training continues with the carried state: one more step counts 3 and moves the weights.
    const kernel = Array.from(pruned.getLayer('c1').getWeights()[0]!.dataSync());
    await oneStep(pruned, next);
    expect((await next.getWeights())[0]!.tensor.dataSync()[0]).toBe(3);
    expect(Array.from(pruned.getLayer('c1').getWeights()[0]!.dataSync())).not.toEqual(kernel);
    adam.dispose();
    next.dispose();
    model.dispose();
    pruned.dispose();
  });

  it('refuses a slot whose weight the pruned model lacks', async () => {
    const model = smallNet();
    setWeights(model);
    const adam = new FusedAdamOptimizer(0.01);
    await oneStep(model, adam);
    const plan = await planPruning(model, { criterion: 'bn', scope: 'global', ratio: 0.5 });
    const pruned = await applyPrunePlan(model, plan);
    await expect(carryOptimizerState(adam, new FusedAdamOptimizer(0.01), new Map(), pruned)).rejects.toThrow(
      /^optimizer slot .*\/m: no matching weight in the pruned model$/,
    );
    adam.dispose();
    model.dispose();
    pruned.dispose();
  });
});
