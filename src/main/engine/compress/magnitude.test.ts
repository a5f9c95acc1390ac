import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { MagnitudePruner, defaultSchedule, overallSparsity, polynomialSparsity } from './magnitude';
import { residualNet, sampleInputs, sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('polynomial sparsity schedule (Zhu & Gupta 2017)', () => {
  it('goes from the initial to the final sparsity along (1 − progress)³', () => {
    const schedule = { initialSparsity: 0, finalSparsity: 0.8, beginStep: 10, endStep: 110, frequency: 10 };
    expect(polynomialSparsity(0, schedule)).toBe(0);
    expect(polynomialSparsity(10, schedule)).toBe(0);
    expect(polynomialSparsity(60, schedule)).toBeCloseTo(0.8 - 0.8 * 0.125, 12);
    expect(polynomialSparsity(110, schedule)).toBe(0.8);
    expect(polynomialSparsity(500, schedule)).toBe(0.8);
  });

  it('reaches the final sparsity after three quarters of fine-tuning', () => {
    expect(defaultSchedule(0.8, 400)).toEqual({
      initialSparsity: 0,
      finalSparsity: 0.8,
      beginStep: 0,
      endStep: 300,
      frequency: 15,
    });
  });
});

describe('MagnitudePruner', () => {
  it('zeroes the smallest weights of each kernel (per-layer scope)', async () => {
    const model = sequentialCnn();
    const pruner = new MagnitudePruner(model, { scope: 'layer' });
    const kernel = model.getLayer('conv2').getWeights()[0]!.dataSync().map(Math.abs);
    const cutoff = Float32Array.from(kernel).sort()[Math.floor(0.6 * kernel.length) - 1]!;
    await pruner.prune(0.6);
    const report = await pruner.report();
    expect(report.map((r) => [r.layer, r.weight, r.count])).toEqual([
      ['conv1', 'kernel', 54],
      ['conv2', 'kernel', 432],
      ['fc1', 'kernel', 1280],
      ['classifier', 'kernel', 30],
    ]);
    expect(report.map((r) => r.zeros)).toEqual([32, 259, 768, 18]);
    // The survivors are exactly the weights above the cut-off.
    const after = model.getLayer('conv2').getWeights()[0]!.dataSync();
    after.forEach((v, i) => expect(v === 0).toBe(kernel[i]! <= cutoff));
    // Biases are not pruned.
    expect(Array.from(model.getLayer('conv2').getWeights()[1]!.dataSync()).every((v) => v !== 0)).toBe(true);
    pruner.dispose();
  });

  it('ranks all kernels together in global scope', async () => {
    const model = residualNet();
    const pruner = new MagnitudePruner(model, { scope: 'global', ignoredLayers: ['classifier'] });
    await pruner.prune(0.8);
    const report = await pruner.report();
    expect(report.some((r) => r.layer === 'classifier')).toBe(false);
    expect(overallSparsity(report)).toBeCloseTo(0.8, 3);
    // Layers differ: global scope does not give each the same sparsity.
    const sparsities = report.map((r) => r.sparsity);
    expect(Math.max(...sparsities) - Math.min(...sparsities)).toBeGreaterThan(0.05);
    pruner.dispose();
  });

  it('keeps masks through optimizer steps and tightens them on schedule', async () => {
    const model = sequentialCnn();
    const pruner = new MagnitudePruner(model, { scope: 'layer' });
    const schedule = { initialSparsity: 0, finalSparsity: 0.75, beginStep: 0, endStep: 6, frequency: 2 };
    const hooks = pruner.hooks(schedule);
    const optimizer = tf.train.sgd(0.5);
    const x = sampleInputs(model, 8);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
    const seen: number[] = [];
    for (let step = 1; step <= 8; step++) {
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      );
      await hooks.afterStep!(model, step, 8);
      seen.push(Number(overallSparsity(await pruner.report()).toFixed(3)));
    }
    // Updates at steps 2, 4, 6 (s = 0.75·(1 − (1 − t/6)³)); between updates the masks hold.
    const at = (t: number): number => 0.75 * (1 - (1 - t / 6) ** 3);
    expect(seen[0]).toBe(0);
    expect(seen[1]).toBeCloseTo(at(2), 2);
    expect(seen[2]).toBe(seen[1]);
    expect(seen[3]).toBeCloseTo(at(4), 2);
    expect(seen[5]).toBeCloseTo(0.75, 2);
    expect(seen[7]).toBe(seen[5]);
    optimizer.dispose();
    pruner.dispose();
  });

  it('adopts the zeros of a resumed model as masks and continues the schedule from there', async () => {
    const model = sequentialCnn();
    const first = new MagnitudePruner(model, { scope: 'layer' });
    await first.prune(0.5);
    first.dispose();
    // A new pruner (as after a restart) sees only the weights.
    const resumed = new MagnitudePruner(model, { scope: 'layer' });
    const hooks = resumed.hooks({
      initialSparsity: 0,
      finalSparsity: 0.75,
      beginStep: 0,
      endStep: 10,
      frequency: 5,
    });
    await hooks.beforeBatch!(model);
    expect(resumed.sparsity).toBeCloseTo(0.5, 2);
    // Step 3 is between updates: the masks hold the adopted zeros exactly.
    const kernel = model.getLayer('conv2').getWeights()[0]!;
    const zerosBefore = Array.from(kernel.dataSync()).map((v) => v === 0);
    tf.tidy(() => (model.getLayer('conv2').weights[0]!.read() as tf.Variable).assign(tf.add(kernel, 0.01)));
    await hooks.afterStep!(model, 3, 10);
    const after = model.getLayer('conv2').getWeights()[0]!.dataSync();
    after.forEach((v, i) => expect(v === 0).toBe(zerosBefore[i]));
    // Step 5 is an update: s = 0.75·(1 − 0.5³) ≈ 0.656 > 0.5.
    await hooks.afterStep!(model, 5, 10);
    expect(resumed.sparsity).toBeCloseTo(0.75 * (1 - 0.125), 9);
    resumed.dispose();
  });

  it('refuses a model without kernels and an impossible sparsity', async () => {
    const model = sequentialCnn();
    const pruner = new MagnitudePruner(model, { scope: 'layer' });
    await expect(pruner.prune(1)).rejects.toThrow('sparsity must be at least 0 and below 1, got 1');
    expect(
      () =>
        new MagnitudePruner(model, {
          scope: 'layer',
          ignoredLayers: ['conv1', 'conv2', 'fc1', 'classifier'],
        }),
    ).toThrow(/^sequential_\d+: no Conv or Dense kernels to prune$/);
    pruner.dispose();
  });
});
